#include "taskbarprogress.h"

#include <cmath>

#ifdef CLIPDECK_HAVE_DBUS
#include <QDBusConnection>
#include <QDBusMessage>
#include <QVariantMap>
#endif

namespace clipdeck::desktop {

TaskbarProgress::TaskbarProgress(const QString &desktopFileName)
    : m_appUri(QStringLiteral("application://") + desktopFileName)
{ }

void TaskbarProgress::update(double progress, int count)
{
    // Whole percents are all a taskbar can show; skip the D-Bus traffic for the rest.
    const double rounded = progress < 0 ? -1 : std::round(progress * 100) / 100;
    if (rounded == m_lastProgress && count == m_lastCount)
        return;
    m_lastProgress = rounded;
    m_lastCount = count;
#ifdef CLIPDECK_HAVE_DBUS
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected())
        return;
    QDBusMessage signal =
        QDBusMessage::createSignal(QStringLiteral("/org/clipdeck/Clipdeck/LauncherEntry"),
                                   QStringLiteral("com.canonical.Unity.LauncherEntry"), QStringLiteral("Update"));
    const QVariantMap properties{
        {QStringLiteral("progress"), rounded < 0 ? 0.0 : rounded},
        {QStringLiteral("progress-visible"), rounded >= 0},
        {QStringLiteral("count"), qint64(count > 0 ? count : 0)},
        {QStringLiteral("count-visible"), count > 0},
    };
    signal << m_appUri << properties;
    bus.send(signal);
#endif
}

} // namespace clipdeck::desktop
