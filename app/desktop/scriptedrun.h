#pragma once

// The app's command-line hook for end-to-end tests and scripted use (real, not a stub):
//   --server URL=TOKEN                add a Clipdeck server for this run only (repeatable); it is
//                                     not written to the settings (ServerSettings::addSessionServer)
//   --submit KIND=FILE[,preset=NAME][,on=URL]
//                                     start a job at launch (repeatable): on this computer, or with
//                                     on=URL on that server (it must be configured or given with
//                                     --server): the file is uploaded, then the server runs the job
//   --screenshot PATH                 save the window (QQuickWindow::grabWindow) once every
//                                     submitted job has finished
//   --quit-when-idle                  quit once every submitted job has finished
// Only the jobs this run submitted are waited for and reported (a server's other jobs are not).
// Exit code with --quit-when-idle: 0 when every submitted job completed, 1 when one failed, was
// canceled or was refused (why goes to stderr), 2 when the screenshot could not be written.

#include <QList>
#include <QObject>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QTimer>

class QQmlApplicationEngine;

namespace clipdeck::desktop {

class AppController;

struct ScriptedSubmission
{
    QString kind;
    QString file;
    QString preset;
    QString on; // a server's URL; empty: this computer

    // "thumbnails=/path/clip.mp4,preset=web-h264,on=http://host:8470" (the options in any order
    // after the file); kind empty when malformed.
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
    // The model keys ("<sourceId>\n<jobId>") of the jobs this run submitted; a server upload's
    // key follows the job when the upload becomes the server's job (jobReplaced).
    QStringList m_keys;
    QSet<QObject *> m_followed; // sources whose jobReplaced we follow
    int m_submitted = 0;
    int m_unresolved = 0; // submissions whose on=URL names no server
    int m_idlePolls = 0;
    QTimer m_poll;
};

} // namespace clipdeck::desktop
