// Persistence: the SQLite store alone, then the engine across restarts and "crashes".

#include "enginetesting.h"

#include "engine/engine.h"
#include "engine/jobstore_p.h"
#include "jobs/jobjson.h"
#include "livepartial.h"

#include <QFile>
#include <QFileInfo>
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
            QVERIFY(store.save(StoredJob{b2, QStringLiteral("/out/b"), 2, 70}));
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
        QCOMPARE(loaded[1].seqReserved, 70);
        QCOMPARE(loaded[0].seqReserved, 0);
    }

    // A file of layout version 1 (no seq reservation) is brought up to date in place, its rows
    // kept. A job it had running comes back above anything the old engine can have emitted
    // unwritten (a block).
    void storeMigratesVersion1()
    {
        Job running = sampleJob(QStringLiteral("r"), Status::Running);
        running.startedAt = running.createdAt;
        running.seq = 40;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1"));
            db.setDatabaseName(dbPath());
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("CREATE TABLE jobs (id TEXT PRIMARY KEY NOT NULL, queue_order INTEGER NOT "
                                          "NULL, output_dir TEXT NOT NULL, snapshot TEXT NOT NULL)")));
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version = 1")));
            q.prepare(QStringLiteral("INSERT INTO jobs VALUES (?, ?, ?, ?)"));
            for (const Job &j : {running, sampleJob(QStringLiteral("c"), Status::Complete)}) {
                q.addBindValue(j.id);
                q.addBindValue(j.id == QStringLiteral("r") ? 1 : 2);
                q.addBindValue(m_dir->filePath(QStringLiteral("out")));
                q.addBindValue(QString::fromUtf8(jobs::encodeJob(j)));
                QVERIFY(q.exec());
            }
        }
        QSqlDatabase::removeDatabase(QStringLiteral("v1"));

        Engine engine(settings(dbPath()));
        EventLog log(engine);
        QVERIFY2(engine.open(), qPrintable(engine.errorString()));
        QCOMPARE(sqlValue(dbPath(), QStringLiteral("PRAGMA user_version")).toInt(), JobStore::SchemaVersion);
        QCOMPARE(log.all.size(), 1);
        QCOMPARE(log.all.first().id, QStringLiteral("r"));
        QCOMPARE(log.all.first().error->code, QStringLiteral("interrupted"));
        QCOMPARE(log.all.first().seq, 40 + 64 + 1);
        QCOMPARE(engine.job(QStringLiteral("c"))->seq, 5); // not running: nothing went unwritten
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

    // The rule behind "seq never goes back" (jobstore_p.h): when an event is emitted, the file
    // already holds a reservation at or above its seq, as another process reading the file sees
    // it. And it is reserved in blocks: progress events mostly write nothing.
    void everyEmittedSeqIsReservedFirst()
    {
        EngineSettings s = settings(dbPath());
        s.progressIntervalMs = 0;     // as many events as the operation reports
        s.persistIntervalMs = 600000; // and no batch writes: only the reservations
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        QString failure;
        QList<qint64> reservations;
        log.onEvent = [&](const Job &job) {
            if (job.seq == 1)
                return; // a new job's first event goes out just before its row is written (engine.h)
            const QVariant stored =
                sqlValue(dbPath(), QStringLiteral("SELECT seq_reserved FROM jobs WHERE id = '%1'").arg(job.id));
            if (!stored.isValid() || stored.toLongLong() < job.seq) {
                if (failure.isEmpty())
                    failure = QStringLiteral("seq %1 was emitted with %2 reserved").arg(job.seq).arg(stored.toString());
            }
            if (reservations.isEmpty() || reservations.last() != stored.toLongLong())
                reservations.append(stored.toLongLong());
        };
        // A minute of video: a few hundred progress reports.
        const QString id = engine.submit(QStringLiteral("transcode"), fixtures::basicClip(60)).job.value().id;
        QVERIFY(sqlValue(dbPath(), QStringLiteral("SELECT seq_reserved FROM jobs WHERE id = '%1'").arg(id)).isValid());
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        QCOMPARE(log.last(id)->status, Status::Complete);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        const qsizetype events = log.of(id).size();
        qInfo("%lld events, %lld reservations written", qint64(events), qint64(reservations.size()));
        QVERIFY2(events > 2 * 64 + 3, "the job should report progress often enough to need several reservations");
        // pending, running and complete write; the rest is one write per block of 64 events.
        QVERIFY2(reservations.size() <= 3 + events / 64 + 1,
                 qPrintable(QStringLiteral("%1 writes for %2 events").arg(reservations.size()).arg(events)));
        // Once finished, nothing is reserved ahead: a clean restart goes on at seq + 1.
        QCOMPARE(
            sqlValue(dbPath(), QStringLiteral("SELECT seq_reserved FROM jobs WHERE id = '%1'").arg(id)).toLongLong(),
            log.last(id)->seq);
    }

    // A state change is in the file before anyone hears of it: a crash cannot take back a state
    // a watcher was told of (a canceled job coming back pending and running anyway).
    void stateChangesAreWrittenBeforeTheyAreEmitted()
    {
        Engine engine(settings(dbPath()));
        EventLog log(engine);
        QVERIFY(engine.open());
        QString failure;
        Status previous = Status::Pending;
        log.onEvent = [&](const Job &job) {
            // A new job's first event (seq 1) goes out just before its row is written (engine.h).
            const bool change = job.seq > 1 && job.status != previous;
            previous = job.status;
            if (!change || !failure.isEmpty())
                return;
            const auto stored = jobs::decodeJob(
                sqlValue(dbPath(), QStringLiteral("SELECT snapshot FROM jobs WHERE id = '%1'").arg(job.id))
                    .toByteArray());
            if (!stored.job || stored.job->seq != job.seq || stored.job->status != job.status)
                failure = QStringLiteral("%1 (seq %2) was emitted before it was written")
                              .arg(QString(jobs::statusName(job.status)))
                              .arg(job.seq);
        };
        const JobSpec spec = longJob();
        const QString id = engine.submit(spec.kind, spec.input, spec.params).job.value().id;
        QVERIFY(sqlValue(dbPath(), QStringLiteral("SELECT id FROM jobs WHERE id = '%1'").arg(id)).isValid());
        QTRY_VERIFY_WITH_TIMEOUT(log.last(id)->progress > 0, JobTimeoutMs);
        QVERIFY(!engine.pause(id));
        QVERIFY(!engine.resume(id));
        QVERIFY(!engine.cancel(id));
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        QVERIFY(!engine.retry(id));
        QVERIFY(!engine.cancel(id) || log.isTerminal(id));
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        QVERIFY(log.transitionsTo(id, Status::Canceled) == 2);
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
        // Progress is written in batches, so the copy may be behind what was emitted; the seq goes
        // on above everything emitted all the same (the reservation).
        QVERIFY2(interrupted.seq > runningSeq,
                 qPrintable(QStringLiteral("seq %1 after the crash, %2 before").arg(interrupted.seq).arg(runningSeq)));
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

    // A killed attempt's partial files (here: the file a killed process leaves, unlocked, under
    // the name the operation gives it) go when the engine opens; a partial file that a live writer
    // holds (locked) stays, and so does everything that is not this job's partial output. The
    // retry then writes the job's own names.
    void openRemovesWhatInterruptedAttemptsLeft()
    {
        const QString crashed = m_dir->filePath(QStringLiteral("crashed.sqlite"));
        const QString out = m_dir->filePath(QStringLiteral("o1"));
        const JobSpec spec = longJob();
        const QString base = QFileInfo(spec.input).completeBaseName();
        QString id;
        {
            Engine engine(settings(dbPath()));
            EventLog log(engine);
            QVERIFY(engine.open());
            id = engine.submit(spec.kind, spec.input, spec.params, 0, out).job.value().id;
            QTRY_VERIFY_WITH_TIMEOUT(log.last(id)->progress > 0, JobTimeoutMs);
            QVERIFY(copyDatabase(dbPath(), crashed));
        }
        QCOMPARE(filesIn(out), QStringList()); // the clean shutdown removed its own
        auto make = [&](const QString &name) {
            QFile f(QDir(out).filePath(name));
            return f.open(QIODevice::WriteOnly) && f.write("left behind") > 0;
        };
        const QString extension =
            spec.kind == QStringLiteral("transcode") ? QStringLiteral("mp4") : QStringLiteral("json");
        const QString stale = QStringLiteral(".%1.partial.%2").arg(base, extension);
        const QString staleOtherStem = QStringLiteral(".%1-2.contact.partial.jpg").arg(base);
        const QString live = QStringLiteral(".%1.poster.partial.jpg").arg(base);
        const QString otherJobs = QStringLiteral(".another-clip.partial.mp4");
        for (const QString &name : {stale, staleOtherStem, live, otherJobs, QStringLiteral("notes.txt")})
            QVERIFY(make(name));
        fixtures::LivePartial writer(QDir(out).filePath(live)); // another job, still writing it
        QVERIFY(writer.isHeld());

        Engine engine(settings(crashed));
        EventLog log(engine);
        QVERIFY(engine.open());
        QCOMPARE(engine.job(id)->error->code, QStringLiteral("interrupted"));
        QStringList kept{live, otherJobs, QStringLiteral("notes.txt")};
        kept.sort();
        QCOMPARE(filesIn(out), kept);
        QVERIFY(!engine.retry(id));
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        const Job done = *log.last(id);
        QCOMPARE(done.status, Status::Complete);
        QCOMPARE(QFileInfo(done.outputs.first().path).completeBaseName(), base); // not base-2
        writer.release();
        QVERIFY(!engine.remove(id));
        QVERIFY(QFileInfo::exists(done.outputs.first().path)); // a removed job's outputs stay
        QVERIFY(!QFileInfo::exists(QDir(out).filePath(live))); // stale now: removed with the job
        QVERIFY(QFileInfo::exists(QDir(out).filePath(otherJobs)));
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
