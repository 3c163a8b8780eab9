#include "appcontroller.h"

#include "desktopintegration.h"

#include "engine/engine.h"
#include "client/enginejobsource.h"
#include "client/jobsource.h"

#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QGuiApplication>
#include <QSettings>
#include <QUrl>

#ifdef CLIPDECK_HAVE_DBUS
#include <QDBusConnection>
#include <QDBusMessage>
#endif

#include <cmath>

namespace clipdeck::desktop {

namespace {

QString pendingKey(const QString &sourceId, const QString &jobId, const QString &output)
{
    return sourceId + u'\n' + jobId + u'\n' + output;
}

} // namespace

AppController::AppController(const QString &dataDir, QObject *parent) : QObject(parent)
{
    engine::EngineSettings settings = engine::EngineSettings::defaults();
    if (!dataDir.isEmpty()) {
        const QString dir = QDir(dataDir).absolutePath();
        QDir().mkpath(dir);
        settings.databasePath = dir + QStringLiteral("/jobs.sqlite");
        settings.outputDir = dir + QStringLiteral("/outputs");
        m_settings = std::make_unique<QSettings>(dir + QStringLiteral("/clipdeck.ini"), QSettings::IniFormat);
    } else {
        QDir().mkpath(engine::EngineSettings::defaultDataDir());
        m_settings = std::make_unique<QSettings>();
    }

    m_engine = new engine::Engine(settings, this);
    m_local = new client::EngineJobSource(m_engine, this);
    m_model = new client::JobModel(this);
    m_model->addSource(m_local);
    attachSource(m_local);

    m_servers = new ServerSettings(m_settings.get(), m_model, this);
    for (client::JobSource *source : m_model->sources()) {
        if (source != m_local)
            attachSource(source);
    }
    connect(m_servers, &ServerSettings::sourceAdded, this, &AppController::attachSource);

    m_launcher = new JobLauncher(m_model, this);
    connect(m_servers, &ServerSettings::sourcesChanged, m_launcher, &JobLauncher::refreshTargets);
    connect(m_launcher, &JobLauncher::submitFailed, this, &AppController::showMessage);

    m_integration = new DesktopIntegration(m_model, this);

    connect(m_model, &client::JobModel::summaryChanged, this, &AppController::updateTitle);
    connect(m_model, &client::JobModel::actionFailed, this,
            [this](const QString &, const QString &action, const QString &message) {
                showMessage(tr("Could not %1 the job: %2").arg(action, message));
            });
    updateTitle();
}

AppController::~AppController()
{
    // Sources first (they refer to the engine and the model), then the engine writes down its state.
    delete m_integration;
    m_integration = nullptr;
    delete m_servers;
    m_servers = nullptr;
    m_model->removeSource(m_local);
    m_local->stop();
    delete m_local;
    m_local = nullptr;
    m_engine->shutdown();
}

bool AppController::start()
{
    const bool opened = m_engine->open();
    if (!opened) {
        m_engineError = m_engine->errorString();
        showMessage(tr("The local engine cannot start: %1").arg(m_engineError));
    }
    m_local->start();
    m_servers->start();
    m_launcher->refreshTargets();
    return opened;
}

client::JobModel *AppController::jobModel() const
{
    return m_model;
}
JobLauncher *AppController::launcher() const
{
    return m_launcher;
}
ServerSettings *AppController::servers() const
{
    return m_servers;
}
client::JobSource *AppController::localSource() const
{
    return m_local;
}
engine::Engine *AppController::engine() const
{
    return m_engine;
}
QString AppController::windowTitle() const
{
    return m_title;
}
QString AppController::message() const
{
    return m_message;
}
QString AppController::engineError() const
{
    return m_engineError;
}

QString AppController::titleFor(double overallProgress, int running, int queued)
{
    const QString app = QStringLiteral("Clipdeck");
    if (overallProgress < 0 || (running == 0 && queued == 0))
        return app;
    const int percent = int(std::floor(overallProgress));
    // Both counts when both matter: "1 running" alone hid a queue of twenty behind it.
    QString what = running > 0 ? tr("%n running", nullptr, running) : tr("%n queued", nullptr, queued);
    if (running > 0 && queued > 0)
        what = tr("%1, %2").arg(what, tr("%n queued", nullptr, queued));
    return QStringLiteral("%1% · %2 — %3").arg(percent).arg(what, app);
}

void AppController::updateTitle()
{
    const QString title = titleFor(m_model->overallProgress(), m_model->runningCount(), m_model->queuedCount());
    if (title == m_title)
        return;
    m_title = title;
    emit windowTitleChanged();
}

QString AppController::primaryOutput(const QString &key) const
{
    const int row = m_model->rowOf(key);
    const jobs::Job *job = row >= 0 ? m_model->job(row) : nullptr;
    if (!job || job->outputs.isEmpty())
        return {};
    static const QStringList preference{
        QStringLiteral("video"),  QStringLiteral("audio"),  QStringLiteral("contact_sheet"), QStringLiteral("waveform"),
        QStringLiteral("scenes"), QStringLiteral("poster"), QStringLiteral("probe")};
    for (const QString &role : preference) {
        for (const jobs::Output &output : job->outputs) {
            if (output.role == role)
                return output.name;
        }
    }
    return job->outputs.first().name;
}

void AppController::openOutput(const QString &key, const QString &outputName)
{
    const QString name = outputName.isEmpty() ? primaryOutput(key) : outputName;
    if (name.isEmpty()) {
        showMessage(tr("This job has no output to open."));
        return;
    }
    const qsizetype nl = key.indexOf(u'\n');
    m_pending.insert(pendingKey(key.left(nl), key.mid(nl + 1), name), Pending::Open);
    if (!m_model->fetchOutput(key, name))
        m_pending.remove(pendingKey(key.left(nl), key.mid(nl + 1), name));
}

void AppController::showInFolder(const QString &key, const QString &outputName)
{
    const QString name = outputName.isEmpty() ? primaryOutput(key) : outputName;
    if (name.isEmpty()) {
        showMessage(tr("This job has no output to show."));
        return;
    }
    const qsizetype nl = key.indexOf(u'\n');
    m_pending.insert(pendingKey(key.left(nl), key.mid(nl + 1), name), Pending::ShowInFolder);
    if (!m_model->fetchOutput(key, name))
        m_pending.remove(pendingKey(key.left(nl), key.mid(nl + 1), name));
}

void AppController::copyText(const QString &text)
{
    if (QClipboard *clipboard = QGuiApplication::clipboard())
        clipboard->setText(text);
}

void AppController::showMessage(const QString &text)
{
    m_message = text;
    emit messageChanged();
}

void AppController::clearMessage()
{
    if (m_message.isEmpty())
        return;
    m_message.clear();
    emit messageChanged();
}

void AppController::attachSource(client::JobSource *source)
{
    connect(source, &client::JobSource::outputReady, this,
            [this, source](const QString &jobId, const QString &name, const QString &path) {
                onOutputReady(source, jobId, name, path);
            });
    connect(source, &client::JobSource::actionFailed, this,
            [this, source](const QString &jobId, const QString &action, const jobs::Error &) {
                if (action == QLatin1String("fetch")) {
                    // The model reports the message; forget what we meant to do with the file.
                    const QString prefix = pendingKey(source->sourceId(), jobId, {});
                    for (auto it = m_pending.begin(); it != m_pending.end();)
                        it = it.key().startsWith(prefix) ? m_pending.erase(it) : std::next(it);
                }
            });
}

void AppController::onOutputReady(client::JobSource *source, const QString &jobId, const QString &name,
                                  const QString &path)
{
    const auto it = m_pending.constFind(pendingKey(source->sourceId(), jobId, name));
    if (it == m_pending.constEnd())
        return;
    const Pending what = it.value();
    m_pending.erase(it);
    if (what == Pending::Open) {
        if (!QDesktopServices::openUrl(QUrl::fromLocalFile(path)))
            showMessage(tr("No application could open %1.").arg(QDir::toNativeSeparators(path)));
        return;
    }
#ifdef CLIPDECK_HAVE_DBUS
    // The freedesktop file manager interface selects the file (Dolphin, Nautilus, Nemo, ...).
    QDBusMessage call = QDBusMessage::createMethodCall(
        QStringLiteral("org.freedesktop.FileManager1"), QStringLiteral("/org/freedesktop/FileManager1"),
        QStringLiteral("org.freedesktop.FileManager1"), QStringLiteral("ShowItems"));
    call << QStringList{QUrl::fromLocalFile(path).toString()} << QString();
    if (QDBusConnection::sessionBus().isConnected()
        && QDBusConnection::sessionBus().call(call, QDBus::Block, 2000).type() == QDBusMessage::ReplyMessage)
        return;
#endif
    QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(path).absolutePath()));
}

} // namespace clipdeck::desktop
