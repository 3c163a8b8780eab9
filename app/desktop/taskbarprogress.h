#pragma once

// Overall progress and the number of active jobs on the taskbar / dock icon, through the Unity
// LauncherEntry D-Bus API (com.canonical.Unity.LauncherEntry: KDE Plasma's task manager, Dash to
// Dock, Plank, ...). Built only where Qt6::DBus is available (CLIPDECK_HAVE_DBUS); elsewhere, and
// when there is no session bus, every call does nothing.

#include <QString>

namespace clipdeck::desktop {

class TaskbarProgress
{
public:
    // desktopFileName: the app's .desktop file id, e.g. "clipdeck.desktop".
    explicit TaskbarProgress(const QString &desktopFileName);

    // progress 0..1, or < 0 to hide the bar; count <= 0 hides the badge.
    void update(double progress, int count);

private:
    QString m_appUri;
    double m_lastProgress = -2;
    int m_lastCount = -1;
};

} // namespace clipdeck::desktop
