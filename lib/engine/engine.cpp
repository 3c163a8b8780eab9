#include "engine/engine.h"

#include "engine/jobqueue_p.h"
#include "engine/jobstore_p.h"
#include "engine/progressestimator_p.h"
#include "engine/runcontrol_p.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QLoggingCategory>
#include <QMimeDatabase>
#include <QSet>
#include <QStandardPaths>
#include <QTimer>
#include <QUuid>

#include <algorithm>
#include <atomic>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cmath>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

Q_LOGGING_CATEGORY(lcEngine, "clipdeck.engine")

namespace clipdeck::engine {

namespace {

// A job's decoders free their pictures when it ends, but glibc would keep much of that memory
// for good: its mmap and trim thresholds grow with the largest block freed (a 4K picture plane
// raises them to 8 and 16 MB), after which pictures come from the per-thread arenas, whose free
// tops stay resident below the trim threshold — and malloc_trim() does not trim those tops.
// Measured in tests/engine/tst_jobmemory.cpp (scene detection of a 4K clip, RssAnon): with the
// thresholds growing, 14–68 MiB of the job's ~110 MiB stayed resident after it (malloc_trim or
// not); with them fixed, none did. So: glibc's initial thresholds (128 KiB), kept fixed —
// pictures are mmapped and unmapped when freed, arena tops trimmed — set once, before the first
// job starts its threads; and malloc_trim() once a job's operation has returned, for the free
// pages inside the arenas.
void fixMallocThresholds()
{
#if defined(__GLIBC__)
    static std::once_flag once;
    std::call_once(once, [] { mallopt(M_TRIM_THRESHOLD, 128 * 1024); });
#endif
}

void releaseFreedMemory()
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

} // namespace

using jobs::Job;
using jobs::Status;

namespace {

// Worker threads reach the engine only through this. Once the engine shuts down it detaches,
// and later posts are dropped instead of landing on an object that is about to go away.
class EngineLink
{
public:
    explicit EngineLink(QObject *engine) : m_engine(engine) { }

    template <typename Functor>
    void post(Functor &&functor)
    {
        std::lock_guard lock(m_mutex);
        if (m_engine)
            QMetaObject::invokeMethod(m_engine, std::forward<Functor>(functor), Qt::QueuedConnection);
    }

    void detach()
    {
        std::lock_guard lock(m_mutex);
        m_engine = nullptr;
    }

private:
    std::mutex m_mutex;
    QObject *m_engine;
};

jobs::Error makeError(QLatin1StringView code, const QString &message)
{
    return jobs::Error{QString(code), message};
}

QString quoted(const QString &text)
{
    return u'\u201C' + text + u'\u201D';
}

QDateTime utcNow()
{
    return QDateTime::currentDateTimeUtc();
}

// How far ahead of a running job's seq a write reserves (jobstore_p.h): progress events up to
// this many past the last write emit without writing anything; the batch writes (every
// persistIntervalMs, ~10 events at the default settings) move the reservation on. After a crash
// the job's seq jumps by at most this much.
constexpr qint64 SeqReserveBlock = 64;

// The name an operation gives the job's outputs (clip.mp4, clip.contact.jpg ...): from the input.
QString outputBaseName(const Job &job)
{
    const QString base = QFileInfo(job.input).completeBaseName();
    return base.isEmpty() ? QStringLiteral("output") : base;
}

// One attempt in progress: its worker thread and what the engine tracks about it.
struct Run
{
    std::shared_ptr<RunControl> control;
    std::thread thread;
    std::future<void> done; // ready once the worker has posted its result and is about to end
    ProgressEstimator estimator;
    ProgressThrottle throttle;
    QTimer progressTimer; // publishes a progress report the throttle held back
    bool progressPending = false;
    bool cancelRequested = false;
};

struct Entry
{
    StoredJob stored; // stored.job is the last emitted snapshot
    Pool pool = Pool::Light;
    std::unique_ptr<Run> run; // set while a worker runs the job (running, or paused mid-run)
};

} // namespace

struct Engine::Private
{
    enum class Persist { Now, Batched, NewJob };

    Engine *q;
    EngineSettings settings;
    std::shared_ptr<EngineLink> link;
    std::unique_ptr<JobStore> store; // null without persistence
    bool opened = false;
    bool shutDown = false;
    QString error;

    std::unordered_map<QString, Entry> entries;
    QStringList creationOrder; // ids, oldest first
    JobQueue queue;
    int running[2] = {0, 0};
    quint64 nextOrder = 1;
    bool scheduleQueued = false;

    QList<Job> outbox; // events caused while another is being delivered (see publish)
    bool emitting = false;

    QElapsedTimer clock; // monotonic time for progress, ETA and throttling
    QSet<QString> dirty; // progress-only changes not yet written
    QTimer persistTimer;

    Private(Engine *engine, EngineSettings s) : q(engine), settings(std::move(s))
    {
        if (settings.outputDir.isEmpty())
            settings.outputDir = EngineSettings::defaultDataDir() + QStringLiteral("/outputs");
        settings.heavyConcurrency = std::max(0, settings.heavyConcurrency);
        settings.lightConcurrency = std::max(0, settings.lightConcurrency);
        settings.progressIntervalMs = std::max(0, settings.progressIntervalMs);
        clock.start();
        persistTimer.setSingleShot(true);
    }

    qint64 now() const { return clock.elapsed(); }

    int limit(Pool pool) const { return pool == Pool::Heavy ? settings.heavyConcurrency : settings.lightConcurrency; }

    const media::OperationSpec *findSpec(const QString &kind) const
    {
        for (const auto &op : settings.operations) {
            if (op.kind == kind)
                return &op;
        }
        return nullptr;
    }

    Entry *find(const QString &id)
    {
        const auto it = entries.find(id);
        return it == entries.end() ? nullptr : &it->second;
    }

    // ---- events and persistence ------------------------------------------------------------

    // Makes the entry's snapshot the job's next event: writes it down, then emits it.
    //
    // A state change is written before anyone hears of it, so a crash can never take back what
    // a watcher was told (a job canceled, completed, retried). Progress is written in batches,
    // so the file may be a few events behind; but no seq is emitted above the job's stored
    // reservation (jobstore_p.h): when this one would be, the row is written first, reserving a
    // block ahead. After a crash the job goes on above the reservation (open()).
    //
    // One exception: a new job's first event is written right after it is emitted. A crash in
    // between loses a job that its submitter has not been told of (submit() has not returned),
    // where the other order could leave a job that nobody can see: the server records the
    // job's owner in another database as that first event goes out (server/eventbridge.cpp).
    //
    // A slot may call back into the engine (cancel from a progress event, say) and so cause
    // another event while this one is still being delivered. That event waits in the outbox
    // until this one has reached every subscriber, so all of them see each job's events in seq
    // order. Nothing here touches the entry after the emit except through a fresh lookup: a
    // slot may even have removed the job.
    Job publish(Entry &e, Persist persist)
    {
        Job &job = e.stored.job;
        ++job.seq;
        job.updatedAt = utcNow();
        if (e.run) {
            e.run->throttle.published(now());
            e.run->progressPending = false;
            e.run->progressTimer.stop();
        }
        if (store && persist != Persist::NewJob) {
            if (persist == Persist::Now || job.seq > e.stored.seqReserved) {
                write(e);
            } else {
                dirty.insert(job.id);
                if (!persistTimer.isActive())
                    persistTimer.start(settings.persistIntervalMs);
            }
        }

        const Job snapshot = job;
        outbox.append(snapshot);
        if (!emitting) {
            emitting = true;
            while (!outbox.isEmpty())
                emit q->jobUpdated(outbox.takeFirst());
            emitting = false;
        }
        if (Entry *after = find(snapshot.id); after && store && persist == Persist::NewJob)
            write(*after);
        return snapshot;
    }

    // The reservation a write carries: while the job runs, room for the progress events until a
    // later batch; otherwise none (what comes next is a state change, written before it is sent).
    static void reserveSeqs(StoredJob &s)
    {
        s.seqReserved = s.job.status == Status::Running ? s.job.seq + SeqReserveBlock : s.job.seq;
    }

    void write(Entry &e)
    {
        reserveSeqs(e.stored);
        dirty.remove(e.stored.job.id);
        if (!store->save(e.stored))
            qCWarning(lcEngine, "%s", qPrintable(store->errorString()));
    }

    void flushDirty()
    {
        if (!store || dirty.isEmpty())
            return;
        QList<StoredJob> batch;
        batch.reserve(dirty.size());
        for (const QString &id : std::as_const(dirty)) {
            if (Entry *e = find(id)) {
                reserveSeqs(e->stored);
                batch.append(e->stored);
            }
        }
        dirty.clear();
        if (!store->save(batch))
            qCWarning(lcEngine, "%s", qPrintable(store->errorString()));
    }

    // Removes what attempts of these jobs that died with their process left half-written in
    // their output folders (media::removeStalePartials: a partial file still being written, by
    // another job or process, stays).
    void removeStalePartials(const QList<const StoredJob *> &stored)
    {
        QHash<QString, QStringList> basesByDir;
        for (const StoredJob *s : stored) {
            QStringList &bases = basesByDir[s->outputDir];
            const QString base = outputBaseName(s->job);
            if (!bases.contains(base))
                bases.append(base);
        }
        for (auto it = basesByDir.cbegin(); it != basesByDir.cend(); ++it) {
            if (!QFileInfo(it.key()).isDir())
                continue;
            for (const QString &path : media::removeStalePartials(it.key(), it.value()))
                qCInfo(lcEngine, "removed %s, left by an interrupted job", qPrintable(path));
        }
    }

    // Copies the run's latest progress into the snapshot. Returns whether anything visible
    // changed.
    bool fillProgress(Entry &e)
    {
        Job &job = e.stored.job;
        const ProgressEstimator &est = e.run->estimator;
        const double progress = std::round(est.fraction() * 10000.0) / 100.0;
        const auto eta = est.etaSeconds(now());
        const auto speed = est.isPaused() ? std::nullopt : est.speed();
        const bool changed =
            progress != job.progress || est.stage() != job.stage || eta != job.etaSeconds || speed != job.speed;
        job.progress = progress;
        job.stage = est.stage();
        job.etaSeconds = eta;
        job.speed = speed;
        return changed;
    }

    void scheduleSoon()
    {
        // Deferred to the event loop so that jobs submitted together are ordered by priority
        // before any of them takes a slot.
        if (scheduleQueued || shutDown)
            return;
        scheduleQueued = true;
        QMetaObject::invokeMethod(
            q, [this] { schedule(); }, Qt::QueuedConnection);
    }

    void schedule()
    {
        scheduleQueued = false;
        if (!opened || shutDown)
            return;
        for (Pool pool : {Pool::Heavy, Pool::Light}) {
            while (running[int(pool)] < limit(pool)) {
                const auto id = queue.takeNext(pool);
                if (!id)
                    break;
                start(*id);
            }
        }
    }

    // ---- running -----------------------------------------------------------------------------

    // Ends a job that has no worker (never started, or refused before starting).
    void finishWithoutRun(Entry &e, Status status, std::optional<jobs::Error> why)
    {
        Job &job = e.stored.job;
        job.status = status;
        job.error = std::move(why);
        job.etaSeconds.reset();
        job.speed.reset();
        job.finishedAt = utcNow();
        publish(e, Persist::Now);
    }

    void start(const QString &id)
    {
        Entry *e = find(id);
        if (!e || e->stored.job.status != Status::Pending)
            return;
        Job &job = e->stored.job;
        const QString outputDir = e->stored.outputDir;

        // What is certain before any work: these fail the job rather than the operation.
        const media::OperationSpec *spec = findSpec(job.kind);
        if (!spec || !spec->run) {
            finishWithoutRun(
                *e, Status::Failed,
                makeError(jobs::errors::UnknownKind,
                          QStringLiteral("This version of Clipdeck cannot run %1 jobs.").arg(quoted(job.kind))));
            return;
        }
        if (!QFileInfo::exists(job.input)) {
            finishWithoutRun(*e, Status::Failed,
                             makeError(media::errors::FileNotFound,
                                       QStringLiteral("The input file %1 does not exist.").arg(quoted(job.input))));
            return;
        }
        if (!QDir().mkpath(outputDir) || !QFileInfo(outputDir).isDir() || !QFileInfo(outputDir).isWritable()) {
            finishWithoutRun(
                *e, Status::Failed,
                makeError(
                    media::errors::OutputUnwritable,
                    QStringLiteral("The output folder %1 cannot be created or written to.").arg(quoted(outputDir))));
            return;
        }

        auto run = std::make_unique<Run>();
        run->throttle = ProgressThrottle(settings.progressIntervalMs);
        run->estimator.start(now());
        run->progressTimer.setSingleShot(true);
        QObject::connect(&run->progressTimer, &QTimer::timeout, q, [this, id] { publishProgress(id); });

        const int attempt = job.attempt;
        const auto sharedLink = link;
        run->control = std::make_shared<RunControl>(
            [sharedLink, this, id, attempt] { sharedLink->post([this, id, attempt] { onProgress(id, attempt); }); });

        media::Request request;
        request.inputPath = QFileInfo(job.input).absoluteFilePath();
        request.outputDir = outputDir;
        request.baseName = outputBaseName(job);
        request.params = job.params;
        request.limits = settings.limits;

        std::promise<void> finished;
        run->done = finished.get_future();
        try {
            run->thread = std::thread([op = *spec, request, control = run->control, link = link, this, id, attempt,
                                       finished = std::move(finished)]() mutable {
                media::Result result = op.run(request, *control);
                releaseFreedMemory();
                link->post([this, id, attempt, result = std::move(result)] { onFinished(id, attempt, result); });
                finished.set_value();
            });
        } catch (const std::system_error &err) {
            finishWithoutRun(*e, Status::Failed,
                             makeError(media::errors::Internal, QStringLiteral("Could not start a worker thread: %1")
                                                                    .arg(QString::fromLocal8Bit(err.what()))));
            return;
        }

        ++running[int(e->pool)];
        e->run = std::move(run);
        job.status = Status::Running;
        job.progress = 0;
        job.stage.clear();
        job.etaSeconds.reset();
        job.speed.reset();
        job.error.reset();
        job.outputs.clear();
        job.startedAt = utcNow();
        job.finishedAt = QDateTime();
        publish(*e, Persist::Now);
    }

    void onProgress(const QString &id, int attempt)
    {
        Entry *e = find(id);
        if (!e || !e->run || e->stored.job.attempt != attempt)
            return;
        Run &run = *e->run;
        const auto progress = run.control->takeProgress();
        if (!progress)
            return;
        const qint64 t = now();
        run.estimator.update(*progress, t);
        // While paused the report is kept: the resume event carries it.
        if (e->stored.job.status != Status::Running)
            return;
        run.progressPending = true;
        const qint64 due = run.throttle.dueAt(t);
        if (due <= t)
            publishProgress(id);
        else if (!run.progressTimer.isActive())
            run.progressTimer.start(int(due - t));
    }

    void publishProgress(const QString &id)
    {
        Entry *e = find(id);
        if (!e || !e->run || !e->run->progressPending || e->stored.job.status != Status::Running)
            return;
        e->run->progressPending = false;
        if (fillProgress(*e))
            publish(*e, Persist::Batched);
    }

    void onFinished(const QString &id, int attempt, const media::Result &result)
    {
        Entry *e = find(id);
        if (!e || !e->run || e->stored.job.attempt != attempt)
            return;
        std::unique_ptr<Run> run = std::move(e->run);
        run->progressTimer.stop();
        if (run->thread.joinable())
            run->thread.join(); // it has posted this result and is returning: no wait to speak of
        --running[int(e->pool)];

        Job &job = e->stored.job;
        // The last reports, in case the throttle held one back.
        job.progress = std::round(run->estimator.fraction() * 10000.0) / 100.0;
        if (!run->estimator.stage().isEmpty())
            job.stage = run->estimator.stage();
        job.etaSeconds.reset();
        job.speed.reset();
        job.finishedAt = utcNow();

        const bool canceled = run->cancelRequested || (result.error && result.error->code == media::errors::Canceled);
        if (canceled) {
            // A cancel that crossed a finishing operation still wins: the user asked for nothing.
            if (!result.error) {
                for (const media::Output &o : result.outputs)
                    QFile::remove(o.path);
            }
            job.status = Status::Canceled;
            job.error.reset();
        } else if (result.error) {
            job.status = Status::Failed;
            job.error =
                jobs::Error{result.error->code.isEmpty() ? QString(media::errors::Internal) : result.error->code,
                            result.error->message.isEmpty() ? QStringLiteral("The operation failed without saying why.")
                                                            : result.error->message};
        } else {
            job.status = Status::Complete;
            job.progress = 100;
            job.stage.clear();
            job.error.reset();
            job.outputs = mapOutputs(result.outputs);
        }
        publish(*e, Persist::Now);
        scheduleSoon();
    }

    static QList<jobs::Output> mapOutputs(const QList<media::Output> &outputs)
    {
        QList<jobs::Output> mapped;
        mapped.reserve(outputs.size());
        for (const media::Output &o : outputs) {
            const QFileInfo info(o.path);
            jobs::Output out;
            out.name = info.fileName();
            out.path = info.absoluteFilePath();
            out.role = o.role;
            out.size = o.size > 0 ? o.size : info.size();
            out.mime = o.mimeType.isEmpty() ? QMimeDatabase().mimeTypeForFile(info).name() : o.mimeType;
            mapped.append(out);
        }
        return mapped;
    }

    jobs::Error stateError(const Job &job, const QString &what) const
    {
        return makeError(
            jobs::errors::InvalidState,
            QStringLiteral("Cannot %1 job %2: it is %3.").arg(what, job.id, QString(jobs::statusName(job.status))));
    }

    // ---- open / shutdown -----------------------------------------------------------------------

    void interrupt(Entry &e, const QString &message)
    {
        Job &job = e.stored.job;
        job.status = Status::Failed;
        job.error = makeError(jobs::errors::Interrupted, message);
        job.etaSeconds.reset();
        job.speed.reset();
        job.finishedAt = utcNow();
        publish(e, Persist::Now);
    }
};

QString EngineSettings::defaultDataDir()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
}

EngineSettings EngineSettings::defaults()
{
    EngineSettings s;
    const QString dir = defaultDataDir();
    s.databasePath = dir + QStringLiteral("/jobs.sqlite");
    s.outputDir = dir + QStringLiteral("/outputs");
    return s;
}

Engine::Engine(EngineSettings settings, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>(this, std::move(settings)))
{
    fixMallocThresholds();
    qRegisterMetaType<clipdeck::jobs::Job>();
    d->link = std::make_shared<EngineLink>(this);
    connect(&d->persistTimer, &QTimer::timeout, this, [this] { d->flushDirty(); });
}

Engine::~Engine()
{
    shutdown();
}

bool Engine::open()
{
    if (d->opened)
        return true;
    if (d->shutDown) {
        d->error = QStringLiteral("the engine has been shut down");
        return false;
    }
    d->error.clear();
    QList<StoredJob> loaded;
    if (!d->settings.databasePath.isEmpty()) {
        static std::atomic<int> instances{0};
        const QFileInfo file(d->settings.databasePath);
        QDir().mkpath(file.absolutePath());
        d->store = std::make_unique<JobStore>(QStringLiteral("clipdeck-engine-%1").arg(++instances));
        if (!d->store->open(file.absoluteFilePath())) {
            d->error = d->store->errorString();
            d->store.reset();
            return false;
        }
        QStringList warnings;
        loaded = d->store->load(&warnings);
        for (const QString &w : std::as_const(warnings))
            qCWarning(lcEngine, "%s", qPrintable(w));
    }
    d->opened = true;

    std::stable_sort(loaded.begin(), loaded.end(),
                     [](const StoredJob &a, const StoredJob &b) { return a.job.createdAt < b.job.createdAt; });
    for (StoredJob &s : loaded) {
        d->nextOrder = std::max(d->nextOrder, s.order + 1);
        // Watchers may have seen seqs up to the reservation, past the stored snapshot's: go on
        // above it (jobstore_p.h). A row written before reservations existed has none; had its
        // job been running, its progress was written in batches then too, a block at the most
        // behind at the default settings.
        const bool wasRunning =
            s.job.status == Status::Running || (s.job.status == Status::Paused && s.job.startedAt.isValid());
        const qint64 reserved = s.seqReserved > 0 ? s.seqReserved : s.job.seq + (wasRunning ? SeqReserveBlock : 0);
        if (reserved > s.job.seq) {
            s.job.seq = reserved;
            if (!wasRunning && d->store) {
                // Nothing else will write it before its next event: write the snapshot the
                // engine now hands out.
                s.seqReserved = reserved;
                if (!d->store->save(s))
                    qCWarning(lcEngine, "%s", qPrintable(d->store->errorString()));
            }
        }
        const media::OperationSpec *spec = d->findSpec(s.job.kind);
        const QString id = s.job.id;
        Entry entry;
        entry.pool = spec && spec->heavy ? Pool::Heavy : Pool::Light;
        entry.stored = std::move(s);
        d->creationOrder.append(id);
        d->entries.emplace(id, std::move(entry));
    }
    // Recovery, in creation order. A job paused before it ever started (held) has no startedAt;
    // one paused mid-run has, and its operation died with the process.
    for (const QString &id : std::as_const(d->creationOrder)) {
        Entry *e = d->find(id);
        if (!e)
            continue;
        const Job &job = e->stored.job;
        if (job.status == Status::Running || (job.status == Status::Paused && job.startedAt.isValid())) {
            d->interrupt(
                *e, QStringLiteral("Clipdeck stopped while this job was running (at %1%). Retry it to run it again.")
                        .arg(job.progress, 0, 'f', 0));
        } else if (job.status == Status::Pending) {
            d->queue.push(id, job.priority, e->stored.order, e->pool);
        }
    }
    // Before anything runs: the attempts that died with a process (now, or earlier without
    // their files going: an operation that outlived a shutdown) may have left partial files.
    QList<const StoredJob *> interrupted;
    for (const auto &[id, e] : d->entries) {
        const Job &job = e.stored.job;
        if (job.status == Status::Failed && job.error && job.error->code == jobs::errors::Interrupted)
            interrupted.append(&e.stored);
    }
    d->removeStalePartials(interrupted);
    d->scheduleSoon();
    return true;
}

bool Engine::isOpen() const
{
    return d->opened;
}

QString Engine::errorString() const
{
    return d->error;
}

void Engine::shutdown()
{
    if (d->shutDown)
        return;
    d->shutDown = true;
    d->link->detach(); // from here on, workers' reports and results go nowhere

    QList<QString> runningIds;
    for (const QString &id : std::as_const(d->creationOrder)) {
        Entry *e = d->find(id);
        if (e && e->run) {
            e->run->control->cancel();
            runningIds.append(id);
        }
    }
    // Say so at once, then wait for the workers to notice.
    for (const QString &id : std::as_const(runningIds)) {
        if (Entry *e = d->find(id); e && e->run) {
            e->run->progressTimer.stop();
            d->interrupt(*e,
                         QStringLiteral("Clipdeck was closed while this job was running. Retry it to run it again."));
        }
    }
    const QDeadlineTimer deadline(d->settings.shutdownTimeoutMs);
    for (auto &[id, e] : d->entries) {
        if (!e.run)
            continue;
        Run &run = *e.run;
        const auto left = std::chrono::milliseconds(std::max<qint64>(0, deadline.remainingTime()));
        if (run.done.wait_for(left) == std::future_status::ready) {
            run.thread.join();
        } else {
            // An operation that ignores cancel: leave it to finish on its own rather than hang
            // the caller. Everything it holds is its own copy, and it can no longer post.
            qCWarning(lcEngine, "job %s did not stop within %d ms; leaving its thread behind", qPrintable(id),
                      d->settings.shutdownTimeoutMs);
            run.thread.detach();
        }
        --d->running[int(e.pool)];
        e.run.reset();
    }
    d->persistTimer.stop();
    d->flushDirty();
    if (d->store)
        d->store->close();
    d->opened = false;
}

SubmitResult Engine::submit(const QString &kind, const QString &input, const QVariantMap &params, int priority,
                            const QString &outputDir)
{
    if (!d->opened || d->shutDown)
        return {std::nullopt, makeError(jobs::errors::InvalidState, QStringLiteral("The job engine is not open."))};
    const media::OperationSpec *spec = d->findSpec(kind);
    if (!spec) {
        QStringList known;
        for (const auto &op : d->settings.operations)
            known.append(op.kind);
        return {std::nullopt, makeError(jobs::errors::UnknownKind,
                                        QStringLiteral("There is no job kind %1 (known kinds: %2).")
                                            .arg(quoted(kind), known.isEmpty() ? QStringLiteral("none")
                                                                               : known.join(QStringLiteral(", "))))};
    }
    if (spec->validate) {
        if (const auto invalid = spec->validate(params))
            return {std::nullopt, jobs::Error{invalid->code, invalid->message}};
    }
    if (input.isEmpty())
        return {std::nullopt, makeError(media::errors::InvalidParams, QStringLiteral("No input file was given."))};

    Entry entry;
    entry.pool = spec->heavy ? Pool::Heavy : Pool::Light;
    Job &job = entry.stored.job;
    job.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    job.kind = kind;
    job.input = input;
    job.params = params;
    job.status = Status::Pending;
    job.priority = priority;
    job.attempt = 1;
    job.createdAt = utcNow();
    entry.stored.outputDir = QFileInfo(outputDir.isEmpty() ? d->settings.outputDir : outputDir).absoluteFilePath();
    entry.stored.order = d->nextOrder++;

    const QString id = job.id;
    d->queue.push(id, priority, entry.stored.order, entry.pool);
    d->creationOrder.append(id);
    Entry &stored = d->entries.emplace(id, std::move(entry)).first->second;
    const Job first = d->publish(stored, Private::Persist::NewJob);
    d->scheduleSoon();
    return {first, std::nullopt};
}

std::optional<jobs::Error> Engine::cancel(const QString &id)
{
    Entry *e = d->find(id);
    if (!e)
        return makeError(jobs::errors::NotFound, QStringLiteral("There is no job %1.").arg(id));
    const Status status = e->stored.job.status;
    if (e->run) {
        // The operation stops at its next checkpoint and removes its files; onFinished then
        // emits the one terminal event.
        e->run->cancelRequested = true;
        e->run->control->cancel();
        return std::nullopt;
    }
    if (status == Status::Pending || status == Status::Paused) {
        d->queue.remove(id);
        d->finishWithoutRun(*e, Status::Canceled, std::nullopt);
        return std::nullopt;
    }
    return d->stateError(e->stored.job, QStringLiteral("cancel"));
}

std::optional<jobs::Error> Engine::pause(const QString &id)
{
    Entry *e = d->find(id);
    if (!e)
        return makeError(jobs::errors::NotFound, QStringLiteral("There is no job %1.").arg(id));
    Job &job = e->stored.job;
    if (job.status == Status::Pending) {
        d->queue.remove(id); // held: it keeps its place (its order) for when it is resumed
        job.status = Status::Paused;
        d->publish(*e, Private::Persist::Now);
        return std::nullopt;
    }
    if (job.status == Status::Running && e->run && !e->run->cancelRequested) {
        e->run->control->pause();
        e->run->estimator.pause(d->now());
        d->fillProgress(*e);
        job.status = Status::Paused;
        d->publish(*e, Private::Persist::Now);
        return std::nullopt;
    }
    return d->stateError(job, QStringLiteral("pause"));
}

std::optional<jobs::Error> Engine::resume(const QString &id)
{
    Entry *e = d->find(id);
    if (!e)
        return makeError(jobs::errors::NotFound, QStringLiteral("There is no job %1.").arg(id));
    Job &job = e->stored.job;
    if (job.status != Status::Paused || (e->run && e->run->cancelRequested))
        return d->stateError(job, QStringLiteral("resume"));
    if (e->run) {
        e->run->estimator.resume(d->now());
        e->run->control->resume();
        d->fillProgress(*e);
        job.status = Status::Running;
    } else {
        job.status = Status::Pending;
        d->queue.push(id, job.priority, e->stored.order, e->pool);
        d->scheduleSoon();
    }
    d->publish(*e, Private::Persist::Now);
    return std::nullopt;
}

std::optional<jobs::Error> Engine::retry(const QString &id)
{
    Entry *e = d->find(id);
    if (!e)
        return makeError(jobs::errors::NotFound, QStringLiteral("There is no job %1.").arg(id));
    Job &job = e->stored.job;
    if (d->shutDown || e->run || (job.status != Status::Failed && job.status != Status::Canceled))
        return d->stateError(job, QStringLiteral("retry"));
    // Whatever an earlier attempt left half-written goes, so that this one gets the job's names
    // (a name some other file has taken meanwhile is never overwritten: docs/protocol.md).
    d->removeStalePartials({&e->stored});
    ++job.attempt;
    job.status = Status::Pending;
    job.progress = 0;
    job.stage.clear();
    job.etaSeconds.reset();
    job.speed.reset();
    job.error.reset();
    job.outputs.clear();
    job.startedAt = QDateTime();
    job.finishedAt = QDateTime();
    e->stored.order = d->nextOrder++;
    d->queue.push(id, job.priority, e->stored.order, e->pool);
    d->publish(*e, Private::Persist::Now);
    d->scheduleSoon();
    return std::nullopt;
}

std::optional<jobs::Error> Engine::remove(const QString &id)
{
    Entry *e = d->find(id);
    if (!e)
        return makeError(jobs::errors::NotFound, QStringLiteral("There is no job %1.").arg(id));
    if (!e->stored.job.isTerminal() || e->run)
        return d->stateError(e->stored.job, QStringLiteral("remove"));
    d->removeStalePartials({&e->stored}); // its complete outputs stay; nothing half-written does
    d->entries.erase(id);
    d->creationOrder.removeOne(id);
    d->dirty.remove(id);
    if (d->store && !d->store->remove(id))
        qCWarning(lcEngine, "%s", qPrintable(d->store->errorString()));
    emit jobRemoved(id);
    return std::nullopt;
}

std::optional<jobs::Job> Engine::job(const QString &id) const
{
    const auto it = d->entries.find(id);
    if (it == d->entries.end())
        return std::nullopt;
    return it->second.stored.job;
}

QList<jobs::Job> Engine::jobs() const
{
    QList<jobs::Job> all;
    all.reserve(d->creationOrder.size());
    for (const QString &id : std::as_const(d->creationOrder)) {
        const auto it = d->entries.find(id);
        if (it != d->entries.end())
            all.append(it->second.stored.job);
    }
    return all;
}

void Engine::setConcurrency(int heavy, int light)
{
    d->settings.heavyConcurrency = std::max(0, heavy);
    d->settings.lightConcurrency = std::max(0, light);
    d->scheduleSoon();
}

const EngineSettings &Engine::settings() const
{
    return d->settings;
}

} // namespace clipdeck::engine
