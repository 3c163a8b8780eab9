#include "desktopintegration.h"

#include "client/jobmodel.h"

#include <QGuiApplication>
#include <QIcon>
#include <QSystemTrayIcon>

#ifdef CLIPDECK_HAVE_DBUS
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#endif

namespace clipdeck::desktop {

DesktopIntegration::DesktopIntegration(client::JobModel *model, QObject *parent)
    : QObject(parent), m_model(model), m_taskbar(QStringLiteral("clipdeck.desktop"))
{
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(QGuiApplication::windowIcon(), this);
        m_tray->setToolTip(QStringLiteral("Clipdeck"));
        connect(m_tray, &QSystemTrayIcon::activated, this, &DesktopIntegration::activateRequested);
        connect(m_tray, &QSystemTrayIcon::messageClicked, this, &DesktopIntegration::activateRequested);
        m_tray->show();
    }
    connect(m_model, &client::JobModel::jobFinished, this, &DesktopIntegration::onJobFinished);
    connect(m_model, &client::JobModel::summaryChanged, this, &DesktopIntegration::onSummaryChanged);
}

DesktopIntegration::~DesktopIntegration()
{
    m_taskbar.update(-1, 0);
}

std::pair<QString, QString> DesktopIntegration::notificationFor(const QString &clipName, const jobs::Job &job)
{
    const QString name = clipName.isEmpty() ? job.input : clipName;
    switch (job.status) {
    // The kind as the monitor labels it ("Export finished."), not its wire name.
    case jobs::Status::Complete:
        return {tr("Done: %1").arg(name), tr("%1 finished.").arg(client::JobModel::kindLabel(job.kind))};
    case jobs::Status::Failed:
        return {tr("Failed: %1").arg(name),
                job.error ? job.error->message : tr("%1 failed.").arg(client::JobModel::kindLabel(job.kind))};
    default: return {};
    }
}

namespace {

// The desktop's notification service (org.freedesktop.Notifications: GNOME, Plasma, most
// others), which needs no tray icon. Returns false when there is none to ask.
bool notifyOverDBus(const QString &title, const QString &text, bool failed)
{
#ifdef CLIPDECK_HAVE_DBUS
    const QString service = QStringLiteral("org.freedesktop.Notifications");
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected() || !bus.interface() || !bus.interface()->isServiceRegistered(service))
        return false;
    QDBusMessage call = QDBusMessage::createMethodCall(service, QStringLiteral("/org/freedesktop/Notifications"),
                                                       service, QStringLiteral("Notify"));
    const QVariantMap hints{
        {QStringLiteral("desktop-entry"), QStringLiteral("clipdeck")},
        {QStringLiteral("urgency"), QVariant::fromValue(uchar(failed ? 2 : 1))}, // critical / normal
    };
    call << QStringLiteral("Clipdeck") << uint(0) << QStringLiteral("clipdeck") << title << text << QStringList()
         << hints << int(-1);
    // Asynchronous: a slow notification daemon must not stall the GUI thread.
    bus.asyncCall(call);
    return true;
#else
    Q_UNUSED(title)
    Q_UNUSED(text)
    Q_UNUSED(failed)
    return false;
#endif
}

} // namespace

void DesktopIntegration::onJobFinished(const QString &key, const jobs::Job &job)
{
    const int row = m_model->rowOf(key);
    const QString clip =
        row >= 0 ? m_model->data(m_model->index(row), client::JobModel::ClipNameRole).toString() : QString();
    const auto [title, text] = notificationFor(clip, job);
    if (title.isEmpty())
        return;
    const bool failed = job.status == jobs::Status::Failed;
    if (notifyOverDBus(title, text, failed) || !m_tray)
        return;
    m_tray->showMessage(title, text, failed ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information, 8000);
}

void DesktopIntegration::onSummaryChanged()
{
    const double overall = m_model->overallProgress();
    m_taskbar.update(overall < 0 ? -1 : overall / 100.0, m_model->activeCount());
}

} // namespace clipdeck::desktop
