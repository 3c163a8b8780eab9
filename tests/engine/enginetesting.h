#pragma once

// Shared by the engine tests: an event recorder, the event-stream invariants, and the real media
// operations the tests run.

#include "engine/engine.h"
#include "jobs/job.h"
#include "jobs/jobjson.h"
#include "media/operation.h"
#include "mediafixtures.h"

#include <QDir>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>

#include <functional>

namespace enginetesting {

using clipdeck::jobs::Job;
using clipdeck::jobs::Status;

// The real operations, as the product registers them.
inline QList<clipdeck::media::OperationSpec> realOperations()
{
    return clipdeck::media::operations();
}

inline bool hasOperation(const QList<clipdeck::media::OperationSpec> &ops, const QString &kind)
{
    for (const auto &op : ops) {
        if (op.kind == kind)
            return true;
    }
    return false;
}

// A real job that runs long enough (seconds) to be paused and canceled while it runs and that
// reports progress all along: a transcode of a 30 s clip (scene detection of a 60 s clip, which
// decodes every frame, should a build lack transcode).
struct JobSpec
{
    QString kind;
    QString input;
    QVariantMap params;
};

inline JobSpec longJob()
{
    if (hasOperation(clipdeck::media::operations(), QStringLiteral("transcode")))
        return {QStringLiteral("transcode"), fixtures::basicClip(30), {}};
    return {QStringLiteral("scenes"), fixtures::basicClip(60), {{QStringLiteral("thumbnails"), false}}};
}

// A short real job with outputs.
inline JobSpec shortJob()
{
    return {QStringLiteral("thumbnails"), fixtures::basicClip(4), {{QStringLiteral("count"), 4}}};
}

class EventLog : public QObject
{
public:
    explicit EventLog(clipdeck::engine::Engine &engine)
    {
        clock.start();
        connect(&engine, &clipdeck::engine::Engine::jobUpdated, this, [this](const Job &job) {
            events[job.id].append(job);
            receivedAtMs[job.id].append(clock.elapsed());
            all.append(job);
            if (onEvent)
                onEvent(job);
        });
    }

    QList<Job> of(const QString &id) const { return events.value(id); }
    std::optional<Job> last(const QString &id) const
    {
        const auto list = events.value(id);
        return list.isEmpty() ? std::nullopt : std::optional<Job>(list.last());
    }
    bool isTerminal(const QString &id) const
    {
        const auto l = last(id);
        return l && l->isTerminal();
    }
    Status status(const QString &id) const
    {
        const auto l = last(id);
        return l ? l->status : Status::Pending;
    }
    // How many times the job entered status (progress events of a running job do not count).
    qsizetype transitionsTo(const QString &id, Status status) const
    {
        qsizetype n = 0;
        const auto list = events.value(id);
        for (qsizetype i = 0; i < list.size(); ++i)
            n += list[i].status == status && (i == 0 || list[i - 1].status != status);
        return n;
    }
    qsizetype count(const QString &id, Status status) const
    {
        qsizetype n = 0;
        for (const Job &j : events.value(id))
            n += j.status == status;
        return n;
    }

    QHash<QString, QList<Job>> events;
    QHash<QString, QList<qint64>> receivedAtMs;
    QList<Job> all;
    QElapsedTimer clock;
    std::function<void(const Job &)> onEvent;
};

// The invariants of one job's event stream (docs/protocol.md). Returns what is wrong, or an
// empty string.
inline QString checkStream(const QList<Job> &events)
{
    if (events.isEmpty())
        return QStringLiteral("no events");
    for (qsizetype i = 0; i < events.size(); ++i) {
        const Job &j = events[i];
        const QString at = QStringLiteral("event %1 (seq %2, %3): ")
                               .arg(i)
                               .arg(j.seq)
                               .arg(QString(clipdeck::jobs::statusName(j.status)));
        // Every snapshot survives its own wire format.
        const auto decoded = clipdeck::jobs::decodeJob(clipdeck::jobs::encodeJob(j));
        if (!decoded.job || !(*decoded.job == j))
            return at + QStringLiteral("does not round-trip through JSON: ") + decoded.error;
        if (j.id != events[0].id)
            return at + QStringLiteral("belongs to another job");
        if (i == 0)
            continue;
        const Job &prev = events[i - 1];
        if (j.seq != prev.seq + 1)
            return at + QStringLiteral("seq does not follow %1").arg(prev.seq);
        if (prev.isTerminal()) {
            // Only a retry may follow a terminal event: a new attempt, pending, clean.
            if (j.attempt != prev.attempt + 1 || j.status != Status::Pending || j.error || !j.outputs.isEmpty())
                return at + QStringLiteral("follows a terminal event but is not a fresh retry");
        } else if (j.attempt != prev.attempt) {
            return at + QStringLiteral("changes attempt without a terminal event");
        }
        if (!prev.isTerminal() && j.status == Status::Running && prev.status == Status::Running
            && j.progress < prev.progress)
            return at + QStringLiteral("progress went back from %1 to %2").arg(prev.progress).arg(j.progress);
        if (j.updatedAt < prev.updatedAt)
            return at + QStringLiteral("updatedAt went back");
    }
    // Exactly one terminal event per attempt that ended: the attempt's last event.
    QHash<int, int> terminals;
    for (const Job &j : events)
        terminals[j.attempt] += j.isTerminal();
    for (auto it = terminals.cbegin(); it != terminals.cend(); ++it) {
        if (it.value() > 1)
            return QStringLiteral("attempt %1 has %2 terminal events").arg(it.key()).arg(it.value());
        if (it.value() == 0 && it.key() != events.last().attempt)
            return QStringLiteral("attempt %1 never ended").arg(it.key());
    }
    return {};
}

// Every file in dir, hidden and temporary ones included.
inline QStringList filesIn(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System, QDir::Name);
}

} // namespace enginetesting
