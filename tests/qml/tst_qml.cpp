// Qt Quick Test entry point: the QML tests in this folder (tst_*.qml) get `testSetup`, a real
// JobModel fed with job snapshots through JobModel::apply() from a recording JobSource, and a
// recording controller standing in for the app's AppController.

#include "client/jobmodel.h"
#include "client/jobsource.h"

#include <QQmlContext>
#include <QQmlEngine>
#include <QQuickStyle>
#include <QtQml/qqmlextensionplugin.h>
#include <QtQuickTest>

Q_IMPORT_QML_PLUGIN(ClipdeckPlugin)
Q_IMPORT_QML_PLUGIN(Clipdeck_ClientPlugin)

using namespace clipdeck::jobs;
using namespace clipdeck::client;

namespace {

// A JobSource that only records what the model routes to it.
class RecordingSource : public JobSource
{
    Q_OBJECT
public:
    using JobSource::JobSource;
    QString sourceId() const override { return QStringLiteral("local"); }
    QString displayName() const override { return QStringLiteral("This computer"); }
    ConnectionState connectionState() const override { return ConnectionState::Connected; }
    void start() override { }
    void stop() override { }
    QString submit(const JobSubmission &) override { return {}; }
    void cancel(const QString &id) override { record(QStringLiteral("cancel"), id); }
    void pause(const QString &id) override { record(QStringLiteral("pause"), id); }
    void resume(const QString &id) override { record(QStringLiteral("resume"), id); }
    void retry(const QString &id) override { record(QStringLiteral("retry"), id); }
    void remove(const QString &id) override { record(QStringLiteral("remove"), id); }
    QString clipName(const Job &job) const override { return job.input.section(u'/', -1); }
    void fetchOutput(const QString &id, const QString &name) override { record(QStringLiteral("fetch:") + name, id); }

    QStringList actions;

private:
    void record(const QString &action, const QString &id) { actions.append(action + u':' + id); }
};

} // namespace

class TestSetup : public QObject
{
    Q_OBJECT
    Q_PROPERTY(clipdeck::client::JobModel *model READ model CONSTANT)
    Q_PROPERTY(QStringList actions READ actions)
    Q_PROPERTY(QStringList controllerCalls READ controllerCalls)

public:
    TestSetup()
    {
        m_model.setCoalescingInterval(0);
        m_model.addSource(&m_source);
    }

    JobModel *model() { return &m_model; }
    QStringList actions() const { return m_source.actions; }
    QStringList controllerCalls() const { return m_calls; }

    // Forgets every job and every recorded call.
    Q_INVOKABLE void reset()
    {
        m_model.removeSource(&m_source);
        m_model.addSource(&m_source);
        m_source.actions.clear();
        m_calls.clear();
        m_seq.clear();
    }

    // Applies a snapshot: {id, kind, input, status, progress, stage, eta, fps, realtime,
    // errorCode, errorMessage, preset, outputs: [names]}. Returns the row's key.
    Q_INVOKABLE QString applyJob(const QVariantMap &fields)
    {
        Job job;
        job.id = fields.value(QStringLiteral("id")).toString();
        job.seq = ++m_seq[job.id];
        job.kind = fields.value(QStringLiteral("kind"), QStringLiteral("transcode")).toString();
        job.input = fields.value(QStringLiteral("input"), QStringLiteral("/media/clip.mp4")).toString();
        job.status = statusFromName(fields.value(QStringLiteral("status"), QStringLiteral("pending")).toString())
                         .value_or(Status::Pending);
        job.progress = fields.value(QStringLiteral("progress"), 0).toDouble();
        job.stage = fields.value(QStringLiteral("stage")).toString();
        if (fields.contains(QStringLiteral("eta")))
            job.etaSeconds = fields.value(QStringLiteral("eta")).toDouble();
        if (fields.contains(QStringLiteral("fps")) || fields.contains(QStringLiteral("realtime")))
            job.speed = Speed{fields.value(QStringLiteral("fps")).toDouble(),
                              fields.value(QStringLiteral("realtime")).toDouble()};
        if (fields.contains(QStringLiteral("errorCode")))
            job.error = Error{fields.value(QStringLiteral("errorCode")).toString(),
                              fields.value(QStringLiteral("errorMessage")).toString()};
        if (fields.contains(QStringLiteral("preset")))
            job.params.insert(QStringLiteral("preset"), fields.value(QStringLiteral("preset")));
        for (const QVariant &name : fields.value(QStringLiteral("outputs")).toList())
            job.outputs.append(Output{name.toString(), QStringLiteral("/out/") + name.toString(),
                                      QStringLiteral("video"), 1000, QStringLiteral("video/mp4")});
        job.createdAt = job.updatedAt = QDateTime::currentDateTimeUtc();
        m_model.apply(&m_source, job);
        m_model.flush();
        return m_source.sourceId() + u'\n' + job.id;
    }

    // What JobMonitor calls on its controller (AppController in the app).
    Q_INVOKABLE void openOutput(const QString &key, const QString &name)
    {
        m_calls.append(QStringLiteral("open:") + key.section(u'\n', 1) + name);
    }
    Q_INVOKABLE void showInFolder(const QString &key, const QString &name)
    {
        m_calls.append(QStringLiteral("folder:") + key.section(u'\n', 1) + name);
    }
    Q_INVOKABLE void copyText(const QString &text) { m_calls.append(QStringLiteral("copy:") + text); }

public slots:
    void qmlEngineAvailable(QQmlEngine *engine)
    {
        engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
        engine->rootContext()->setContextProperty(QStringLiteral("testSetup"), this);
    }

private:
    RecordingSource m_source;
    JobModel m_model;
    QHash<QString, qint64> m_seq;
    QStringList m_calls;
};

QUICK_TEST_MAIN_WITH_SETUP(clipdeck_qml, TestSetup)

#include "tst_qml.moc"
