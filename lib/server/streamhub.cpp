#include "server/streamhub.h"

#include "jobs/jobstream.h"
#include "sse/encoder.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QRandomGenerator>

#include <algorithm>
#include <limits>

namespace clipdeck::server {

namespace {

QByteArray comment(QByteArrayView text)
{
    QByteArray out;
    sse::appendComment(out, text);
    return out;
}

// Built once: every heartbeat to every stream is the same shared bytes.
const QByteArray &heartbeatBytes()
{
    static const QByteArray bytes = comment("");
    return bytes;
}

std::optional<qint64> parseSeq(const QByteArray &id)
{
    if (id.isEmpty() || id.size() > 18)
        return std::nullopt;
    bool ok = false;
    const qint64 n = id.toLongLong(&ok);
    if (!ok || n < 0 || QByteArray::number(n) != id)
        return std::nullopt;
    return n;
}

qint64 monotonicMs()
{
    static QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.elapsed();
}

} // namespace

// A wheel entry: its deadline is the earlier of the next heartbeat and the idle timeout, as of
// when it was last armed. Events only push both later, so delivering one does not touch the
// wheel: sweep() finds the real deadline when the old one comes round (deadlinewheel.h).
struct StreamHub::Subscriber : http::DeadlineWheel::Entry
{
    http::ExchangePtr exchange;
    QString key;        // job id (job stream) or user (user stream)
    QString user;       // whose stream it is
    qint64 lastSeq = 0; // job streams: the highest seq sent
    qint64 lastEventMs = 0;
    qint64 lastWriteMs = 0;
    qsizetype channelIndex = -1;
    qsizetype allIndex = -1;
    bool userStream = false;
};

namespace {

// An eighth of the shorter of heartbeat and idle timeout: each is at most that much late.
qint64 tickMs(const HubSettings &settings)
{
    const int heartbeat = settings.heartbeatMs > 0 ? settings.heartbeatMs : std::numeric_limits<int>::max();
    const int idle = settings.idleTimeoutMs > 0 ? settings.idleTimeoutMs : std::numeric_limits<int>::max();
    return std::clamp(std::min(heartbeat, idle) / 8, 10, 1000);
}

} // namespace

StreamHub::StreamHub(HubSettings settings, QObject *parent)
    : QObject(parent), m_settings(settings), m_deadlines(tickMs(settings))
{
    // The epoch tells this process's cursors from an earlier one's: after a restart the old
    // history is gone, and a client presenting an old cursor gets fresh snapshots. The start
    // time alone is not enough: two processes started in the same millisecond (a supervisor
    // restarting a crashed server at once, two nodes, a clock stepped back) would share it, and
    // one's cursors would replay the other's unrelated history. So random bits follow it.
    m_epoch = QByteArray::number(QDateTime::currentMSecsSinceEpoch(), 36)
              + QByteArray::number(QRandomGenerator::system()->generate64() | (quint64(1) << 63), 36);
    m_clockStart = monotonicMs();
    m_sweep.setInterval(int(m_deadlines.granularity()));
    connect(&m_sweep, &QTimer::timeout, this, [this] { sweep(); });
}

StreamHub::~StreamHub()
{
    for (Subscriber *s : std::as_const(m_all)) {
        s->exchange->setClosedHandler({});
        delete s;
    }
}

qint64 StreamHub::now() const
{
    return monotonicMs();
}

QByteArray StreamHub::cursorFor(quint64 counter) const
{
    return m_epoch + '-' + QByteArray::number(counter);
}

QByteArray StreamHub::cursor() const
{
    return cursorFor(m_counter);
}

http::Headers StreamHub::streamHeaders()
{
    return {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/event-stream")},
            {QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache")},
            // nginx and similar proxies: pass events on at once instead of buffering them.
            {QByteArrayLiteral("X-Accel-Buffering"), QByteArrayLiteral("no")}};
}

int StreamHub::subscriberCount(const QString &jobId) const
{
    const auto it = m_jobs.find(jobId);
    return it == m_jobs.end() ? 0 : int(it->second.subscribers.size());
}

HubCounters StreamHub::counters() const
{
    HubCounters c = m_counters;
    c.historyBytes = m_jobHistoryBytes;
    for (const auto &[user, channel] : m_users)
        c.historyBytes += channel.history.bytes();
    return c;
}

// ---- publishing -----------------------------------------------------------------------------------

void StreamHub::appendJobHistory(const QString &jobId, JobChannel &channel, qint64 seq, const QByteArray &bytes)
{
    m_jobHistoryBytes += channel.history.append(quint64(seq), bytes, m_settings.history);
    // Most recently published last: moving the node (splice) allocates nothing; only a job's
    // first history entry makes one.
    if (channel.lru)
        m_lru.splice(m_lru.end(), m_lru, *channel.lru);
    else
        channel.lru = m_lru.insert(m_lru.end(), jobId);

    // Over the budget: the least recently published jobs lose their history (their streams
    // stay; a client reconnecting to one gets a fresh snapshot). Never the job just published.
    while (m_jobHistoryBytes > m_settings.historyBudgetBytes && m_lru.size() > 1) {
        const QString victim = m_lru.front();
        m_lru.pop_front();
        const auto it = m_jobs.find(victim);
        if (it == m_jobs.end())
            continue;
        m_jobHistoryBytes -= it->second.history.clear();
        it->second.lru.reset();
        if (it->second.subscribers.isEmpty())
            m_jobs.erase(it);
    }
}

void StreamHub::publish(const QString &jobId, const QString &owner, qint64 seq, bool terminal,
                        const EventEncoder &encode)
{
    ++m_counters.eventsPublished;
    const qint64 t = now();

    auto [it, created] = m_jobs.try_emplace(jobId);
    JobChannel &channel = it->second;
    if (created)
        channel.history = EventRing(quint64(std::max<qint64>(0, seq - 1)));
    channel.owner = owner;
    const QByteArray jobBytes = encode(QByteArray::number(seq));
    appendJobHistory(jobId, channel, seq, jobBytes);

    // Writes never remove a subscriber synchronously (http::Exchange defers its closed
    // handler), so the list is stable during the loop.
    const QList<Subscriber *> &subscribers = channel.subscribers;
    for (Subscriber *s : subscribers) {
        if (seq <= s->lastSeq)
            continue; // already sent (the snapshot it started with, or a replay)
        s->lastSeq = seq;
        deliver(s, jobBytes, t);
    }
    if (terminal && !subscribers.isEmpty()) {
        // A job stream ends after the terminal event: the connection closes once it is out.
        const QList<Subscriber *> ending = subscribers;
        for (Subscriber *s : ending) {
            s->exchange->end();
            remove(s);
        }
    }

    UserChannel &user = m_users[owner];
    const quint64 counter = ++m_counter;
    const QByteArray userBytes = encode(cursorFor(counter));
    user.history.append(counter, userBytes, m_settings.history);
    for (Subscriber *s : std::as_const(user.subscribers))
        deliver(s, userBytes, t);
}

void StreamHub::deliver(Subscriber *s, const QByteArray &bytes, qint64 t)
{
    if (!s->exchange->write(bytes))
        return; // gone or dropped: its closed handler cleans up
    ++m_counters.eventsDelivered;
    s->lastEventMs = t;
    s->lastWriteMs = t;
}

void StreamHub::forgetJob(const QString &jobId)
{
    const auto it = m_jobs.find(jobId);
    if (it == m_jobs.end())
        return;
    const QList<Subscriber *> subscribers = it->second.subscribers;
    for (Subscriber *s : subscribers) {
        s->exchange->end();
        remove(s);
    }
    const auto again = m_jobs.find(jobId);
    if (again == m_jobs.end())
        return;
    if (again->second.lru)
        m_lru.erase(*again->second.lru);
    m_jobHistoryBytes -= again->second.history.bytes();
    m_jobs.erase(again);
}

// ---- subscribing ----------------------------------------------------------------------------------

StreamHub::Subscriber *StreamHub::subscribe(const http::ExchangePtr &exchange, bool userStream, const QString &key,
                                            const QString &user, qint64 lastSeq)
{
    auto *s = new Subscriber;
    s->exchange = exchange;
    s->key = key;
    s->user = user;
    s->userStream = userStream;
    s->lastSeq = lastSeq;
    s->lastEventMs = s->lastWriteMs = now();
    QList<Subscriber *> &list = userStream ? m_users[key].subscribers : m_jobs[key].subscribers;
    s->channelIndex = list.size();
    list.append(s);
    s->allIndex = m_all.size();
    m_all.append(s);
    ++m_users[user].streams;
    ++m_counters.streamsOpened;
    ++(userStream ? m_counters.openUserStreams : m_counters.openJobStreams);
    armDeadline(*s);

    // The stream's slot is given back in this one place, however its exchange ends (http::Exchange
    // reports the end of every exchange exactly once): the client left, the stream was dropped, or
    // its response completed without the hub ending it — a HEAD request gets the head alone.
    exchange->setClosedHandler([this, s](http::CloseReason reason) {
        if (reason == http::CloseReason::SendBufferFull || reason == http::CloseReason::Timeout)
            ++m_counters.droppedSlowClients;
        else if (reason != http::CloseReason::ServerClosing && reason != http::CloseReason::Completed)
            ++m_counters.disconnects;
        remove(s);
    });
    return s;
}

void StreamHub::capQueue(const http::ExchangePtr &exchange)
{
    // The cap bounds what piles up after the stream's first bytes: a long snapshot burst or
    // replay that the kernel has not taken yet must not get a client dropped on arrival (it
    // would reconnect into the same burst, forever).
    exchange->setMaxQueuedBytes(m_settings.maxQueuedBytes + exchange->bytesQueued());
}

void StreamHub::remove(Subscriber *s)
{
    // swap-remove: O(1) whatever the number of streams
    auto swapRemove = [](QList<Subscriber *> &list, qsizetype index, qsizetype Subscriber::*field) {
        if (index < 0 || index >= list.size())
            return;
        Subscriber *last = list.takeLast();
        if (index < list.size()) {
            list[index] = last;
            last->*field = index;
        }
    };
    if (s->userStream) {
        if (auto it = m_users.find(s->key); it != m_users.end())
            swapRemove(it->second.subscribers, s->channelIndex, &Subscriber::channelIndex);
    } else if (auto it = m_jobs.find(s->key); it != m_jobs.end()) {
        swapRemove(it->second.subscribers, s->channelIndex, &Subscriber::channelIndex);
        if (it->second.subscribers.isEmpty() && it->second.history.isEmpty() && !it->second.lru)
            m_jobs.erase(it);
    }
    swapRemove(m_all, s->allIndex, &Subscriber::allIndex);
    m_deadlines.remove(*s);
    if (auto it = m_users.find(s->user); it != m_users.end())
        --it->second.streams;
    --(s->userStream ? m_counters.openUserStreams : m_counters.openJobStreams);
    s->exchange->setClosedHandler({});
    delete s;
}

StreamHub::Opened StreamHub::openJobStream(const http::ExchangePtr &exchange, const http::Headers &headers,
                                           const QString &owner, const std::optional<QByteArray> &lastEventId,
                                           const Snapshot &current)
{
    // -1: no usable Last-Event-ID (seqs start at 1).
    const qint64 last = lastEventId ? parseSeq(*lastEventId).value_or(-1) : -1;
    if (last == current.seq && current.terminal)
        return Opened::NoContent;
    if (!current.terminal && m_users[owner].streams >= m_settings.maxStreamsPerUser)
        return Opened::TooManyStreams;

    http::Headers all = streamHeaders();
    all.append(headers);
    QByteArray first = jobs::streamPreamble(m_settings.retryMs);
    bool replayed = false;
    if (last == current.seq) {
        replayed = true; // nothing missed
    } else if (last >= 0 && last < current.seq) {
        const auto it = m_jobs.find(current.jobId);
        if (it != m_jobs.end() && it->second.history.lastKey() == quint64(current.seq)) {
            if (const auto missed = it->second.history.after(quint64(last))) {
                for (const QByteArray &bytes : *missed)
                    first += bytes;
                m_counters.eventsReplayed += missed->size();
                replayed = true;
            }
        }
    }
    if (!replayed) {
        // No Last-Event-ID, history that no longer reaches back, or an id this job never had:
        // start over from the current snapshot.
        first += current.encode(QByteArray::number(current.seq));
        ++m_counters.snapshotsSent;
    }
    exchange->beginStream(200, all, first);
    if (current.terminal) {
        ++m_counters.streamsOpened;
        exchange->end();
        return Opened::Streaming;
    }
    // A channel made here (no event of the job published by this process yet) has a history
    // that covers only what comes after the snapshot.
    auto [it, created] = m_jobs.try_emplace(current.jobId);
    if (created)
        it->second.history = EventRing(quint64(current.seq));
    it->second.owner = owner;
    subscribe(exchange, false, current.jobId, owner, current.seq);
    capQueue(exchange);
    return Opened::Streaming;
}

StreamHub::Opened StreamHub::openUserStream(const http::ExchangePtr &exchange, const http::Headers &headers,
                                            const QString &user, const std::optional<QByteArray> &lastEventId,
                                            const std::function<QList<Snapshot>()> &snapshots)
{
    if (m_users[user].streams >= m_settings.maxStreamsPerUser)
        return Opened::TooManyStreams;
    // Subscribe first, then read what the client is owed: nothing can come in between (one
    // thread), and nothing published later is missed.
    Subscriber *s = subscribe(exchange, true, user, user, 0);
    UserChannel &channel = m_users[user];

    std::optional<QList<QByteArray>> replay;
    if (lastEventId) {
        // "<epoch>-<counter>" resumes; a burst's "<epoch>-<counter>.<k>" (a client cut off in
        // the middle of its snapshots) or another epoch's cursor starts over.
        const QByteArray &id = *lastEventId;
        const qsizetype dash = id.indexOf('-');
        if (dash > 0 && id.left(dash) == m_epoch) {
            bool ok = false;
            const quint64 counter = id.mid(dash + 1).toULongLong(&ok);
            if (ok && counter <= m_counter && QByteArray::number(counter) == id.mid(dash + 1))
                replay = channel.history.after(counter);
        }
    }

    http::Headers all = streamHeaders();
    all.append(headers);
    QByteArray first = jobs::streamPreamble(m_settings.retryMs);
    if (replay) {
        for (const QByteArray &bytes : *replay)
            first += bytes;
        m_counters.eventsReplayed += replay->size();
    } else {
        const QList<Snapshot> list = snapshots ? snapshots() : QList<Snapshot>();
        const QByteArray cursorNow = cursorFor(m_counter);
        for (qsizetype i = 0; i < list.size(); ++i) {
            const bool lastOne = i == list.size() - 1;
            first += list.at(i).encode(lastOne ? cursorNow : cursorNow + '.' + QByteArray::number(i + 1));
        }
        m_counters.snapshotsSent += list.size();
    }
    exchange->beginStream(200, all, first);
    capQueue(exchange);
    s->lastEventMs = s->lastWriteMs = now();
    return Opened::Streaming;
}

// ---- housekeeping --------------------------------------------------------------------------------

qint64 StreamHub::dueAt(const Subscriber &s) const
{
    qint64 due = 0;
    if (m_settings.heartbeatMs > 0)
        due = s.lastWriteMs + m_settings.heartbeatMs;
    if (m_settings.idleTimeoutMs > 0) {
        const qint64 idle = s.lastEventMs + m_settings.idleTimeoutMs;
        due = due == 0 ? idle : std::min(due, idle);
    }
    return due; // > 0 when armed: the times are >= 0 and the settings > 0
}

void StreamHub::armDeadline(Subscriber &s)
{
    const qint64 due = dueAt(s);
    m_deadlines.arm(s, due);
    if (due > 0 && !m_sweep.isActive() && !m_shuttingDown)
        m_sweep.start();
}

void StreamHub::sweep()
{
    const qint64 t = now();
    // Only the subscribers whose deadline (as armed) has come; most of them, on a busy server,
    // have had events since and just go back into the wheel.
    while (http::DeadlineWheel::Entry *entry = m_deadlines.takeExpired(t)) {
        auto *s = static_cast<Subscriber *>(entry);
        if (m_settings.idleTimeoutMs > 0 && t - s->lastEventMs >= m_settings.idleTimeoutMs) {
            // Idle: no event for the whole timeout. The client reconnects with its Last-Event-ID
            // when it still cares (the article's "close idle streams after five minutes").
            static const QByteArray idle = comment("idle timeout: reconnect with Last-Event-ID to resume");
            s->exchange->write(idle);
            s->exchange->end();
            ++m_counters.idleClosed;
            remove(s);
            continue;
        }
        if (m_settings.heartbeatMs > 0 && t - s->lastWriteMs >= m_settings.heartbeatMs) {
            if (s->exchange->write(heartbeatBytes()))
                ++m_counters.heartbeats;
            s->lastWriteMs = t;
        }
        armDeadline(*s);
    }
    if (m_deadlines.isEmpty())
        m_sweep.stop();
}

void StreamHub::shutdown()
{
    m_shuttingDown = true;
    m_sweep.stop();
    static const QByteArray goodbye = comment("server shutting down: reconnect with Last-Event-ID to resume");
    const QList<Subscriber *> all = m_all;
    for (Subscriber *s : all) {
        s->exchange->write(goodbye);
        s->exchange->end();
        remove(s);
    }
}

} // namespace clipdeck::server
