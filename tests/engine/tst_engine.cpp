// The local engine, end to end, with real media operations on generated clips.

#include "enginetesting.h"

#include "engine/engine.h"
#include "jobs/job.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace clipdeck;
using namespace enginetesting;
using engine::Engine;
using engine::EngineSettings;

namespace {
constexpr int JobTimeoutMs = 120000; // generous: CI machines are slow and shared
} // namespace

class TestEngine : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;

    EngineSettings settings()
    {
        EngineSettings s;
        s.databasePath = m_dir->filePath(QStringLiteral("jobs.sqlite"));
        s.outputDir = m_dir->filePath(QStringLiteral("out"));
        s.operations = realOperations();
        s.heavyConcurrency = 1;
        s.lightConcurrency = 2;
        return s;
    }

    // A job's own output folder, so "left nothing behind" can be checked per job.
    QString outDir(const QString &name) { return m_dir->filePath(QStringLiteral("out-") + name); }

private slots:
    void initTestCase()
    {
        // Generate the clips up front so the first test's timing is not the generator's.
        QVERIFY(!fixtures::basicClip(4).isEmpty());
        QVERIFY(!longJob().input.isEmpty());
    }

    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void refusedSubmissions()
    {
        Engine engine(settings());
        // Not open yet.
        auto r = engine.submit(QStringLiteral("thumbnails"), fixtures::basicClip(4));
        QVERIFY(!r.job);
        QCOMPARE(r.error->code, QString(jobs::errors::InvalidState));
        QVERIFY(engine.open());
        EventLog log(engine);

        r = engine.submit(QStringLiteral("teleport"), fixtures::basicClip(4));
        QVERIFY(!r.job);
        QCOMPARE(r.error->code, QStringLiteral("unknown_kind"));
        QVERIFY2(r.error->message.contains(QStringLiteral("teleport")), qPrintable(r.error->message));

        r = engine.submit(QStringLiteral("thumbnails"), fixtures::basicClip(4), {{QStringLiteral("count"), 0}});
        QVERIFY(!r.job);
        QCOMPARE(r.error->code, QStringLiteral("invalid_params"));

        r = engine.submit(QStringLiteral("thumbnails"), QString());
        QVERIFY(!r.job);
        QCOMPARE(r.error->code, QStringLiteral("invalid_params"));

        QVERIFY(log.all.isEmpty()); // a refused submission makes no job and no event
        QVERIFY(engine.jobs().isEmpty());
    }

    void runsToComplete()
    {
        Engine engine(settings());
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = shortJob();
        const auto r = engine.submit(spec.kind, spec.input, spec.params, 3, outDir(QStringLiteral("a")));
        QVERIFY2(r.job, r.error ? qPrintable(r.error->message) : "");
        const QString id = r.job->id;

        // The first snapshot: emitted before submit returned, and returned.
        QCOMPARE(log.of(id).size(), 1);
        QCOMPARE(log.of(id).first(), *r.job);
        QCOMPARE(r.job->seq, 1);
        QCOMPARE(r.job->status, Status::Pending);
        QCOMPARE(r.job->attempt, 1);
        QCOMPARE(r.job->priority, 3);
        QCOMPARE(r.job->params, spec.params);
        QVERIFY(r.job->createdAt.isValid());
        QVERIFY(!r.job->startedAt.isValid());

        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        const QList<Job> events = log.of(id);
        QVERIFY2(checkStream(events).isEmpty(), qPrintable(checkStream(events)));
        QCOMPARE(events[1].status, Status::Running);
        QVERIFY(events[1].startedAt.isValid());
        const Job &last = events.last();
        QVERIFY2(last.status == Status::Complete, qPrintable(last.error ? last.error->message : QString()));
        QCOMPARE(last.progress, 100.0);
        QVERIFY(!last.error);
        QVERIFY(!last.etaSeconds);
        QVERIFY(!last.speed);
        QVERIFY(last.finishedAt >= last.startedAt);
        // Outputs: 4 thumbnails, a contact sheet and a poster, all on disk with their sizes.
        QCOMPARE(last.outputs.size(), 6);
        for (const jobs::Output &o : last.outputs) {
            const QFileInfo info(o.path);
            QVERIFY2(info.exists(), qPrintable(o.path));
            QCOMPARE(info.fileName(), o.name);
            QCOMPARE(info.absolutePath(), outDir(QStringLiteral("a")));
            QCOMPARE(o.size, info.size());
            QVERIFY(o.size > 0);
            QCOMPARE(o.mime, QStringLiteral("image/jpeg"));
            QVERIFY(!o.role.isEmpty());
        }
        // On demand: exactly the last event.
        QCOMPARE(engine.job(id), std::optional<Job>(last));
        QCOMPARE(engine.jobs(), QList<Job>{last});
    }

    void reentrantActionsKeepOrderForEverySubscriber()
    {
        // The first subscriber cancels the job from inside its first event; the second
        // subscriber, called after it, must still see seq 1 before seq 2.
        EngineSettings s = settings();
        s.lightConcurrency = 0;
        Engine engine(s);
        EventLog first(engine);
        EventLog second(engine);
        QVERIFY(engine.open());
        first.onEvent = [&](const Job &j) {
            if (j.status == Status::Pending)
                QVERIFY(!engine.cancel(j.id));
        };
        const JobSpec spec = shortJob();
        const auto r = engine.submit(spec.kind, spec.input, spec.params);
        QVERIFY(r.job);
        QCOMPARE(r.job->seq, 1);
        QCOMPARE(engine.job(r.job->id)->seq, 2);
        for (const EventLog *log : {&first, &second}) {
            const QList<Job> events = log->of(r.job->id);
            QCOMPARE(events.size(), 2);
            QVERIFY2(checkStream(events).isEmpty(), qPrintable(checkStream(events)));
            QCOMPARE(events[1].status, Status::Canceled);
        }
    }

    void progressIsThrottled()
    {
        Engine engine(settings());
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = longJob();
        const auto r = engine.submit(spec.kind, spec.input, spec.params, 0, outDir(QStringLiteral("t")));
        QVERIFY(r.job);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(r.job->id), JobTimeoutMs);
        const QList<Job> events = log.of(r.job->id);
        QVERIFY2(checkStream(events).isEmpty(), qPrintable(checkStream(events)));
        QCOMPARE(events.last().status, Status::Complete);

        // Progress events (running -> running) happened, but no more than one per 100 ms of the
        // run (plus the edges): counted against how long the run took, so a slow machine only
        // makes fewer.
        const QList<qint64> at = log.receivedAtMs.value(r.job->id);
        qsizetype progressEvents = 0;
        for (qsizetype i = 2; i < events.size(); ++i)
            progressEvents += events[i].status == Status::Running && events[i - 1].status == Status::Running;
        const qint64 runMs = at.last() - at[1];
        QVERIFY2(progressEvents >= 1, "a run of seconds reports progress");
        QVERIFY2(progressEvents <= runMs / 100 + 2,
                 qPrintable(QStringLiteral("%1 progress events in %2 ms").arg(progressEvents).arg(runMs)));
        // Something to show while it ran: a stage, and at some point an ETA and a speed.
        bool sawEta = false, sawSpeed = false, sawStage = false;
        for (const Job &j : events) {
            sawEta |= j.etaSeconds.has_value();
            sawSpeed |= j.speed.has_value();
            sawStage |= !j.stage.isEmpty();
        }
        QVERIFY(sawStage);
        QVERIFY(sawEta);
        QVERIFY(sawSpeed);
    }

    void cancelRunning()
    {
        Engine engine(settings());
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = longJob();
        const QString out = outDir(QStringLiteral("c"));
        const auto r = engine.submit(spec.kind, spec.input, spec.params, 0, out);
        QVERIFY(r.job);
        const QString id = r.job->id;
        // Cancel from inside the first progress event: the job is certainly mid-run.
        bool canceled = false;
        log.onEvent = [&](const Job &j) {
            if (j.id == id && j.status == Status::Running && j.progress > 0 && !canceled) {
                canceled = true;
                QVERIFY(!engine.cancel(id));
            }
        };
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        const QList<Job> events = log.of(id);
        QVERIFY2(checkStream(events).isEmpty(), qPrintable(checkStream(events)));
        QCOMPARE(events.last().status, Status::Canceled);
        QVERIFY(!events.last().error);
        QVERIFY(events.last().outputs.isEmpty());
        QVERIFY(events.last().progress < 100);
        QVERIFY2(filesIn(out).isEmpty(), qPrintable(filesIn(out).join(u' ')));
        // Canceling again is refused: it is over.
        QCOMPARE(engine.cancel(id)->code, QString(jobs::errors::InvalidState));
        QCOMPARE(engine.cancel(QStringLiteral("no-such-job"))->code, QString(jobs::errors::NotFound));
    }

    void cancelPending()
    {
        EngineSettings s = settings();
        s.lightConcurrency = 0; // nothing starts
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = shortJob();
        const auto r = engine.submit(spec.kind, spec.input, spec.params);
        QVERIFY(r.job);
        QVERIFY(!engine.cancel(r.job->id));
        // At once, without running.
        QCOMPARE(log.of(r.job->id).size(), 2);
        QCOMPARE(log.last(r.job->id)->status, Status::Canceled);
        QVERIFY(!log.last(r.job->id)->startedAt.isValid());
        QVERIFY(log.last(r.job->id)->finishedAt.isValid());
        engine.setConcurrency(1, 1);
        QTest::qWait(200); // a canceled job must not start when slots open
        QCOMPARE(log.of(r.job->id).size(), 2);
    }

    void pauseAndResumeRunning()
    {
        Engine engine(settings());
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = longJob();
        const QString out = outDir(QStringLiteral("p"));
        const auto r = engine.submit(spec.kind, spec.input, spec.params, 0, out);
        QVERIFY(r.job);
        const QString id = r.job->id;
        bool paused = false;
        log.onEvent = [&](const Job &j) {
            if (j.id == id && j.status == Status::Running && j.progress > 0 && !paused) {
                paused = true;
                QVERIFY(!engine.pause(id));
            }
        };
        QTRY_VERIFY_WITH_TIMEOUT(paused, JobTimeoutMs);
        // "paused" was emitted at once, from inside pause().
        QCOMPARE(log.last(id)->status, Status::Paused);
        QCOMPARE(engine.job(id)->status, Status::Paused);
        QVERIFY(!log.last(id)->speed); // nothing is being processed
        const qsizetype eventsWhenPaused = log.of(id).size();
        const double progressWhenPaused = log.last(id)->progress;
        QCOMPARE(engine.pause(id)->code, QString(jobs::errors::InvalidState));

        // While paused, nothing happens (the operation is blocked in its checkpoint). The wait
        // only gives a wrongly running job the chance to show itself.
        QTest::qWait(700);
        QCOMPARE(log.of(id).size(), eventsWhenPaused);

        QVERIFY(!engine.resume(id));
        QCOMPARE(log.last(id)->status, Status::Running);
        QVERIFY(log.last(id)->progress >= progressWhenPaused);
        QCOMPARE(engine.resume(id)->code, QString(jobs::errors::InvalidState));

        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        const QList<Job> events = log.of(id);
        QVERIFY2(checkStream(events).isEmpty(), qPrintable(checkStream(events)));
        QCOMPARE(events.last().status, Status::Complete);
        QCOMPARE(log.count(id, Status::Paused), 1);
        QVERIFY(!events.last().outputs.isEmpty());
        for (const auto &o : events.last().outputs)
            QVERIFY(QFileInfo::exists(o.path));
    }

    void cancelWhilePaused()
    {
        Engine engine(settings());
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = longJob();
        const QString out = outDir(QStringLiteral("cp"));
        const auto r = engine.submit(spec.kind, spec.input, spec.params, 0, out);
        QVERIFY(r.job);
        const QString id = r.job->id;
        bool paused = false;
        log.onEvent = [&](const Job &j) {
            if (j.id == id && j.status == Status::Running && j.progress > 0 && !paused) {
                paused = true;
                QVERIFY(!engine.pause(id));
            }
        };
        QTRY_COMPARE_WITH_TIMEOUT(log.status(id), Status::Paused, JobTimeoutMs);
        QVERIFY(!engine.cancel(id));
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        QCOMPARE(log.last(id)->status, Status::Canceled);
        QVERIFY2(checkStream(log.of(id)).isEmpty(), qPrintable(checkStream(log.of(id))));
        QVERIFY2(filesIn(out).isEmpty(), qPrintable(filesIn(out).join(u' ')));
    }

    void holdPendingJob()
    {
        EngineSettings s = settings();
        s.lightConcurrency = 1;
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = shortJob();
        const auto a = engine.submit(spec.kind, spec.input, spec.params, 0, outDir(QStringLiteral("ha")));
        const auto b = engine.submit(spec.kind, spec.input, spec.params, 0, outDir(QStringLiteral("hb")));
        QVERIFY(a.job && b.job);
        QVERIFY(!engine.pause(b.job->id)); // held before it ever ran
        QCOMPARE(log.last(b.job->id)->status, Status::Paused);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(a.job->id), JobTimeoutMs);
        QTest::qWait(200); // the free slot must not take the held job
        QCOMPARE(log.last(b.job->id)->status, Status::Paused);
        QVERIFY(!log.last(b.job->id)->startedAt.isValid());

        QVERIFY(!engine.resume(b.job->id));
        QCOMPARE(log.last(b.job->id)->status, Status::Pending);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(b.job->id), JobTimeoutMs);
        const QList<Job> events = log.of(b.job->id);
        QVERIFY2(checkStream(events).isEmpty(), qPrintable(checkStream(events)));
        QCOMPARE(events.last().status, Status::Complete);
        QCOMPARE(log.transitionsTo(b.job->id, Status::Running), 1);
    }

    void retryAfterFailure()
    {
        Engine engine(settings());
        EventLog log(engine);
        QVERIFY(engine.open());
        const auto r =
            engine.submit(QStringLiteral("thumbnails"), fixtures::zeroByteFile(), {}, 0, outDir(QStringLiteral("rf")));
        QVERIFY(r.job);
        const QString id = r.job->id;
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        const Job failed = *log.last(id);
        QCOMPARE(failed.status, Status::Failed);
        QCOMPARE(failed.error->code, QStringLiteral("empty_file"));

        QVERIFY(!engine.retry(id));
        const Job retried = *log.last(id);
        QCOMPARE(retried.seq, failed.seq + 1);
        QCOMPARE(retried.attempt, 2);
        QCOMPARE(retried.status, Status::Pending);
        QVERIFY(!retried.error);
        QVERIFY(!retried.startedAt.isValid());
        QVERIFY(!retried.finishedAt.isValid());
        QCOMPARE(retried.createdAt, failed.createdAt);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        QCOMPARE(log.last(id)->status, Status::Failed);
        QCOMPARE(log.last(id)->attempt, 2);
        QVERIFY2(checkStream(log.of(id)).isEmpty(), qPrintable(checkStream(log.of(id))));
    }

    void retryAfterCancel()
    {
        EngineSettings s = settings();
        s.lightConcurrency = 0;
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = shortJob();
        const auto r = engine.submit(spec.kind, spec.input, spec.params, 0, outDir(QStringLiteral("rc")));
        QVERIFY(r.job);
        const QString id = r.job->id;
        QVERIFY(!engine.cancel(id));
        QVERIFY(!engine.retry(id));
        engine.setConcurrency(1, 1);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        const Job last = *log.last(id);
        QCOMPARE(last.status, Status::Complete);
        QCOMPARE(last.attempt, 2);
        QVERIFY2(checkStream(log.of(id)).isEmpty(), qPrintable(checkStream(log.of(id))));
        // Only failed or canceled jobs are retried; finished ones can be removed.
        QCOMPARE(engine.retry(id)->code, QString(jobs::errors::InvalidState));
        QSignalSpy removed(&engine, &Engine::jobRemoved);
        QVERIFY(!engine.remove(id));
        QCOMPARE(removed.size(), 1);
        QCOMPARE(removed.at(0).at(0).toString(), id);
        QCOMPARE(engine.job(id), std::nullopt);
        QVERIFY(engine.jobs().isEmpty());
        QCOMPARE(engine.remove(id)->code, QString(jobs::errors::NotFound));
        // The files stay.
        for (const auto &o : last.outputs)
            QVERIFY(QFileInfo::exists(o.path));
    }

    // The job's names are the first free ones when it starts; a file that takes one while the job
    // runs (the user's) is never replaced: the job fails saying so, and its retry writes under
    // the next free name.
    void outputNameTakenWhileRunning()
    {
        Engine engine(settings());
        EventLog log(engine);
        QVERIFY(engine.open());
        const QString input = fixtures::basicClip(30);
        const QString dir = outDir(QStringLiteral("taken"));
        const QString id = engine.submit(QStringLiteral("transcode"), input, {}, 0, dir).job.value().id;
        QTRY_VERIFY_WITH_TIMEOUT(log.last(id)->progress > 0, JobTimeoutMs);
        const QString base = QFileInfo(input).completeBaseName();
        const QString theirs = QDir(dir).filePath(base + QStringLiteral(".mp4"));
        {
            QFile f(theirs);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("the user's own");
        }
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        QCOMPARE(log.last(id)->status, Status::Failed);
        QCOMPARE(log.last(id)->error->code, QStringLiteral("output_exists"));
        QCOMPARE(filesIn(dir), QStringList{base + QStringLiteral(".mp4")});
        QVERIFY(!engine.retry(id));
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
        QCOMPARE(log.last(id)->status, Status::Complete);
        QCOMPARE(log.last(id)->outputs.first().name, base + QStringLiteral("-2.mp4"));
        QFile f(theirs);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("the user's own"));
    }

    void removeRefusesUnfinishedJobs()
    {
        EngineSettings s = settings();
        s.lightConcurrency = 0;
        Engine engine(s);
        QVERIFY(engine.open());
        const JobSpec spec = shortJob();
        const auto r = engine.submit(spec.kind, spec.input, spec.params);
        QVERIFY(r.job);
        QCOMPARE(engine.remove(r.job->id)->code, QString(jobs::errors::InvalidState));
        QCOMPARE(engine.retry(r.job->id)->code, QString(jobs::errors::InvalidState));
        QCOMPARE(engine.resume(r.job->id)->code, QString(jobs::errors::InvalidState));
    }

    void priorities()
    {
        EngineSettings s = settings();
        s.lightConcurrency = 0; // queue everything first
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = shortJob();
        QStringList names;
        QHash<QString, QString> nameOf;
        for (const auto &[name, priority] :
             {std::pair{"low-1", 0}, {"high-1", 5}, {"mid", 1}, {"high-2", 5}, {"low-2", 0}}) {
            const auto r =
                engine.submit(spec.kind, spec.input, spec.params, priority, outDir(QString::fromLatin1(name)));
            QVERIFY(r.job);
            nameOf.insert(r.job->id, QString::fromLatin1(name));
        }
        QStringList started;
        log.onEvent = [&](const Job &j) {
            const QList<Job> events = log.of(j.id); // this one included
            if (j.status == Status::Running && events.size() >= 2
                && events[events.size() - 2].status != Status::Running)
                started.append(nameOf.value(j.id));
        };
        engine.setConcurrency(1, 1); // at run time: one at a time from here on
        QTRY_COMPARE_WITH_TIMEOUT(started.size(), 5, JobTimeoutMs);
        QCOMPARE(started, (QStringList{QStringLiteral("high-1"), QStringLiteral("high-2"), QStringLiteral("mid"),
                                       QStringLiteral("low-1"), QStringLiteral("low-2")}));
        for (const QString &id : nameOf.keys()) {
            QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(id), JobTimeoutMs);
            QVERIFY2(checkStream(log.of(id)).isEmpty(), qPrintable(checkStream(log.of(id))));
        }
    }

    void concurrencyLimit()
    {
        EngineSettings s = settings();
        s.lightConcurrency = 1;
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = longJob();
        const auto a = engine.submit(spec.kind, spec.input, spec.params, 0, outDir(QStringLiteral("la")));
        const auto b = engine.submit(spec.kind, spec.input, spec.params, 0, outDir(QStringLiteral("lb")));
        QVERIFY(a.job && b.job);
        // While the first runs, the second never does.
        bool overlapped = false;
        log.onEvent = [&](const Job &j) {
            if (j.id == b.job->id && j.status == Status::Running && !log.isTerminal(a.job->id))
                overlapped = true;
        };
        QTRY_COMPARE_WITH_TIMEOUT(log.status(a.job->id), Status::Running, JobTimeoutMs);
        QCOMPARE(engine.job(b.job->id)->status, Status::Pending);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(b.job->id), 2 * JobTimeoutMs);
        QVERIFY(!overlapped);
        QCOMPARE(log.last(a.job->id)->status, Status::Complete);
        QCOMPARE(log.last(b.job->id)->status, Status::Complete);
    }

    void heavyAndLightPoolsAreSeparate()
    {
        // A heavy job does not take a light slot: with one slot each, one of each runs at once.
        EngineSettings s = settings();
        s.heavyConcurrency = 1;
        s.lightConcurrency = 1;
        const JobSpec heavy = longJob();
        for (auto &op : s.operations) {
            if (op.kind == heavy.kind)
                op.heavy = true; // the real operation, scheduled as an encode
        }
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        QString heavyId, lightId;
        bool lightStartedWhileHeavyRan = false;
        log.onEvent = [&](const Job &j) {
            if (j.id == lightId && j.status == Status::Running && log.status(heavyId) == Status::Running)
                lightStartedWhileHeavyRan = true;
        };
        const auto h = engine.submit(heavy.kind, heavy.input, heavy.params, 0, outDir(QStringLiteral("heavy")));
        const JobSpec light = shortJob();
        QVERIFY(light.kind != heavy.kind);
        const auto l = engine.submit(light.kind, light.input, light.params, 0, outDir(QStringLiteral("light")));
        QVERIFY(h.job && l.job);
        heavyId = h.job->id;
        lightId = l.job->id;
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(lightId), JobTimeoutMs);
        QCOMPARE(log.last(lightId)->status, Status::Complete);
        // The heavy job takes seconds; sharing one slot, the light job would have waited for it.
        QVERIFY(lightStartedWhileHeavyRan);
        if (!log.isTerminal(heavyId))
            QVERIFY(!engine.cancel(heavyId));
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(heavyId), JobTimeoutMs);
        QVERIFY2(checkStream(log.of(heavyId)).isEmpty(), qPrintable(checkStream(log.of(heavyId))));
    }

    void brokenInputs_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QStringList>("codes");
        QTest::newRow("missing file") << m_dirlessPath() << QStringList{QStringLiteral("file_not_found")};
        QTest::newRow("zero bytes") << fixtures::zeroByteFile() << QStringList{QStringLiteral("empty_file")};
        QTest::newRow("text named .mp4") << fixtures::textFileNamedMp4() << QStringList{QStringLiteral("not_media")};
        QTest::newRow("random bytes") << fixtures::randomBytesFile() << QStringList{QStringLiteral("not_media")};
        // A clip cut short loses its index (moov) or its data: either is a fair description.
        QTest::newRow("truncated") << fixtures::truncatedClip()
                                   << QStringList{QStringLiteral("corrupt_stream"), QStringLiteral("not_media")};
    }

    void brokenInputs()
    {
        QFETCH(QString, input);
        QFETCH(QStringList, codes);
        Engine engine(settings());
        EventLog log(engine);
        QVERIFY(engine.open());
        const QString out = outDir(QStringLiteral("broken"));
        // Every operation, with its default parameters.
        for (const auto &op : engine.settings().operations) {
            const QString kind = op.kind;
            const auto r = engine.submit(kind, input, {}, 0, out);
            QVERIFY2(r.job, qPrintable(kind));
            QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(r.job->id), JobTimeoutMs);
            const Job last = *log.last(r.job->id);
            QVERIFY2(checkStream(log.of(r.job->id)).isEmpty(), qPrintable(checkStream(log.of(r.job->id))));
            QCOMPARE(last.status, Status::Failed);
            QVERIFY2(codes.contains(last.error->code), qPrintable(kind + QStringLiteral(": ") + last.error->code
                                                                  + QStringLiteral(": ") + last.error->message));
            QVERIFY(!last.error->message.isEmpty());
            QVERIFY(last.outputs.isEmpty());
        }
        QVERIFY2(filesIn(out).isEmpty(), qPrintable(filesIn(out).join(u' ')));
    }

    void unwritableOutputFolder()
    {
        Engine engine(settings());
        EventLog log(engine);
        QVERIFY(engine.open());
        // A folder inside a regular file can be neither made nor written, not even by root.
        QFile blocker(m_dir->filePath(QStringLiteral("a-file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        const JobSpec spec = shortJob();
        const auto r =
            engine.submit(spec.kind, spec.input, spec.params, 0, blocker.fileName() + QStringLiteral("/out"));
        QVERIFY(r.job);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(r.job->id), JobTimeoutMs);
        QCOMPARE(log.last(r.job->id)->status, Status::Failed);
        QCOMPARE(log.last(r.job->id)->error->code, QStringLiteral("output_unwritable"));
        QVERIFY(log.last(r.job->id)->error->message.contains(QStringLiteral("a-file/out")));
    }

    void defaultOutputFolderIsCreated()
    {
        EngineSettings s = settings();
        s.outputDir = m_dir->filePath(QStringLiteral("not/yet/there"));
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = shortJob();
        const auto r = engine.submit(spec.kind, spec.input, spec.params);
        QVERIFY(r.job);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(r.job->id), JobTimeoutMs);
        const Job last = *log.last(r.job->id);
        QCOMPARE(last.status, Status::Complete);
        QVERIFY(!last.outputs.isEmpty());
        for (const auto &o : last.outputs)
            QCOMPARE(QFileInfo(o.path).absolutePath(), s.outputDir);
    }

    void shutdownInterruptsRunningJobs()
    {
        auto engine = std::make_unique<Engine>(settings());
        EventLog log(*engine);
        QVERIFY(engine->open());
        const JobSpec spec = longJob();
        const QString out = outDir(QStringLiteral("s"));
        const auto r = engine->submit(spec.kind, spec.input, spec.params, 0, out);
        QVERIFY(r.job);
        QTRY_VERIFY_WITH_TIMEOUT(log.last(r.job->id)->progress > 0, JobTimeoutMs);
        engine.reset(); // the destructor shuts down
        const Job last = *log.last(r.job->id);
        QCOMPARE(last.status, Status::Failed);
        QCOMPARE(last.error->code, QStringLiteral("interrupted"));
        QVERIFY2(checkStream(log.of(r.job->id)).isEmpty(), qPrintable(checkStream(log.of(r.job->id))));
        QVERIFY2(filesIn(out).isEmpty(), qPrintable(filesIn(out).join(u' ')));
    }

    void withoutDatabase()
    {
        // No databasePath: a one-off engine (the CLI's) that keeps nothing.
        EngineSettings s = settings();
        s.databasePath.clear();
        Engine engine(s);
        EventLog log(engine);
        QVERIFY(engine.open());
        const JobSpec spec = shortJob();
        const auto r = engine.submit(spec.kind, spec.input, spec.params, 0, outDir(QStringLiteral("nodb")));
        QVERIFY(r.job);
        QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(r.job->id), JobTimeoutMs);
        QCOMPARE(log.last(r.job->id)->status, Status::Complete);
        QVERIFY(!QFileInfo::exists(m_dir->filePath(QStringLiteral("jobs.sqlite"))));
    }

private:
    QString m_dirlessPath() const
    {
        return QDir::tempPath() + QStringLiteral("/clipdeck-no-such-dir/no-such-clip.mp4");
    }
};

QTEST_GUILESS_MAIN(TestEngine)
#include "tst_engine.moc"
