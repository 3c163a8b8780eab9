// EngineJobSource with a real Engine (SQLite file in a temporary folder, real FFmpeg operations
// on generated clips) feeding a real JobModel: what the desktop's monitor shows for local jobs.

#include "enginetesting.h"

#include "engine/engine.h"
#include "client/enginejobsource.h"
#include "client/jobmodel.h"

#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace clipdeck;
using namespace enginetesting;
using namespace Qt::StringLiterals;
using client::EngineJobSource;
using client::JobModel;
using client::JobSource;
using engine::Engine;
using engine::EngineSettings;

namespace {
constexpr int JobTimeoutMs = 120000; // generous: CI machines are slow and shared

QString statusAt(const JobModel &model, int row)
{
    return model.index(row).data(JobModel::StatusRole).toString();
}

client::JobSubmission submission(const JobSpec &spec)
{
    client::JobSubmission s;
    s.kind = spec.kind;
    s.inputPath = spec.input;
    s.params = spec.params;
    return s;
}
} // namespace

class TestEngineJobSource : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;

    EngineSettings settings()
    {
        EngineSettings s;
        s.databasePath = m_dir->filePath(u"jobs.sqlite"_s);
        s.outputDir = m_dir->filePath(u"out"_s);
        s.operations = realOperations();
        return s;
    }

    // What the desktop's monitor runs on for local jobs: an Engine on this test's folder whose
    // EngineJobSource feeds a JobModel. The tests open the engine and start the source themselves.
    struct Monitor
    {
        explicit Monitor(EngineSettings settings) : engine(std::move(settings)) { model.addSource(&source); }
        Engine engine;
        EngineJobSource source{&engine};
        JobModel model;
    };

private slots:
    void initTestCase()
    {
        QVERIFY(!shortJob().input.isEmpty());
        QVERIFY(!longJob().input.isEmpty());
    }

    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void identity()
    {
        Engine engine(settings());
        QVERIFY(engine.open());
        EngineJobSource source(&engine);
        QCOMPARE(source.sourceId(), u"local"_s);
        QCOMPARE(source.displayName(), u"This computer"_s);
        QCOMPARE(source.connectionState(), JobSource::ConnectionState::Offline);
        QSignalSpy state(&source, &JobSource::connectionStateChanged);
        source.start();
        QCOMPARE(source.connectionState(), JobSource::ConnectionState::Connected);
        source.stop();
        QCOMPARE(source.connectionState(), JobSource::ConnectionState::Offline);
        QCOMPARE(state.count(), 2);
    }

    void submittedJobRunsToCompleteInTheModel()
    {
        Monitor monitor(settings());
        auto &[engine, source, model] = monitor;
        QVERIFY(engine.open());
        source.start();
        QSignalSpy finished(&model, &JobModel::jobFinished);
        QSignalSpy failed(&model, &JobModel::actionFailed);

        const JobSpec spec = shortJob();
        const QString token = source.submit(submission(spec));
        QVERIFY(!token.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, JobTimeoutMs);
        const QString key = model.index(0).data(JobModel::KeyRole).toString();
        QVERIFY(key.startsWith(u"local\n"_s));
        QCOMPARE(model.index(0).data(JobModel::KindRole).toString(), spec.kind);
        QCOMPARE(model.index(0).data(JobModel::ClipNameRole).toString(), QFileInfo(spec.input).fileName());
        QCOMPARE(model.index(0).data(JobModel::SourceNameRole).toString(), u"This computer"_s);

        QTRY_COMPARE_WITH_TIMEOUT(statusAt(model, 0), u"complete"_s, JobTimeoutMs);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toString(), key);
        QCOMPARE(model.index(0).data(JobModel::ProgressRole).toDouble(), 100.0);
        // The model holds what the engine last said about the job.
        const QString jobId = model.index(0).data(JobModel::JobIdRole).toString();
        QCOMPARE(*model.job(0), *engine.job(jobId));

        const QVariantList outputs = model.index(0).data(JobModel::OutputsRole).toList();
        QVERIFY(!outputs.isEmpty());
        for (const QVariant &o : outputs)
            QVERIFY2(QFileInfo(o.toMap().value(u"path"_s).toString()).isFile(),
                     qPrintable(o.toMap().value(u"path"_s).toString()));
        model.flush();
        QCOMPARE(model.activeCount(), 0);
        QCOMPARE(model.overallProgress(), -1.0);

        // A local output is already a file: fetching reports where it is.
        QSignalSpy ready(&model, &JobModel::outputReady);
        const QVariantMap first = outputs.first().toMap();
        QVERIFY(model.fetchOutput(key, first.value(u"name"_s).toString()));
        QTRY_COMPARE(ready.count(), 1);
        QCOMPARE(ready.at(0).at(0).toString(), key);
        QCOMPARE(ready.at(0).at(2).toString(), first.value(u"path"_s).toString());

        // An output that is gone, or never was, is a failed fetch.
        QVERIFY(QFile::remove(first.value(u"path"_s).toString()));
        QVERIFY(model.fetchOutput(key, first.value(u"name"_s).toString()));
        QVERIFY(model.fetchOutput(key, u"no-such-output.png"_s));
        QTRY_COMPARE(failed.count(), 2);
        QCOMPARE(failed.at(0).at(1).toString(), u"fetch"_s);
        QCOMPARE(failed.at(1).at(1).toString(), u"fetch"_s);
        QCOMPARE(ready.count(), 1);

        // Removing goes through the engine, which reports it; the row goes.
        QVERIFY(model.remove(key));
        QTRY_COMPARE(model.rowCount(), 0);
        QVERIFY(!engine.job(jobId));
    }

    void cancelThroughTheModelsKey()
    {
        Monitor monitor(settings());
        auto &[engine, source, model] = monitor;
        QVERIFY(engine.open());
        source.start();
        QSignalSpy failed(&model, &JobModel::actionFailed);

        // Cancel as soon as the model shows it running, however fast the machine: connected
        // after the model, so the model has applied the snapshot when this runs.
        bool canceledWhileRunning = false;
        connect(&source, &JobSource::jobUpdated, &model, [&](const jobs::Job &job) {
            if (job.status == jobs::Status::Running && !canceledWhileRunning)
                canceledWhileRunning = statusAt(model, 0) == u"running"_s && model.cancel(u"local\n"_s + job.id);
        });
        source.submit(submission(longJob()));
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, JobTimeoutMs);
        const QString key = model.index(0).data(JobModel::KeyRole).toString();
        QTRY_VERIFY_WITH_TIMEOUT(model.job(0)->isTerminal(), JobTimeoutMs);
        QVERIFY(canceledWhileRunning);
        QCOMPARE(statusAt(model, 0), u"canceled"_s);
        QCOMPARE(failed.count(), 0);

        // An action the engine refuses comes back by key with the engine's words.
        QVERIFY(model.resume(key));
        QTRY_COMPARE(failed.count(), 1);
        QCOMPARE(failed.at(0).at(0).toString(), key);
        QCOMPARE(failed.at(0).at(1).toString(), u"resume"_s);
        QVERIFY(!failed.at(0).at(2).toString().isEmpty());

        // Retry makes it a new attempt in the same row.
        QVERIFY(model.retry(key));
        QCOMPARE(model.index(0).data(JobModel::AttemptRole).toInt(), 2); // the engine reports at once
        QCOMPARE(model.rowCount(), 1);
        QVERIFY(model.cancel(key)); // still pending: canceled at once
        QTRY_COMPARE_WITH_TIMEOUT(statusAt(model, 0), u"canceled"_s, JobTimeoutMs);
    }

    void refusedSubmission()
    {
        Monitor monitor(settings());
        auto &[engine, source, model] = monitor;
        QVERIFY(engine.open());
        source.start();
        QSignalSpy refused(&source, &JobSource::submitFailed);
        QSignalSpy failed(&model, &JobModel::actionFailed);

        client::JobSubmission s;
        s.kind = u"teleport"_s;
        s.inputPath = fixtures::basicClip(4);
        const QString token = source.submit(s);
        QVERIFY(!token.isEmpty());
        QTRY_COMPARE(refused.count(), 1);
        QCOMPARE(refused.at(0).at(0).toString(), token);
        QCOMPARE(refused.at(0).at(1).value<jobs::Error>().code, QString(jobs::errors::UnknownKind));
        QCOMPARE(failed.count(), 1);
        QCOMPARE(failed.at(0).at(0).toString(), u"local\n"_s + token);
        QCOMPARE(failed.at(0).at(1).toString(), u"submit"_s);
        QCOMPARE(model.rowCount(), 0);
        QVERIFY(engine.jobs().isEmpty());
    }

    void restartReportsHistory()
    {
        QString doneId;
        QString queuedId;
        {
            Engine engine(settings());
            QVERIFY(engine.open());
            EventLog log(engine);
            const JobSpec spec = shortJob();
            const auto r = engine.submit(spec.kind, spec.input, spec.params);
            QVERIFY(r.job);
            doneId = r.job->id;
            QTRY_VERIFY_WITH_TIMEOUT(log.isTerminal(doneId), JobTimeoutMs);
            QCOMPARE(log.status(doneId), jobs::Status::Complete);
            // Held before it ran: comes back queued.
            engine.setConcurrency(0, 0);
            const auto q = engine.submit(spec.kind, spec.input, spec.params);
            QVERIFY(q.job);
            queuedId = q.job->id;
            QVERIFY(!engine.pause(queuedId));
            engine.shutdown();
        }

        Monitor monitor(settings());
        auto &[engine, source, model] = monitor;
        QVERIFY(engine.open());
        QSignalSpy finished(&model, &JobModel::jobFinished);
        QCOMPARE(model.rowCount(), 0); // nothing until started
        source.start();
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(0).data(JobModel::JobIdRole).toString(), doneId); // oldest first
        QCOMPARE(statusAt(model, 0), u"complete"_s);
        QVERIFY(!model.index(0).data(JobModel::OutputsRole).toList().isEmpty());
        QCOMPARE(model.index(1).data(JobModel::JobIdRole).toString(), queuedId);
        QCOMPARE(statusAt(model, 1), u"paused"_s);
        QCOMPARE(finished.count(), 0); // history is not news
        QCOMPARE(*model.job(0), *engine.job(doneId));

        // Starting twice, or a source replaying everything, changes nothing.
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        source.start();
        for (const jobs::Job &j : engine.jobs())
            emit source.jobUpdated(j);
        model.flush();
        QCOMPARE(inserted.count(), 0);
        QCOMPARE(changed.count(), 0);

        // And the held job runs once resumed.
        QVERIFY(model.resume(model.index(1).data(JobModel::KeyRole).toString()));
        QTRY_COMPARE_WITH_TIMEOUT(statusAt(model, 1), u"complete"_s, JobTimeoutMs);
        QCOMPARE(finished.count(), 1);
    }
};

QTEST_GUILESS_MAIN(TestEngineJobSource)
#include "tst_enginejobsource.moc"
