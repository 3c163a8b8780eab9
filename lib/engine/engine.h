#pragma once

// The local job engine: a queue that runs media operations as jobs on worker threads, keeps the
// queue and history in SQLite, and reports every change as a job snapshot (jobs/job.h), the same
// events a Clipdeck server streams (docs/protocol.md).
//
// Threading. An Engine lives on the thread that creates it (the GUI or main thread) and is used
// only from there. Operations run on worker threads of their own; everything they report is
// brought back to the engine's thread, and jobUpdated is always emitted there. So a subscriber
// on the engine's thread that connects to jobUpdated and then reads job(id) in the same call
// cannot miss or double an event: nothing runs in between, every later event has a higher seq.
// A subscriber on another thread (queued connection) connects first, then asks for the snapshot,
// and drops queued events whose seq is not above the snapshot's — the protocol's "subscribe
// before reading the snapshot, dedupe by seq".
//
// Events. For every job, each emitted snapshot has seq one above the previous one, for the
// job's whole life (retries included), across restarts. After a crash (the process killed, not
// shut down) the job's next seq may jump ahead, by at most 64: never back, and never a seq that
// an event before the crash may have had (docs/protocol.md, "Crashes"). State changes are
// written to the database before they are emitted, so a crash never takes one back (a new job's
// first event excepted: a crash right after it loses the job, whose submit() never returned);
// progress is written in batches (persistIntervalMs). State changes are emitted at once; progress at most
// once per progressIntervalMs, the latest report winning and none held back longer than the
// interval. Every attempt ends with exactly one terminal event (complete, failed, canceled).
// A slot may call the engine back (cancel from a progress event, say); the events that causes
// are emitted once the current one has reached every subscriber, so every subscriber sees each
// job's events in seq order, while job(id) already returns the newest snapshot.

#include "jobs/job.h"
#include "media/operation.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QVariantMap>

#include <memory>
#include <optional>

namespace clipdeck::engine {

struct EngineSettings
{
    // The SQLite file holding the queue and history; one Engine per file at a time. Empty:
    // nothing is kept (one-off runs such as `clipdeck-cli render`).
    QString databasePath;
    // Where jobs that name no folder write their outputs; created when a job needs it.
    // Empty: defaultDataDir() + "/outputs".
    QString outputDir;
    int heavyConcurrency = 1;     // encodes (OperationSpec::heavy) running at once
    int lightConcurrency = 2;     // other jobs running at once
    int progressIntervalMs = 100; // at most one progress event per job per interval
    int persistIntervalMs = 1000; // progress-only changes are written in batches this often
    int shutdownTimeoutMs = 5000; // how long shutdown waits for canceled operations to return
    // The operations jobs can run, by kind. Tests pass their own selection.
    QList<media::OperationSpec> operations = media::operations();
    // What one job may make FFmpeg allocate (media::Limits): largest picture, streams, memory.
    media::Limits limits;

    // The per-user data folder (QStandardPaths::AppLocalDataLocation).
    static QString defaultDataDir();
    // databasePath and outputDir in defaultDataDir(): what the desktop app uses.
    static EngineSettings defaults();
};

struct SubmitResult
{
    std::optional<jobs::Job> job;     // the new job's first snapshot (status pending)
    std::optional<jobs::Error> error; // or why it was refused
};

class Engine : public QObject
{
    Q_OBJECT

public:
    explicit Engine(EngineSettings settings = EngineSettings(), QObject *parent = nullptr);
    // Shuts down (see shutdown()) if that has not happened yet.
    ~Engine() override;

    // Opens the database, brings back the queue and history, and starts what is pending. A job
    // that was running (or paused mid-run) when the process stopped comes back failed with code
    // "interrupted" and can be retried; pending and held (paused before they ran) jobs stay
    // queued. The partial files interrupted attempts left in their output folders are removed
    // (media::removeStalePartials), so a retry gets the job's names. Returns false, with
    // errorString(), when the database cannot be used. Connect to jobUpdated before opening to
    // see the recovery events.
    bool open();
    bool isOpen() const;
    QString errorString() const;

    // Cancels running operations and records those jobs as failed "interrupted" (retryable),
    // waits for the workers (at most shutdownTimeoutMs), writes everything down and closes the
    // database. Pending jobs stay queued for the next open(). Later calls do nothing.
    void shutdown();

    // Queues a job on input, a local file path (a server resolves its media ids to files before
    // it submits). Refused at once (no job is made) for an unknown kind ("unknown_kind") or
    // parameters the operation rejects (its code, e.g. "invalid_params", "unknown_preset").
    // Problems found only when the job runs — a missing input file ("file_not_found"), an
    // output folder that cannot be written ("output_unwritable"), broken media — end the job
    // failed instead, so they show up in its event stream like any other failure.
    // outputDir empty: settings().outputDir. Higher priority runs first, then submission order.
    SubmitResult submit(const QString &kind, const QString &input, const QVariantMap &params = {}, int priority = 0,
                        const QString &outputDir = {});

    // The actions return std::nullopt on success, or an error: "not_found" (no such job) or
    // "invalid_state" (e.g. resuming a job that is not paused).

    // Pending or held: canceled at once. Running or paused: the operation is told to stop (it
    // does within ~200 ms, removing what it wrote) and the job ends canceled when it has.
    std::optional<jobs::Error> cancel(const QString &id);
    // Running: the operation blocks at its next checkpoint; status "paused" is emitted at once.
    // Pending: the job is held (status "paused") and does not start until resumed.
    std::optional<jobs::Error> pause(const QString &id);
    std::optional<jobs::Error> resume(const QString &id);
    // Failed or canceled: the same job runs again as a new attempt (attempt + 1, error and
    // outputs cleared, seq going on), queued behind jobs of its priority. Its outputs get the
    // first free names, as the first attempt's did: the same ones unless a file took one
    // meanwhile (never replaced: the attempt takes the next stem, clip-2.*).
    std::optional<jobs::Error> retry(const QString &id);
    // Finished (complete, failed, canceled): forgotten, from memory and the database. Its output
    // files stay where they are; partial files an interrupted attempt left do not.
    std::optional<jobs::Error> remove(const QString &id);

    // The latest emitted snapshot: exactly what the last jobUpdated for it carried.
    std::optional<jobs::Job> job(const QString &id) const;
    // Every job, oldest first.
    QList<jobs::Job> jobs() const;

    // Changeable at any time: more slots start queued jobs now; fewer let running jobs finish.
    void setConcurrency(int heavy, int light);
    const EngineSettings &settings() const;

signals:
    void jobUpdated(const clipdeck::jobs::Job &snapshot);
    void jobRemoved(const QString &id);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace clipdeck::engine
