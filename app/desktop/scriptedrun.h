#pragma once

// The app's command-line hook for end-to-end tests and scripted use (real, not a stub):
//   --submit KIND=FILE[,preset=NAME]  start a job on this computer at launch (repeatable)
//   --screenshot PATH                 save the window (QQuickWindow::grabWindow) once every
//                                     submitted job has finished
//   --quit-when-idle                  quit once every submitted job has finished
// Exit code with --quit-when-idle: 0 when every submitted job completed, 1 when one failed, was
// canceled or was refused, 2 when the screenshot could not be written.

#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

class QQmlApplicationEngine;

namespace clipdeck::desktop {

class AppController;

struct ScriptedSubmission
{
    QString kind;
    QString file;
    QString preset;

    // "thumbnails=/path/clip.mp4,preset=web-h264"; nullopt-like: kind empty when malformed.
    static ScriptedSubmission parse(const QString &text);
};

class ScriptedRun : public QObject
{
    Q_OBJECT

public:
    ScriptedRun(AppController *app, QQmlApplicationEngine *qml, QList<ScriptedSubmission> submissions,
                QString screenshotPath, bool quitWhenIdle, QObject *parent = nullptr);

    // Submits the jobs and starts watching; call once the window is loaded.
    void start();
    bool isActive() const { return !m_screenshotPath.isEmpty() || m_quitWhenIdle; }

private:
    void poll();
    void finish();

    AppController *m_app;
    QQmlApplicationEngine *m_qml;
    QList<ScriptedSubmission> m_submissions;
    QString m_screenshotPath;
    bool m_quitWhenIdle;
    int m_firstRow = 0;
    int m_submitted = 0;
    int m_idlePolls = 0;
    QTimer m_poll;
};

} // namespace clipdeck::desktop
