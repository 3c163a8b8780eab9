#pragma once

// What the desktop shows of Clipdeck outside its window: a notification when a job completes or
// fails (the desktop's notification service, org.freedesktop.Notifications over D-Bus; else the
// system tray's balloon where there is a tray; else nothing), and overall progress on the taskbar
// icon (TaskbarProgress).

#include "taskbarprogress.h"

#include <QObject>
#include <QString>

class QSystemTrayIcon;

namespace clipdeck::jobs {
struct Job;
}
namespace clipdeck::client {
class JobModel;
}

namespace clipdeck::desktop {

class DesktopIntegration : public QObject
{
    Q_OBJECT

public:
    DesktopIntegration(client::JobModel *model, QObject *parent = nullptr);
    ~DesktopIntegration() override;

    // The notification for a finished job: title and text; empty title when there is none
    // (canceled jobs: the user did it).
    static std::pair<QString, QString> notificationFor(const QString &clipName, const jobs::Job &job);

signals:
    // Someone clicked the tray icon or a notification: bring the window up.
    void activateRequested();

private:
    void onJobFinished(const QString &key, const jobs::Job &job);
    void onSummaryChanged();

    client::JobModel *m_model;
    QSystemTrayIcon *m_tray = nullptr;
    TaskbarProgress m_taskbar;
};

} // namespace clipdeck::desktop
