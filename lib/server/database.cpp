#include "server/database.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <atomic>

namespace clipdeck::server {

Database::Database()
{
    static std::atomic<int> instances{0};
    m_connectionName = QStringLiteral("clipdeck-server-%1").arg(++instances);
}

Database::~Database()
{
    close();
}

QSqlDatabase Database::handle() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

bool Database::open(const QString &path)
{
    close();
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE"))) {
        m_error = QStringLiteral("the Qt SQLite driver (QSQLITE) is not installed");
        return false;
    }
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=2000"));
        if (!db.open()) {
            m_error = QStringLiteral("cannot open %1: %2").arg(path, db.lastError().text());
            return false;
        }
    }
    QSqlQuery q(handle());
    // WAL and synchronous=NORMAL, as the engine's store: writes never wait for the disk.
    if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !q.exec(QStringLiteral("PRAGMA synchronous=NORMAL"))) {
        m_error = QStringLiteral("cannot use %1: %2").arg(path, q.lastError().text());
        q.finish();
        close();
        return false;
    }
    q.finish();
    if (!migrate()) {
        const QString error = m_error;
        close();
        m_error = error;
        return false;
    }
    return true;
}

bool Database::migrate()
{
    QSqlDatabase db = handle();
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next()) {
        m_error = QStringLiteral("cannot read the server database version: %1").arg(q.lastError().text());
        return false;
    }
    const int version = q.value(0).toInt();
    q.finish();
    if (version > SchemaVersion) {
        m_error = QStringLiteral("the server database is from a newer clipdeck-server (schema %1, this one knows %2)")
                      .arg(version)
                      .arg(SchemaVersion);
        return false;
    }
    if (version == SchemaVersion)
        return true;
    // Each step and its version bump in one transaction: a crash leaves the old version whole.
    if (!db.transaction()) {
        m_error = db.lastError().text();
        return false;
    }
    const char *const steps[] = {
        "CREATE TABLE IF NOT EXISTS media ("
        " id TEXT PRIMARY KEY NOT NULL,"
        " owner TEXT NOT NULL,"
        " name TEXT NOT NULL,"
        " file TEXT NOT NULL,"
        " size INTEGER NOT NULL,"
        " sha256 TEXT NOT NULL,"
        " probe TEXT NOT NULL,"
        " created TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS media_owner ON media(owner)",
        "CREATE TABLE IF NOT EXISTS job_owners ("
        " job_id TEXT PRIMARY KEY NOT NULL,"
        " owner TEXT NOT NULL,"
        " output_dir TEXT NOT NULL)",
        "PRAGMA user_version = 1",
    };
    for (const char *sql : steps) {
        if (!q.exec(QString::fromLatin1(sql))) {
            m_error = QStringLiteral("cannot create the server database: %1").arg(q.lastError().text());
            db.rollback();
            return false;
        }
    }
    if (!db.commit()) {
        m_error = db.lastError().text();
        return false;
    }
    return true;
}

void Database::close()
{
    if (!QSqlDatabase::contains(m_connectionName))
        return;
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

} // namespace clipdeck::server
