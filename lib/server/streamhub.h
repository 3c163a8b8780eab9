#pragma once

// The stream hub: who is subscribed to what, the replay history, and fan-out. Everything reaches
// it by events — publish() is called from the engine's jobUpdated (and the bench hook) — and
// nothing here ever reads the job store: no polling.
//
// Two kinds of stream (docs/protocol.md, "Streams"):
//  - a job stream (GET /api/jobs/{id}/stream): event id = the job's seq; replay from the job's
//    history; ends after the terminal event;
//  - a user stream (GET /api/events): all of one user's jobs; event id = a server-wide cursor
//    "<epoch>-<counter>" (epoch: this process's own, never another's); replay from the user's history; never
//    ends by itself.
//
// Fan-out is cheap: each event is encoded once per kind of stream (the job stream's bytes with
// id = seq, the user stream's bytes with the cursor) and the same QByteArray — shared, never
// copied — is written to every subscriber's socket. One job has one owner, so a publish encodes
// exactly twice however many streams watch it.
//
// Subscribe-before-snapshot: the hub, the engine and the routes all live on one thread, and a
// stream is opened (subscribed, snapshot or history read, first bytes queued) within one call,
// so no event can fall between the snapshot and the live updates. Job streams also keep the
// last seq they sent and skip anything not above it ("dedupe by seq").
//
// Memory: per stream, a small Subscriber next to the connection; per job, up to `history`
// events, with all jobs' histories together held under historyBudgetBytes (the least recently
// published job's history goes first); per user, up to `history` events. A client whose unsent
// bytes pass maxQueuedBytes is dropped and resumes with Last-Event-ID.

#include "http/deadlinewheel.h"
#include "http/exchange.h"
#include "server/eventring.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <functional>
#include <list>
#include <optional>
#include <unordered_map>

namespace clipdeck::server {

struct HubSettings
{
    int heartbeatMs = 15000;
    int idleTimeoutMs = 300000; // no event delivered for this long: the stream is closed
    qint64 maxQueuedBytes = 1 << 20;
    int maxStreamsPerUser = 100;
    int history = 500;                            // events kept per job and per user
    qint64 historyBudgetBytes = qint64(64) << 20; // all job histories together
    int retryMs = 2000;                           // the retry: hint of the preamble
};

// Encodes a job's event (SSE wire format) with the given event id.
using EventEncoder = std::function<QByteArray(QByteArrayView eventId)>;

// A job's current state, as a stream starts with it.
struct Snapshot
{
    QString jobId;
    qint64 seq = 0;
    bool terminal = false;
    EventEncoder encode;
};

struct HubCounters
{
    int openJobStreams = 0;
    int openUserStreams = 0;
    quint64 streamsOpened = 0;
    quint64 eventsPublished = 0;
    quint64 eventsDelivered = 0;    // live events written to streams
    quint64 eventsReplayed = 0;     // from history after a Last-Event-ID
    quint64 snapshotsSent = 0;      // fresh snapshots on connect
    quint64 droppedSlowClients = 0; // send buffer over the cap, or output stalled
    quint64 disconnects = 0;        // the client left (or the connection broke)
    quint64 idleClosed = 0;
    quint64 heartbeats = 0;
    qint64 historyBytes = 0;
};

class StreamHub : public QObject
{
    Q_OBJECT

public:
    explicit StreamHub(HubSettings settings, QObject *parent = nullptr);
    ~StreamHub() override;

    // One event of a job. encode is called once per kind of stream.
    void publish(const QString &jobId, const QString &owner, qint64 seq, bool terminal, const EventEncoder &encode);
    // The job is gone: its history too (streams of a removed job have ended already).
    void forgetJob(const QString &jobId);

    enum class Opened { Streaming, NoContent, TooManyStreams };

    // Opens a job stream on the exchange: the SSE response headers plus `headers`, the preamble,
    // then what the client missed since lastEventId (or `current`), then live events. NoContent:
    // the client already has the job's terminal event (answer 204: a browser stops reconnecting).
    Opened openJobStream(const http::ExchangePtr &exchange, const http::Headers &headers, const QString &owner,
                         const std::optional<QByteArray> &lastEventId, const Snapshot &current);
    // Opens a user stream; `snapshots` is read only when the client needs fresh snapshots.
    Opened openUserStream(const http::ExchangePtr &exchange, const http::Headers &headers, const QString &user,
                          const std::optional<QByteArray> &lastEventId,
                          const std::function<QList<Snapshot>()> &snapshots);

    // Shutting down: every stream gets a final comment and is ended.
    void shutdown();

    HubCounters counters() const;
    QByteArray epoch() const { return m_epoch; }
    QByteArray cursor() const; // the current resume position of user streams
    int subscriberCount(const QString &jobId) const;

    // The response headers of every stream.
    static http::Headers streamHeaders();

private:
    struct Subscriber;
    struct JobChannel
    {
        QString owner;
        QList<Subscriber *> subscribers;
        EventRing history;
        std::optional<std::list<QString>::iterator> lru;
    };
    struct UserChannel
    {
        QList<Subscriber *> subscribers;
        EventRing history;
        int streams = 0; // open streams of both kinds, for maxStreamsPerUser
    };

    Subscriber *subscribe(const http::ExchangePtr &exchange, bool userStream, const QString &key, const QString &user,
                          qint64 lastSeq);
    void remove(Subscriber *s);
    void capQueue(const http::ExchangePtr &exchange);
    void deliver(Subscriber *s, const QByteArray &bytes, qint64 now);
    void appendJobHistory(const QString &jobId, JobChannel &channel, qint64 seq, const QByteArray &bytes);
    void sweep();
    qint64 dueAt(const Subscriber &s) const;
    void armDeadline(Subscriber &s);
    qint64 now() const;
    QByteArray cursorFor(quint64 counter) const;

    HubSettings m_settings;
    QByteArray m_epoch;
    quint64 m_counter = 0;
    std::unordered_map<QString, JobChannel> m_jobs;
    std::unordered_map<QString, UserChannel> m_users;
    QList<Subscriber *> m_all;
    std::list<QString> m_lru; // job ids with history, least recently published first
    qint64 m_jobHistoryBytes = 0;
    HubCounters m_counters;
    // Heartbeats and idle streams: each subscriber's next one in a wheel, and one timer that
    // takes what is due (a tick costs what expires, not the number of streams), running only
    // while some stream has a deadline.
    http::DeadlineWheel m_deadlines;
    QTimer m_sweep;
    qint64 m_clockStart;
    bool m_shuttingDown = false;
};

} // namespace clipdeck::server
