#include "client/jobmodel.h"

#include "client/jobsource.h"

#include <QHash>
#include <QPointer>
#include <QTimer>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

using namespace Qt::StringLiterals;

namespace clipdeck::client {

// The job schema's types are this library's vocabulary.
using namespace clipdeck::jobs;

namespace {

constexpr int RoleCount = JobModel::CanOpenOutputRole - JobModel::KeyRole + 1;
static_assert(RoleCount <= 64, "role masks are 64 bits");
using RoleMask = quint64;
constexpr RoleMask AllRoles = RoleCount == 64 ? ~RoleMask(0) : (RoleMask(1) << RoleCount) - 1;

// JobStatus is jobs::Status for QML: the same values, so one converts to the other with a cast.
static_assert(int(JobModel::JobStatus::Pending) == int(Status::Pending)
              && int(JobModel::JobStatus::Running) == int(Status::Running)
              && int(JobModel::JobStatus::Paused) == int(Status::Paused)
              && int(JobModel::JobStatus::Complete) == int(Status::Complete)
              && int(JobModel::JobStatus::Failed) == int(Status::Failed)
              && int(JobModel::JobStatus::Canceled) == int(Status::Canceled));
constexpr int StatusCount = int(Status::Canceled) + 1;

constexpr RoleMask bit(JobModel::Role role)
{
    return RoleMask(1) << (role - JobModel::KeyRole);
}

QString makeKey(const QString &sourceId, const QString &jobId)
{
    QString key;
    key.reserve(sourceId.size() + 1 + jobId.size());
    key.append(sourceId).append(u'\n').append(jobId);
    return key;
}

// data() hands out these shared strings, so the status role never allocates.
const QString &statusString(Status status)
{
    static const std::array<QString, 6> names{
        QString(statusName(Status::Pending)), QString(statusName(Status::Running)),
        QString(statusName(Status::Paused)),  QString(statusName(Status::Complete)),
        QString(statusName(Status::Failed)),  QString(statusName(Status::Canceled)),
    };
    return names[static_cast<std::size_t>(status)];
}

// The kinds people see, in one table: the short label (a row's chip, notifications) and the
// label a kind chooser lists. Translated in JobModel's context.
struct KindText
{
    QLatin1StringView kind;
    const char *label;
    const char *choiceLabel;
};
constexpr KindText kindTexts[] = {
    {QLatin1StringView("transcode"), QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Export"),
     QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Export (transcode)")},
    {QLatin1StringView("proxy"), QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Proxy"),
     QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Editing proxy")},
    {QLatin1StringView("thumbnails"), QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Thumbnails"),
     QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Thumbnails and contact sheet")},
    {QLatin1StringView("scenes"), QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Scenes"),
     QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Scene detection")},
    {QLatin1StringView("waveform"), QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Waveform"),
     QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Waveform")},
    {QLatin1StringView("probe"), QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Probe"),
     QT_TRANSLATE_NOOP("clipdeck::client::JobModel", "Probe (media info)")},
};

const KindText *kindTextOf(const QString &kind)
{
    for (const KindText &t : kindTexts) {
        if (kind == t.kind)
            return &t;
    }
    return nullptr;
}

// What a job may do, as a set of role bits (the capability roles).
RoleMask capabilitiesOf(const Job &j)
{
    using R = JobModel;
    RoleMask m = 0;
    if (j.status == Status::Pending || j.status == Status::Running)
        m |= bit(R::CanPauseRole);
    if (j.status == Status::Paused)
        m |= bit(R::CanResumeRole);
    if (!j.isTerminal())
        m |= bit(R::CanCancelRole);
    else
        m |= bit(R::CanRemoveRole);
    if (j.status == Status::Failed || j.status == Status::Canceled)
        m |= bit(R::CanRetryRole);
    if (j.status == Status::Complete && !j.outputs.isEmpty())
        m |= bit(R::CanOpenOutputRole);
    return m;
}

QVariant outputsVariant(const QList<Output> &outputs)
{
    QVariantList list;
    list.reserve(outputs.size());
    for (const Output &o : outputs) {
        list.append(QVariantMap{
            {u"name"_s, o.name},
            {u"path"_s, o.path},
            {u"role"_s, o.role},
            {u"size"_s, o.size},
            {u"mime"_s, o.mime},
        });
    }
    return list;
}

// The roles derived from the status or the outputs (capabilities): announced whenever their
// inputs change, whether or not their values do.
constexpr RoleMask StatusDerivedRoles = bit(JobModel::StatusRole) | bit(JobModel::IsTerminalRole)
                                        | bit(JobModel::JobStatusRole) | bit(JobModel::StatusLabelRole)
                                        | bit(JobModel::CanPauseRole) | bit(JobModel::CanResumeRole)
                                        | bit(JobModel::CanCancelRole) | bit(JobModel::CanRetryRole)
                                        | bit(JobModel::CanRemoveRole) | bit(JobModel::CanOpenOutputRole);

// Which roles differ between two snapshots of the same row.
RoleMask changedRoles(const Job &a, const Job &b)
{
    using R = JobModel;
    RoleMask m = bit(R::SeqRole);
    if (a.id != b.id)
        m |= bit(R::JobIdRole) | bit(R::KeyRole);
    if (a.kind != b.kind)
        m |= bit(R::KindRole) | bit(R::KindLabelRole);
    if (a.input != b.input)
        m |= bit(R::InputRole);
    if (a.params != b.params)
        m |= bit(R::ParamsRole);
    if (a.status != b.status)
        m |= StatusDerivedRoles;
    if (a.progress != b.progress)
        m |= bit(R::ProgressRole);
    if (a.stage != b.stage)
        m |= bit(R::StageRole);
    if (a.etaSeconds != b.etaSeconds)
        m |= bit(R::EtaSecondsRole);
    if (a.speed != b.speed)
        m |= bit(R::SpeedFpsRole) | bit(R::SpeedRealtimeRole);
    if (a.attempt != b.attempt)
        m |= bit(R::AttemptRole);
    if (a.priority != b.priority)
        m |= bit(R::PriorityRole);
    if (a.error != b.error)
        m |= bit(R::ErrorCodeRole) | bit(R::ErrorMessageRole);
    if (a.outputs != b.outputs)
        m |= bit(R::OutputsRole) | bit(R::CanOpenOutputRole);
    if (a.createdAt != b.createdAt)
        m |= bit(R::CreatedAtRole);
    if (a.startedAt != b.startedAt)
        m |= bit(R::StartedAtRole);
    if (a.finishedAt != b.finishedAt)
        m |= bit(R::FinishedAtRole);
    if (a.updatedAt != b.updatedAt)
        m |= bit(R::UpdatedAtRole);
    return m;
}

// The summary is kept as integer sums so that millions of incremental updates never drift:
// progress in thousandths of a percent, ETAs in milliseconds.
struct Contribution
{
    int running = 0;
    int queued = 0;
    int failed = 0;
    int active = 0;
    qint64 progressMilli = 0; // of active jobs
    qint64 etaMs = 0;         // of running jobs with an ETA
    int runningWithoutEta = 0;

    static Contribution of(const Job &job)
    {
        Contribution c;
        c.running = job.status == Status::Running;
        c.queued = job.status == Status::Pending || job.status == Status::Paused;
        c.failed = job.status == Status::Failed;
        c.active = !job.isTerminal();
        if (c.active)
            c.progressMilli = std::llround(std::clamp(job.progress, 0.0, 100.0) * 1000);
        if (c.running) {
            if (job.etaSeconds && *job.etaSeconds >= 0)
                c.etaMs = std::llround(*job.etaSeconds * 1000);
            else
                c.runningWithoutEta = 1;
        }
        return c;
    }

    void add(const Contribution &o, int sign)
    {
        running += sign * o.running;
        queued += sign * o.queued;
        failed += sign * o.failed;
        active += sign * o.active;
        progressMilli += sign * o.progressMilli;
        etaMs += sign * o.etaMs;
        runningWithoutEta += sign * o.runningWithoutEta;
    }

    friend bool operator==(const Contribution &, const Contribution &) = default;
};

} // namespace

struct JobModel::Private
{
    struct Row
    {
        JobSource *source = nullptr; // identity only: it may be mid-destruction
        QString key;
        Job job;
        QString clipName;
        QString kindLabel; // kindLabel(job.kind), made when the kind changes
        QVariant outputs;  // built when the outputs change, not on every data() call
        RoleMask dirtyRoles = 0;
    };

    struct SourceEntry
    {
        QPointer<JobSource> source;
        JobSource *raw = nullptr;
        QString id; // kept: sourceId() must not be called once the source is being destroyed
    };

    JobModel *q;
    std::vector<Row> rows;
    QHash<QString, int> rowByKey;
    QList<SourceEntry> sources;
    std::vector<int> dirty; // rows with dirtyRoles != 0, unsorted
    Contribution summary;
    Contribution announcedSummary;
    QTimer timer;
    int interval = 16;
    std::array<QString, StatusCount> statusLabels; // data() hands these out: no allocation per call

    explicit Private(JobModel *model) : q(model)
    {
        for (int i = 0; i < StatusCount; ++i)
            statusLabels[std::size_t(i)] = JobModel::statusLabel(Status(i));
        timer.setSingleShot(true);
        timer.setInterval(interval);
        QObject::connect(&timer, &QTimer::timeout, q, [this] { q->flush(); });
    }

    const SourceEntry *entryOf(const JobSource *source) const
    {
        for (const SourceEntry &e : sources) {
            if (e.raw == source)
                return &e;
        }
        return nullptr;
    }

    QString sourceIdOf(const JobSource *source) const
    {
        const SourceEntry *e = entryOf(source);
        return e ? e->id : QString();
    }

    void schedule()
    {
        if (interval <= 0)
            q->flush();
        else if (!timer.isActive())
            timer.start();
    }

    void markDirty(int row, RoleMask roles)
    {
        Row &r = rows[std::size_t(row)];
        if (r.dirtyRoles == 0)
            dirty.push_back(row);
        r.dirtyRoles |= roles;
    }

    void setSnapshot(Row &r, const Job &snapshot)
    {
        summary.add(Contribution::of(r.job), -1);
        summary.add(Contribution::of(snapshot), +1);
        if (r.job.outputs != snapshot.outputs)
            r.outputs = outputsVariant(snapshot.outputs);
        if (r.job.kind != snapshot.kind)
            r.kindLabel = JobModel::kindLabel(snapshot.kind);
        r.job = snapshot;
    }

    void insertRows(JobSource *source, const QString &sourceId, const QList<Job> &snapshots)
    {
        if (snapshots.isEmpty())
            return;
        const int first = int(rows.size());
        q->beginInsertRows({}, first, first + int(snapshots.size()) - 1);
        for (const Job &snapshot : snapshots) {
            Row r;
            r.source = source;
            r.key = makeKey(sourceId, snapshot.id);
            r.job = snapshot;
            r.clipName = source->clipName(snapshot);
            r.kindLabel = JobModel::kindLabel(snapshot.kind);
            r.outputs = outputsVariant(snapshot.outputs);
            summary.add(Contribution::of(snapshot), +1);
            rowByKey.insert(r.key, int(rows.size()));
            rows.push_back(std::move(r));
        }
        q->endInsertRows();
        emit q->countChanged();
        schedule(); // for the summary
    }

    // Updates an existing row; returns whether anything changed.
    bool update(int row, const Job &snapshot)
    {
        Row &r = rows[std::size_t(row)];
        if (snapshot.seq <= r.job.seq)
            return false;
        const bool finished = !r.job.isTerminal() && snapshot.isTerminal();
        markDirty(row, changedRoles(r.job, snapshot));
        setSnapshot(r, snapshot);
        schedule();
        if (finished)
            emit q->jobFinished(r.key, r.job);
        return true;
    }

    // Removes the given rows (any order, no duplicates), one beginRemoveRows per run.
    void removeRows(std::vector<int> doomed)
    {
        if (doomed.empty())
            return;
        std::sort(doomed.begin(), doomed.end());
        // Back to front, so earlier runs keep their numbers.
        auto end = doomed.end();
        while (end != doomed.begin()) {
            auto begin = end - 1;
            while (begin != doomed.begin() && *(begin - 1) == *begin - 1)
                --begin;
            const int first = *begin;
            const int last = *(end - 1);
            q->beginRemoveRows({}, first, last);
            for (int i = first; i <= last; ++i) {
                summary.add(Contribution::of(rows[std::size_t(i)].job), -1);
                rowByKey.remove(rows[std::size_t(i)].key);
            }
            rows.erase(rows.begin() + first, rows.begin() + last + 1);
            q->endRemoveRows();
            end = begin;
        }
        // Row numbers behind the first removed row moved: renumber, and rebuild the dirty list
        // from the rows' own marks rather than announcing pending changes early.
        dirty.clear();
        for (int i = 0; i < int(rows.size()); ++i) {
            if (i >= doomed.front())
                rowByKey[rows[std::size_t(i)].key] = i;
            if (rows[std::size_t(i)].dirtyRoles)
                dirty.push_back(i);
        }
        emit q->countChanged();
        schedule();
    }

    void removeRowsOf(const JobSource *source)
    {
        std::vector<int> doomed;
        for (int i = 0; i < int(rows.size()); ++i) {
            if (rows[std::size_t(i)].source == source)
                doomed.push_back(i);
        }
        removeRows(std::move(doomed));
    }

    void onUpdated(JobSource *source, const Job &snapshot) { q->apply(source, snapshot); }

    void onRemoved(JobSource *source, const QString &jobId)
    {
        const int row = rowByKey.value(makeKey(sourceIdOf(source), jobId), -1);
        if (row >= 0)
            removeRows({row});
    }

    void onReplaced(JobSource *source, const QString &oldJobId, const Job &snapshot)
    {
        const QString sourceId = sourceIdOf(source);
        const int row = rowByKey.value(makeKey(sourceId, oldJobId), -1);
        if (row < 0) {
            q->apply(source, snapshot);
            return;
        }
        const QString newKey = makeKey(sourceId, snapshot.id);
        if (newKey == rows[std::size_t(row)].key) {
            update(row, snapshot);
            return;
        }
        const int existing = rowByKey.value(newKey, -1);
        Job newest = snapshot;
        if (existing >= 0) {
            // The new job's own events overtook the replacement: its row goes, the replaced
            // row (and its place) stays, with whichever snapshot of the new job is newer.
            if (rows[std::size_t(existing)].job.seq > newest.seq)
                newest = rows[std::size_t(existing)].job;
            removeRows({existing});
        }
        const int at = rowByKey.value(makeKey(sourceId, oldJobId));
        Row &r = rows[std::size_t(at)];
        // The seqs of the old and the new job are unrelated: the replacement always applies.
        const bool finished = !r.job.isTerminal() && newest.isTerminal();
        rowByKey.remove(r.key);
        r.key = newKey;
        rowByKey.insert(r.key, at);
        r.clipName = source->clipName(newest);
        setSnapshot(r, newest);
        markDirty(at, AllRoles);
        schedule();
        if (finished)
            emit q->jobFinished(r.key, r.job);
    }

    void onReset(JobSource *source, const QList<Job> &snapshots)
    {
        const QString sourceId = sourceIdOf(source);
        QSet<QString> keep;
        keep.reserve(snapshots.size());
        for (const Job &s : snapshots)
            keep.insert(s.id);
        std::vector<int> doomed;
        for (int i = 0; i < int(rows.size()); ++i) {
            const Row &r = rows[std::size_t(i)];
            if (r.source == source && !keep.contains(r.job.id))
                doomed.push_back(i);
        }
        removeRows(std::move(doomed));

        QList<Job> fresh;
        QSet<QString> freshIds;
        for (const Job &s : snapshots) {
            const int row = rowByKey.value(makeKey(sourceId, s.id), -1);
            if (row >= 0) {
                update(row, s);
            } else if (!freshIds.contains(s.id)) {
                freshIds.insert(s.id);
                fresh.append(s);
            } else {
                // The same new job twice in one list: keep the newer snapshot.
                for (Job &f : fresh) {
                    if (f.id == s.id && s.seq > f.seq)
                        f = s;
                }
            }
        }
        insertRows(source, sourceId, fresh);
    }

    void onSourceNameChanged(JobSource *source)
    {
        for (int i = 0; i < int(rows.size()); ++i) {
            if (rows[std::size_t(i)].source == source)
                markDirty(i, bit(SourceNameRole));
        }
        schedule();
    }

    JobSource *sourceFor(const QString &key, QString *jobId) const
    {
        const int row = rowByKey.value(key, -1);
        if (row < 0)
            return nullptr;
        const Row &r = rows[std::size_t(row)];
        const SourceEntry *e = entryOf(r.source);
        if (!e || !e->source)
            return nullptr;
        *jobId = r.job.id;
        return e->source.data();
    }

    template <typename Action>
    bool route(const QString &key, Action action)
    {
        QString jobId;
        JobSource *source = sourceFor(key, &jobId);
        if (!source)
            return false;
        action(source, jobId);
        return true;
    }

    static QList<int> rolesOf(RoleMask mask)
    {
        // Every role: an empty list says the same and is what views handle fastest.
        if (mask == AllRoles)
            return {};
        QList<int> roles;
        for (int i = 0; i < RoleCount; ++i) {
            if (mask & (RoleMask(1) << i))
                roles.append(KeyRole + i);
        }
        return roles;
    }
};

JobModel::JobModel(QObject *parent) : QAbstractListModel(parent), d(std::make_unique<Private>(this)) { }

JobModel::~JobModel()
{
    // The sources outlive the model, or not: either way they must stop calling into it.
    for (const auto &e : std::as_const(d->sources)) {
        if (e.source)
            disconnect(e.source, nullptr, this, nullptr);
    }
}

void JobModel::addSource(JobSource *source)
{
    if (!source || d->entryOf(source))
        return;
    d->sources.append({source, source, source->sourceId()});
    connect(source, &JobSource::jobUpdated, this,
            [this, source](const Job &snapshot) { d->onUpdated(source, snapshot); });
    connect(source, &JobSource::jobRemoved, this, [this, source](const QString &id) { d->onRemoved(source, id); });
    connect(source, &JobSource::jobReplaced, this,
            [this, source](const QString &oldId, const Job &snapshot) { d->onReplaced(source, oldId, snapshot); });
    connect(source, &JobSource::jobsReset, this,
            [this, source](const QList<Job> &snapshots) { d->onReset(source, snapshots); });
    connect(source, &JobSource::displayNameChanged, this, [this, source] { d->onSourceNameChanged(source); });
    connect(source, &JobSource::actionFailed, this,
            [this, source](const QString &jobId, const QString &action, const Error &error) {
                emit actionFailed(makeKey(d->sourceIdOf(source), jobId), action, error.message);
            });
    // No row exists for a refused submission: the key carries the submission's token instead.
    connect(source, &JobSource::submitFailed, this, [this, source](const QString &token, const Error &error) {
        emit actionFailed(makeKey(d->sourceIdOf(source), token), u"submit"_s, error.message);
    });
    connect(source, &JobSource::outputReady, this,
            [this, source](const QString &jobId, const QString &outputName, const QString &localPath) {
                emit outputReady(makeKey(d->sourceIdOf(source), jobId), outputName, localPath);
            });
    connect(source, &QObject::destroyed, this, [this, source] { removeSource(source); });
}

void JobModel::removeSource(JobSource *source)
{
    const auto it = std::find_if(d->sources.begin(), d->sources.end(),
                                 [source](const Private::SourceEntry &e) { return e.raw == source; });
    if (it == d->sources.end())
        return;
    if (it->source)
        disconnect(it->source, nullptr, this, nullptr);
    d->removeRowsOf(source);
    d->sources.erase(it);
}

QList<JobSource *> JobModel::sources() const
{
    QList<JobSource *> list;
    for (const auto &e : d->sources) {
        if (e.source)
            list.append(e.source.data());
    }
    return list;
}

bool JobModel::apply(JobSource *source, const Job &snapshot)
{
    const auto *entry = d->entryOf(source);
    const QString sourceId = entry ? entry->id : source->sourceId();
    const int row = d->rowByKey.value(makeKey(sourceId, snapshot.id), -1);
    if (row >= 0)
        return d->update(row, snapshot);
    d->insertRows(source, sourceId, {snapshot});
    return true;
}

int JobModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(d->rows.size());
}

QVariant JobModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() < 0 || index.row() >= int(d->rows.size()) || index.column() != 0)
        return {};
    const Private::Row &r = d->rows[std::size_t(index.row())];
    const Job &j = r.job;
    switch (role) {
    case Qt::DisplayRole: return r.clipName;
    case KeyRole: return r.key;
    case JobIdRole: return j.id;
    case SeqRole: return j.seq;
    case KindRole: return j.kind;
    case InputRole: return j.input;
    case ClipNameRole: return r.clipName;
    case ParamsRole: return j.params;
    case StatusRole: return statusString(j.status);
    case IsTerminalRole: return j.isTerminal();
    case ProgressRole: return j.progress;
    case StageRole: return j.stage;
    case EtaSecondsRole: return j.etaSeconds ? *j.etaSeconds : -1.0;
    case SpeedFpsRole: return j.speed ? j.speed->fps : 0.0;
    case SpeedRealtimeRole: return j.speed ? j.speed->realtime : 0.0;
    case AttemptRole: return j.attempt;
    case PriorityRole: return j.priority;
    case ErrorCodeRole: return j.error ? j.error->code : QString();
    case ErrorMessageRole: return j.error ? j.error->message : QString();
    case OutputsRole: return r.outputs;
    case CreatedAtRole: return j.createdAt;
    case StartedAtRole: return j.startedAt;
    case FinishedAtRole: return j.finishedAt;
    case UpdatedAtRole: return j.updatedAt;
    case SourceIdRole: {
        const auto *e = d->entryOf(r.source);
        return e ? e->id : QString();
    }
    case SourceNameRole: {
        const auto *e = d->entryOf(r.source);
        return e && e->source ? e->source->displayName() : QString();
    }
    case JobStatusRole: return int(j.status); // a JobStatus: QML compares it with JobModel.Running, ...
    case StatusLabelRole: return d->statusLabels[std::size_t(j.status)];
    case KindLabelRole: return r.kindLabel;
    case CanPauseRole:
    case CanResumeRole:
    case CanCancelRole:
    case CanRetryRole:
    case CanRemoveRole:
    case CanOpenOutputRole: return (capabilitiesOf(j) & bit(Role(role))) != 0;
    default: return {};
    }
}

QHash<int, QByteArray> JobModel::roleNames() const
{
    static const QHash<int, QByteArray> names{
        {KeyRole, "key"},
        {JobIdRole, "jobId"},
        {SeqRole, "seq"},
        {KindRole, "kind"},
        {InputRole, "input"},
        {ClipNameRole, "clipName"},
        {ParamsRole, "params"},
        {StatusRole, "status"},
        {IsTerminalRole, "isTerminal"},
        {ProgressRole, "progress"},
        {StageRole, "stage"},
        {EtaSecondsRole, "etaSeconds"},
        {SpeedFpsRole, "speedFps"},
        {SpeedRealtimeRole, "speedRealtime"},
        {AttemptRole, "attempt"},
        {PriorityRole, "priority"},
        {ErrorCodeRole, "errorCode"},
        {ErrorMessageRole, "errorMessage"},
        {OutputsRole, "outputs"},
        {CreatedAtRole, "createdAt"},
        {StartedAtRole, "startedAt"},
        {FinishedAtRole, "finishedAt"},
        {UpdatedAtRole, "updatedAt"},
        {SourceIdRole, "sourceId"},
        {SourceNameRole, "sourceName"},
        {JobStatusRole, "jobStatus"},
        {StatusLabelRole, "statusLabel"},
        {KindLabelRole, "kindLabel"},
        {CanPauseRole, "canPause"},
        {CanResumeRole, "canResume"},
        {CanCancelRole, "canCancel"},
        {CanRetryRole, "canRetry"},
        {CanRemoveRole, "canRemove"},
        {CanOpenOutputRole, "canOpenOutput"},
    };
    return names;
}

const Job *JobModel::job(int row) const
{
    if (row < 0 || row >= int(d->rows.size()))
        return nullptr;
    return &d->rows[std::size_t(row)].job;
}

int JobModel::rowOf(const QString &key) const
{
    return d->rowByKey.value(key, -1);
}

QString JobModel::clipName(int row) const
{
    if (row < 0 || row >= int(d->rows.size()))
        return {};
    return d->rows[std::size_t(row)].clipName;
}

JobSource *JobModel::sourceOf(int row) const
{
    if (row < 0 || row >= int(d->rows.size()))
        return nullptr;
    const auto *e = d->entryOf(d->rows[std::size_t(row)].source);
    return e ? e->source.data() : nullptr;
}

bool JobModel::cancel(const QString &key)
{
    return d->route(key, [](JobSource *s, const QString &id) { s->cancel(id); });
}

bool JobModel::pause(const QString &key)
{
    return d->route(key, [](JobSource *s, const QString &id) { s->pause(id); });
}

bool JobModel::resume(const QString &key)
{
    return d->route(key, [](JobSource *s, const QString &id) { s->resume(id); });
}

bool JobModel::retry(const QString &key)
{
    return d->route(key, [](JobSource *s, const QString &id) { s->retry(id); });
}

bool JobModel::remove(const QString &key)
{
    return d->route(key, [](JobSource *s, const QString &id) { s->remove(id); });
}

bool JobModel::fetchOutput(const QString &key, const QString &outputName)
{
    return d->route(key, [&outputName](JobSource *s, const QString &id) { s->fetchOutput(id, outputName); });
}

int JobModel::removeFinished()
{
    // Collected first: a source may remove the row synchronously from inside remove().
    QStringList keys;
    for (const auto &r : d->rows) {
        if (r.job.isTerminal())
            keys.append(r.key);
    }
    int n = 0;
    for (const QString &key : std::as_const(keys))
        n += remove(key);
    return n;
}

QString JobModel::statusLabel(Status status)
{
    switch (status) {
    case Status::Pending: return tr("Queued");
    case Status::Running: return tr("Running");
    case Status::Paused: return tr("Paused");
    case Status::Complete: return tr("Done");
    case Status::Failed: return tr("Failed");
    case Status::Canceled: return tr("Canceled");
    }
    return QString(statusName(status));
}

QString JobModel::kindLabel(const QString &kind)
{
    const KindText *t = kindTextOf(kind);
    return t ? tr(t->label) : kind;
}

QString JobModel::kindChoiceLabel(const QString &kind)
{
    const KindText *t = kindTextOf(kind);
    return t ? tr(t->choiceLabel) : kind;
}

QStringList JobModel::statusLabels() const
{
    return {d->statusLabels.begin(), d->statusLabels.end()};
}

int JobModel::runningCount() const
{
    return d->summary.running;
}

int JobModel::queuedCount() const
{
    return d->summary.queued;
}

int JobModel::failedCount() const
{
    return d->summary.failed;
}

int JobModel::activeCount() const
{
    return d->summary.active;
}

double JobModel::overallProgress() const
{
    if (d->summary.active == 0)
        return -1;
    return double(d->summary.progressMilli) / 1000.0 / d->summary.active;
}

double JobModel::totalEtaSeconds() const
{
    const auto &s = d->summary;
    if (s.active == 0)
        return 0;
    if (s.running == 0 || s.runningWithoutEta > 0)
        return -1;
    return double(s.etaMs) / 1000.0;
}

void JobModel::setCoalescingInterval(int ms)
{
    d->interval = std::max(0, ms);
    d->timer.setInterval(d->interval);
    if (d->interval == 0)
        flush();
}

int JobModel::coalescingInterval() const
{
    return d->interval;
}

void JobModel::flush()
{
    d->timer.stop();
    if (!d->dirty.empty()) {
        std::vector<int> dirty;
        dirty.swap(d->dirty);
        std::sort(dirty.begin(), dirty.end());
        std::size_t i = 0;
        while (i < dirty.size()) {
            std::size_t j = i;
            RoleMask roles = d->rows[std::size_t(dirty[i])].dirtyRoles;
            while (j + 1 < dirty.size() && dirty[j + 1] == dirty[j] + 1) {
                ++j;
                roles |= d->rows[std::size_t(dirty[j])].dirtyRoles;
            }
            for (std::size_t k = i; k <= j; ++k)
                d->rows[std::size_t(dirty[k])].dirtyRoles = 0;
            // A slot of an earlier dataChanged may have removed rows.
            if (dirty[j] >= int(d->rows.size()))
                break;
            emit dataChanged(index(dirty[i]), index(dirty[j]), Private::rolesOf(roles));
            i = j + 1;
        }
    }
    if (!(d->summary == d->announcedSummary)) {
        d->announcedSummary = d->summary;
        emit summaryChanged();
    }
}

} // namespace clipdeck::client
