#pragma once

// Where jobs run, as the client sees it: the local engine (client/enginejobsource.h) or one
// Clipdeck server (client/serverjobsource.h). Every source reports its jobs as schema v1 snapshots
// (jobs/job.h), the same events whichever side runs them, so the JobModel never cares where a
// job runs. Actions on a job go back to the source that reported it.
//
// Contract for implementations:
// - start() makes the source report every job it knows (one jobUpdated each, oldest first),
//   then every later change. Snapshots of one job arrive with growing seq; duplicates and
//   replays are allowed (the model keeps, per job, the snapshot with the highest seq).
// - jobsReset() says "these are all of my jobs now": after a long outage a source that cannot
//   replay what it missed sends its full, current list, and the model drops that source's jobs
//   that are not in it.
// - An action that fails is reported with actionFailed(); one that works shows up as the job's
//   next snapshots.

#include "jobs/job.h"

#include <QObject>
#include <QString>
#include <QUrl>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

namespace clipdeck::client {

struct JobSubmission
{
    QString kind;      // "transcode", "proxy", "thumbnails", "scenes", "waveform", "probe"
    QString inputPath; // a local file; a server source uploads it first
    QVariantMap params;
    int priority = 0;
    QString outputDir; // local jobs only; empty: the engine's default
};

class JobSource : public QObject
{
    Q_OBJECT
    // Registered so that QML knows the type (a property of type JobSource) and ConnectionState.
    QML_ELEMENT
    QML_UNCREATABLE("A JobSource is provided by the application")
    Q_PROPERTY(QString sourceId READ sourceId CONSTANT)
    Q_PROPERTY(QString displayName READ displayName NOTIFY displayNameChanged)
    Q_PROPERTY(ConnectionState connectionState READ connectionState NOTIFY connectionStateChanged)
    Q_PROPERTY(int reconnectInSeconds READ reconnectInSeconds NOTIFY connectionStateChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY connectionStateChanged)

public:
    enum class ConnectionState {
        Connected,    // events flow (the local engine always is, once started)
        Connecting,   // first connection under way
        Reconnecting, // lost; trying again in reconnectInSeconds
        Offline,      // stopped, or the server cannot be reached and the source gave up
        AuthFailed,   // the server refused the token: nothing will work until it changes
    };
    Q_ENUM(ConnectionState)

    using QObject::QObject;

    // Stable for the source's life and unique among sources: "local", or the server's URL.
    virtual QString sourceId() const = 0;
    // For people: "This computer", "render.example.com".
    virtual QString displayName() const = 0;
    virtual ConnectionState connectionState() const = 0;
    // Seconds until the next attempt while Reconnecting; -1 otherwise.
    virtual int reconnectInSeconds() const { return -1; }
    // Why the source is not Connected, for people; empty when it is.
    virtual QString errorString() const { return {}; }

    virtual void start() = 0;
    virtual void stop() = 0;

    // Queues a job. Returns a client-side token for the submission; the job itself shows up as
    // jobUpdated (a server source first shows the upload as a job of its own, see jobReplaced),
    // or the submission fails with submitFailed(token, error).
    virtual QString submit(const JobSubmission &submission) = 0;
    virtual void cancel(const QString &jobId) = 0;
    virtual void pause(const QString &jobId) = 0;
    virtual void resume(const QString &jobId) = 0;
    virtual void retry(const QString &jobId) = 0;
    virtual void remove(const QString &jobId) = 0;

    // The clip a job works on, for people: the input's file name, or the uploaded media's name.
    virtual QString clipName(const jobs::Job &job) const = 0;
    // Makes an output available as a local file (a server source downloads it, once) and
    // reports it with outputReady(), or actionFailed(jobId, "fetch", error).
    virtual void fetchOutput(const QString &jobId, const QString &outputName) = 0;

signals:
    void displayNameChanged();
    void connectionStateChanged();

    void jobUpdated(const clipdeck::jobs::Job &snapshot);
    void jobRemoved(const QString &jobId);
    // A job changed its id: a server source's upload (a client-side job "upload:<token>", stage
    // "uploading") became the server's job. The model keeps the row and its place.
    void jobReplaced(const QString &oldJobId, const clipdeck::jobs::Job &snapshot);
    // The complete list of this source's jobs now (see the contract above).
    void jobsReset(const QList<clipdeck::jobs::Job> &snapshots);

    void submitFailed(const QString &token, const clipdeck::jobs::Error &error);
    // action: "cancel", "pause", "resume", "retry", "remove", "fetch".
    void actionFailed(const QString &jobId, const QString &action, const clipdeck::jobs::Error &error);
    void outputReady(const QString &jobId, const QString &outputName, const QString &localPath);
};

} // namespace clipdeck::client
