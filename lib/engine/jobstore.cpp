#include "engine/jobstore_p.h"

#include "jobs/jobjson.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <array>

namespace clipdeck::engine {

namespace {

// Migration hook: step i takes a database from user_version i to i + 1. Each step runs in the
// same transaction as the version bump, so a crash mid-migration leaves the old version intact.
// To change the layout, append a step and raise JobStore::SchemaVersion.
using Migration = bool (*)(QSqlDatabase &db, QString *error);

bool createVersion1(QSqlDatabase &db, QString *error)
{
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS jobs ("
                               " id TEXT PRIMARY KEY NOT NULL,"
                               " queue_order INTEGER NOT NULL,"
                               " output_dir TEXT NOT NULL,"
                               " snapshot TEXT NOT NULL)"))) {
        *error = q.lastError().text();
        return false;
    }
    return true;
}

// Version 2: the seq reservation (jobstore_p.h). Rows from before it have none (0).
bool addSeqReservation(QSqlDatabase &db, QString *error)
{
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("ALTER TABLE jobs ADD COLUMN seq_reserved INTEGER NOT NULL DEFAULT 0"))) {
        *error = q.lastError().text();
        return false;
    }
    return true;
}

constexpr std::array<Migration, JobStore::SchemaVersion> migrations{createVersion1, addSeqReservation};

} // namespace

JobStore::JobStore(QString connectionName) : m_connectionName(std::move(connectionName)) { }

JobStore::~JobStore()
{
    close();
}

bool JobStore::fail(const QString &what, const QString &detail)
{
    m_error = detail.isEmpty() ? what : what + QStringLiteral(": ") + detail;
    return false;
}

bool JobStore::isOpen() const
{
    return QSqlDatabase::contains(m_connectionName) && QSqlDatabase::database(m_connectionName, false).isOpen();
}

bool JobStore::open(const QString &path)
{
    close();
    m_error.clear();
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
        return fail(QStringLiteral("the Qt SQLite driver (QSQLITE) is not installed"), QString());
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
        db.setDatabaseName(path);
        // Another process (or a second engine by mistake) holding a write lock: wait a little
        // rather than fail at once.
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=2000"));
        if (!db.open())
            return fail(QStringLiteral("cannot open the job database %1").arg(path), db.lastError().text());
    }
    // WAL: readers never block the writer; synchronous=NORMAL: a commit does not wait for the
    // disk (a power cut may lose the last moments, never corrupt the file), which keeps state
    // writes off the event path's critical time.
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !q.next()) {
        // The first statement that reads the file: this is where "not a database" shows.
        const QString detail = q.lastError().text();
        q.finish();
        close();
        return fail(QStringLiteral("cannot use the job database %1").arg(path), detail);
    }
    if (q.value(0).toString().compare(u"wal", Qt::CaseInsensitive) != 0) {
        // Some file systems cannot do WAL; the default journal is slower but correct.
        qWarning("clipdeck engine: the job database %s is not in WAL mode", qPrintable(path));
    }
    q.finish();
    if (!exec(QStringLiteral("PRAGMA synchronous=NORMAL")) || !migrate()) {
        const QString error = m_error;
        close();
        m_error = error;
        return false;
    }
    return true;
}

void JobStore::close()
{
    m_upsert.reset();
    if (!QSqlDatabase::contains(m_connectionName))
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        db.close();
    } // the handle must be gone before the connection is removed
    QSqlDatabase::removeDatabase(m_connectionName);
}

bool JobStore::exec(const QString &sql)
{
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    if (!q.exec(sql))
        return fail(QStringLiteral("job database: \"%1\" failed").arg(sql), q.lastError().text());
    return true;
}

bool JobStore::migrate()
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next())
        return fail(QStringLiteral("cannot read the job database's version"), q.lastError().text());
    const int version = q.value(0).toInt();
    q.finish();
    if (version > SchemaVersion) {
        return fail(QStringLiteral("the job database has layout version %1, newer than this version of Clipdeck "
                                   "understands (%2)")
                        .arg(version)
                        .arg(SchemaVersion),
                    QString());
    }
    for (int v = version; v < SchemaVersion; ++v) {
        if (!db.transaction())
            return fail(QStringLiteral("cannot start a migration"), db.lastError().text());
        QString error;
        if (!migrations[std::size_t(v)](db, &error) || !q.exec(QStringLiteral("PRAGMA user_version = %1").arg(v + 1))) {
            if (error.isEmpty())
                error = q.lastError().text();
            db.rollback();
            return fail(QStringLiteral("cannot migrate the job database to version %1").arg(v + 1), error);
        }
        if (!db.commit())
            return fail(QStringLiteral("cannot commit a migration"), db.lastError().text());
    }
    return true;
}

QList<StoredJob> JobStore::load(QStringList *warnings)
{
    QList<StoredJob> result;
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral(
            "SELECT id, queue_order, output_dir, snapshot, seq_reserved FROM jobs ORDER BY queue_order"))) {
        fail(QStringLiteral("cannot read the jobs"), q.lastError().text());
        if (warnings)
            warnings->append(m_error);
        return result;
    }
    while (q.next()) {
        const QString id = q.value(0).toString();
        jobs::JobDecodeResult decoded = jobs::decodeJob(q.value(3).toByteArray());
        if (!decoded.job || decoded.job->id != id) {
            if (warnings)
                warnings->append(
                    QStringLiteral("job %1 is unreadable and was skipped: %2")
                        .arg(id, decoded.job ? QStringLiteral("its snapshot has another id") : decoded.error));
            continue;
        }
        result.append(StoredJob{std::move(*decoded.job), q.value(2).toString(), q.value(1).toULongLong(),
                                q.value(4).toLongLong()});
    }
    return result;
}

bool JobStore::writeRow(const StoredJob &job)
{
    if (!m_upsert) {
        m_upsert = std::make_unique<QSqlQuery>(QSqlDatabase::database(m_connectionName, false));
        if (!m_upsert->prepare(QStringLiteral("INSERT OR REPLACE INTO jobs (id, queue_order, output_dir, snapshot, "
                                              "seq_reserved) VALUES (?, ?, ?, ?, ?)"))) {
            const QString detail = m_upsert->lastError().text();
            m_upsert.reset();
            return fail(QStringLiteral("cannot prepare the job update"), detail);
        }
    }
    QSqlQuery &q = *m_upsert;
    q.bindValue(0, job.job.id);
    q.bindValue(1, qint64(job.order));
    q.bindValue(2, job.outputDir);
    q.bindValue(3, QString::fromUtf8(jobs::encodeJob(job.job)));
    q.bindValue(4, job.seqReserved);
    const bool ok = q.exec();
    q.finish();
    if (!ok)
        return fail(QStringLiteral("cannot save job %1").arg(job.job.id), q.lastError().text());
    return true;
}

bool JobStore::save(const StoredJob &job)
{
    return writeRow(job);
}

bool JobStore::save(const QList<StoredJob> &jobs)
{
    if (jobs.isEmpty())
        return true;
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    if (!db.transaction())
        return fail(QStringLiteral("cannot start a transaction"), db.lastError().text());
    for (const StoredJob &job : jobs) {
        if (!writeRow(job)) {
            db.rollback();
            return false;
        }
    }
    if (!db.commit())
        return fail(QStringLiteral("cannot commit"), db.lastError().text());
    return true;
}

bool JobStore::remove(const QString &id)
{
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    q.prepare(QStringLiteral("DELETE FROM jobs WHERE id = ?"));
    q.addBindValue(id);
    if (!q.exec())
        return fail(QStringLiteral("cannot remove job %1").arg(id), q.lastError().text());
    return true;
}

} // namespace clipdeck::engine
