// Persistence: the SQLite store alone, then the engine across restarts and "crashes".

#include "enginetesting.h"

#include "engine/engine.h"
#include "engine/jobstore_p.h"
#include "jobs/jobjson.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace clipdeck;
using namespace enginetesting;
using engine::Engine;
using engine::EngineSettings;
using engine::JobStore;
using engine::StoredJob;

namespace {
constexpr int JobTimeoutMs = 120000;

Job sampleJob(const QString &id, Status status)
{
    Job job;
    job.id = id;
    job.seq = 5;
    job.kind = QStringLiteral("thumbnails");
    job.input = QStringLiteral("/clips/a.mp4");
    job.params = {{QStringLiteral("count"), 4}};
    job.status = status;
    job.progress = 42.5;
    job.createdAt = QDateTime::fromMSecsSinceEpoch(1767225600000, Qt::UTC);
    job.updatedAt = job.createdAt.addSecs(3);
    return job;
}

// Runs SQL on the file through a connection of its own, as another process would.
QVariant sqlValue(const QString &path, const QString &sql)
{
    QVariant result;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("inspector"));
        db.setDatabaseName(path);
        if (db.open()) {
            QSqlQuery q(db);
            if (q.exec(sql) && q.next())
                result = q.value(0);
        }
    }
    QSqlDatabase::removeDatabase(QStringLiteral("inspector"));
    return result;
}

// What a process killed at this moment leaves on disk: the database and its WAL as they are.
// The engine writes on its own (this) thread, so nothing is half-written while we copy.
bool copyDatabase(const QString &from, const QString &to)
{
    for (const char *suffix : {"", "-wal", "-shm"}) {
        const QString src = from + QLatin1StringView(suffix);
        if (QFile::exists(src) && !QFile::copy(src, to + QLatin1StringView(suffix)))
            return false;
    }
    return true;
}
} // namespace

class TestEngineStore : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;

    QString dbPath() const { return m_dir->filePath(QStringLiteral("jobs.sqlite")); }

    EngineSettings settings(const QString &db)
    {
        EngineSettings s;
        s.databasePath = db;
        s.outputDir = m_dir->filePath(QStringLiteral("out"));
        s.operations = realOperations();
        return s;
    }

private slots:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    // ---- the store alone ----------------------------------------------------------------------

    void storeRoundTrip()
    {
        {
            JobStore store(QStringLiteral("t1"));
            QVERIFY2(store.open(dbPath()), qPrintable(store.errorString()));
            QVERIFY(store.isOpen());
            QVERIFY(
                store.save(StoredJob{sampleJob(QStringLiteral("b"), Status::Pending), QStringLiteral("/out/b"), 2}));
            QVERIFY(store.save(QList<StoredJob>{
                StoredJob{sampleJob(QStringLiteral("a"), Status::Complete), QStringLiteral("/out/a"), 1},
                StoredJob{sampleJob(QStringLiteral("c"), Status::Failed), QStringLiteral("/out/c"), 3}}));
            // Replacing keeps one row.
            Job b2 = sampleJob(QStringLiteral("b"), Status::Running);
            b2.seq = 6;
            QVERIFY(store.save(StoredJob{b2, QStringLiteral("/out/b"), 2}));
            QVERIFY(store.remove(QStringLiteral("c")));
        }
        JobStore store(QStringLiteral("t2"));
        QVERIFY(store.open(dbPath()));
        QStringList warnings;
        const QList<StoredJob> loaded = store.load(&warnings);
        QVERIFY(warnings.isEmpty());
        QCOMPARE(loaded.size(), 2);
        QCOMPARE(loaded[0].job, sampleJob(QStringLiteral("a"), Status::Complete)); // queue order
        QCOMPARE(loaded[0].outputDir, QStringLiteral("/out/a"));
        QCOMPARE(loaded[0].order, quint64(1));
        QCOMPARE(loaded[1].job.seq, 6);
        QCOMPARE(loaded[1].job.status, Status::Running);
    }

    void storeIsWalWithAVersion()
    {
        {
            JobStore store(QStringLiteral("v"));
            QVERIFY(store.open(dbPath()));
        }
        QCOMPARE(sqlValue(dbPath(), QStringLiteral("PRAGMA user_version")).toInt(), JobStore::SchemaVersion);
        QCOMPARE(sqlValue(dbPath(), QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
    }

    void storeRefusesANewerDatabase()
    {
        {
            JobStore store(QStringLiteral("n1"));
            QVERIFY(store.open(dbPath()));
        }
        sqlValue(dbPath(), QStringLiteral("PRAGMA user_version = 99"));
        JobStore store(QStringLiteral("n2"));
        QVERIFY(!store.open(dbPath()));
        QVERIFY2(store.errorString().contains(QStringLiteral("version 99")), qPrintable(store.errorString()));
        QVERIFY(!store.isOpen());
        // And so does the engine, saying why.
        Engine engine(settings(dbPath()));
        QVERIFY(!engine.open());
        QVERIFY(engine.errorString().contains(QStringLiteral("version 99")));
        QVERIFY(engine.submit(QStringLiteral("thumbnails"), fixtures::basicClip(4)).error);
    }

    void storeRefusesAFileThatIsNotADatabase()
    {
        QFile f(dbPath());
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(8192, 'x'));
        f.close();
        JobStore store(QStringLiteral("x"));
        QVERIFY(!store.open(dbPath()));
        QVERIFY2(store.errorString().contains(QStringLiteral("not a database")), qPrintable(store.errorString()));
        QVERIFY(!store.isOpen());
    }

    void storeSkipsUnreadableRows()
    {
        {
            JobStore store(QStringLiteral("u1"));
            QVERIFY(store.open(dbPath()));
            QVERIFY(
                store.save(StoredJob{sampleJob(QStringLiteral("good"), Status::Complete), QStringLiteral("/o"), 1}));
            QVERIFY(store.save(StoredJob{sampleJob(QStringLiteral("bad"), Status::Complete), QStringLiteral("/o"), 2}));
        }
        sqlValue(dbPath(), QStringLiteral("UPDATE jobs SET snapshot = '{\"v\":1,\"jobId\":\"bad\"' WHERE id = 'bad'"));
        JobStore store(QStringLiteral("u2"));
        QVERIFY(store.open(dbPath()));
        QStringList warnings;
        const auto loaded = store.load(&warnings);
        QCOMPARE(loaded.size(), 1);
        QCOMPARE(loaded[0].job.id, QStringLiteral("good"));
        QCOMPARE(warnings.size(), 1);
        QVERIFY2(warnings[0].contains(QStringLiteral("bad")) && warnings[0].contains(QStringLiteral("malformed JSON")),
                 qPrintable(warnings[0]));
    }

    // What one state change costs on the event path (WAL, synchronous=NORMAL): run with
    // `tst_enginestore benchStateWrite`.
    void benchStateWrite()
    {
        JobStore store(QStringLiteral("bench"));
        QVERIFY(store.open(dbPath()));
        StoredJob job{sampleJob(QStringLiteral("bench"), Status::Running), QStringLiteral("/out"), 1};
        QBENCHMARK {
            ++job.job.seq;
            QVERIFY(store.save(job));
        }
    }

    // ---- the engine across restarts -------------------------------------------------------------

    void historySurvivesARestart()
    {
        QList<Job> before;
        QString completeId, canceledId;
        {
            Engine engine(settings(dbPath()));
            EventLog log(engine);
            QVERIFY(engine.open());
            const JobSpec spec = shortJob();
            completeId = engine.submit(spec.kind, spec.input, spec.params, 2).job.value().id;
            QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(completeId), JobTimeoutMs);
            engine.setConcurrency(0, 0);
            canceledId = engine.submit(spec.kind, spec.input, spec.params).job.value().id;
            QVERIFY(!engine.cancel(canceledId));
            before = engine.jobs();
        }
        QCOMPARE(before.size(), 2);
        Engine engine(settings(dbPath()));
        EventLog log(engine);
        QVERIFY(engine.open());
        QCOMPARE(engine.jobs(), before); // the very snapshots: seq, outputs, times
        QVERIFY(log.all.isEmpty());      // finished jobs need no recovery event
        QCOMPARE(engine.job(completeId)->status, Status::Complete);
        // History is usable: retry the canceled one, with its seq going on.
        QVERIFY(!engine.retry(canceledId));
        QCOMPARE(log.last(canceledId)->seq, before[1].seq + 1);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(canceledId), JobTimeoutMs);
        QCOMPARE(log.last(canceledId)->status, Status::Complete);
        QCOMPARE(log.last(canceledId)->attempt, 2);
    }

    void progressIsWrittenInBatches()
    {
        EngineSettings s = settings(dbPath());
        s.persistIntervalMs = 200;
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = longJob();
        const QString id = engine.submit(spec.kind, spec.input, spec.params).job.value().id;
        QTRY_VERIFY_WITH_TIMEOUT(log.last(id)->progress > 0, JobTimeoutMs);
        // Progress reaches the file within a batch interval or so, without a state change.
        auto storedProgress = [&] {
            const auto decoded = jobs::decodeJob(
                sqlValue(dbPath(), QStringLiteral("SELECT snapshot FROM jobs WHERE id = '%1'").arg(id)).toByteArray());
            return decoded.job ? decoded.job->progress : -1.0;
        };
        QTRY_VERIFY_WITH_TIMEOUT(storedProgress() > 0, JobTimeoutMs);
        QVERIFY(!engine.cancel(id));
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
    }

    void crashRecovery()
    {
        // Engine A runs one long job, has a second queued behind it (one slot) and a third
        // held. Its database is copied mid-run: exactly what a process killed then leaves.
        const QString crashed = m_dir->filePath(QStringLiteral("crashed.sqlite"));
        QString runningId, pendingId, heldId, pausedRunId;
        qint64 runningSeq = 0;
        {
            EngineSettings s = settings(dbPath());
            s.lightConcurrency = 1;
            s.heavyConcurrency = 1;
            Engine engine(s);
            EventLog log(engine);
            QVERIFY(engine.open());
            const JobSpec longSpec = longJob();
            const JobSpec shortSpec = shortJob();
            runningId =
                engine.submit(longSpec.kind, longSpec.input, longSpec.params, 9, m_dir->filePath(QStringLiteral("o1")))
                    .job.value()
                    .id;
            // The same kind, so it shares the running job's pool and waits for its slot.
            pendingId =
                engine.submit(longSpec.kind, longSpec.input, longSpec.params, 0, m_dir->filePath(QStringLiteral("o2")))
                    .job.value()
                    .id;
            heldId =
                engine
                    .submit(shortSpec.kind, shortSpec.input, shortSpec.params, 0, m_dir->filePath(QStringLiteral("o3")))
                    .job.value()
                    .id;
            QVERIFY(!engine.pause(heldId));
            QTRY_VERIFY_WITH_TIMEOUT(log.last(runningId)->progress > 0, JobTimeoutMs);
            QCOMPARE(engine.job(pendingId)->status, Status::Pending);
            runningSeq = log.last(runningId)->seq;
            QVERIFY(copyDatabase(dbPath(), crashed));
        }
        Engine engine(settings(crashed));
        EventLog log(engine);
        QVERIFY(engine.open());
        // The running job comes back failed, interrupted, as the next event of its stream.
        const Job interrupted = *log.last(runningId);
        QCOMPARE(interrupted.status, Status::Failed);
        QCOMPARE(interrupted.error->code, QStringLiteral("interrupted"));
        QVERIFY2(interrupted.error->message.contains(QStringLiteral("stopped")),
                 qPrintable(interrupted.error->message));
        QVERIFY(interrupted.seq > 1);
        QVERIFY(interrupted.seq <= runningSeq + 1); // progress may have been a batch behind
        QVERIFY(interrupted.finishedAt.isValid());
        QCOMPARE(log.of(runningId).size(), 1);
        // The pending job starts and completes; the held one stays held.
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(pendingId), JobTimeoutMs);
        QCOMPARE(log.last(pendingId)->status, Status::Complete);
        QCOMPARE(engine.job(heldId)->status, Status::Paused);
        QVERIFY(!engine.job(heldId)->startedAt.isValid());
        // The interrupted job can be retried, with its seq going on.
        QVERIFY(!engine.retry(runningId));
        QCOMPARE(log.last(runningId)->seq, interrupted.seq + 1);
        QCOMPARE(log.last(runningId)->attempt, 2);
        QVERIFY(!engine.cancel(runningId) || log.isTerminal(runningId));
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(runningId), JobTimeoutMs);
        QVERIFY2(checkStream(log.of(runningId)).isEmpty(), qPrintable(checkStream(log.of(runningId))));
    }

    void pausedMidRunAtCrashIsInterrupted()
    {
        const QString crashed = m_dir->filePath(QStringLiteral("crashed.sqlite"));
        QString id;
        {
            Engine engine(settings(dbPath()));
            EventLog log(engine);
            QVERIFY(engine.open());
            const JobSpec spec = longJob();
            id = engine.submit(spec.kind, spec.input, spec.params).job.value().id;
            QTRY_VERIFY_WITH_TIMEOUT(log.last(id)->progress > 0, JobTimeoutMs);
            QVERIFY(!engine.pause(id));
            QVERIFY(copyDatabase(dbPath(), crashed));
        }
        Engine engine(settings(crashed));
        QVERIFY(engine.open());
        QCOMPARE(engine.job(id)->status, Status::Failed);
        QCOMPARE(engine.job(id)->error->code, QStringLiteral("interrupted"));
    }

    void cleanShutdownRecordsInterruptedJobs()
    {
        QString id;
        qint64 lastSeq = 0;
        {
            Engine engine(settings(dbPath()));
            EventLog log(engine);
            QVERIFY(engine.open());
            const JobSpec spec = longJob();
            id = engine.submit(spec.kind, spec.input, spec.params).job.value().id;
            QTRY_VERIFY_WITH_TIMEOUT(log.last(id)->progress > 0, JobTimeoutMs);
            engine.shutdown();
            QCOMPARE(log.last(id)->error->code, QStringLiteral("interrupted"));
            lastSeq = log.last(id)->seq;
            QVERIFY(engine.submit(spec.kind, spec.input, spec.params).error); // closed now
        }
        Engine engine(settings(dbPath()));
        EventLog log(engine);
        QVERIFY(engine.open());
        QVERIFY(log.all.isEmpty()); // already recorded as failed: nothing to recover
        QCOMPARE(engine.job(id)->seq, lastSeq);
        QCOMPARE(engine.job(id)->status, Status::Failed);
    }
};

QTEST_GUILESS_MAIN(TestEngineStore)
#include "tst_enginestore.moc"
