#pragma once

// A small HTTP/1.1 server for long-lived streams and streamed uploads. Generic: it knows
// nothing of Clipdeck (routing, auth and JSON live in the application).
//
// Why not QHttpServer: in Qt 6.4 it buffers whole request bodies in memory and has no limits on
// header or body size and no timeouts for slow or stalled clients, all of which a server that
// accepts uploads from the network needs; and its streaming responder API changed between 6.4
// and 6.8.
//
// Why not QTcpSocket per connection (QTcpServer is used, for listening and accepting only):
// QTcpSocket's read and write ring buffers keep a 16 KiB and a 32 KiB chunk for reuse once
// used, which measured at ~14.6 KiB of RSS per idle connection — more than the whole budget of
// an idle event stream (10 kB). A connection here is a non-blocking socket, a parser and a queue
// of shared byte arrays, its socket watched with all the others by one epoll set on Linux (one
// notifier per socket elsewhere: readiness_p.h says why): ~0.6 KiB measured, the same setup
// otherwise. This makes the server POSIX-only (Linux, macOS).
//
// What it does:
//  - incremental request parsing with limits (request line 414, header section and count 431,
//    body 413), pipelining (requests answered in order), keep-alive, "Expect: 100-continue";
//  - request bodies buffered (small) or streamed to the handler piece by piece (uploads);
//  - responses: complete, from a file (read as the client takes it), or streamed. A streamed
//    response is close-delimited (no Content-Length, no chunked coding, "Connection: close"):
//    an event stream is always the last response on its connection — it ends when its job ends,
//    when the client leaves or when the server drops it — so chunked framing would only buy
//    connection reuse after a finished job stream, and it would cost a per-write frame around
//    every event, losing the one shared byte array per event that fan-out writes to every
//    subscriber;
//  - write backpressure made visible: bytes queued per connection, with an optional cap past
//    which the connection is dropped;
//  - timeouts: the head must arrive within headerTimeoutMs of its first byte, an idle
//    keep-alive connection is closed after idleTimeoutMs, a body must keep making progress
//    (bodyTimeoutMs without a byte: 408), queued output must keep moving (sendTimeoutMs);
//  - a connection limit (over it: 503 and close);
//  - lingering close: after answering a client that is still sending (a 413 mid-upload, say)
//    the server stops writing and reads and drops what comes for a moment, so the client's
//    kernel does not reset the connection and lose the answer.

#include "http/exchange.h"
#include "http/requestparser.h"

#include <QHostAddress>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

namespace clipdeck::http {

struct ServerSettings
{
    ParserLimits limits;
    int maxConnections = 10000;
    int headerTimeoutMs = 10000; // from a request's first byte until its head is complete
    int idleTimeoutMs = 60000;   // a keep-alive connection waiting for its next request
    int bodyTimeoutMs = 30000;   // the longest wait for the next byte of a body being read
    int sendTimeoutMs = 60000;   // the longest time queued output may not move at all
    int lingerMs = 2000;         // reading and dropping after the last response, before closing
};

struct ServerStats
{
    quint64 accepted = 0;
    quint64 rejectedOverLimit = 0; // answered 503: too many connections
    quint64 timedOut = 0;          // closed by any of the timeouts
    quint64 badRequests = 0;       // 4xx/5xx answered by the parser's limits and checks
    int openConnections = 0;
    qint64 bytesQueued = 0; // over all connections
};

class Server : public QObject
{
    Q_OBJECT

public:
    using Handler = std::function<void(const ExchangePtr &exchange)>;
    // The body of an error the server answers itself (parser errors, timeouts, 503): content
    // type and body for a status and a message.
    using ErrorFormatter = std::function<std::pair<QByteArray, QByteArray>(int status, const QString &message)>;
    // Called when a response's head is queued: status and the time since the request head was
    // complete (ms), e.g. for a latency histogram. For a stream: its time to the first byte.
    using ResponseObserver = std::function<void(const Exchange &exchange, int status, double elapsedMs)>;

    explicit Server(ServerSettings settings = {}, QObject *parent = nullptr);
    ~Server() override;

    void setHandler(Handler handler);
    void setErrorFormatter(ErrorFormatter formatter);
    void setResponseObserver(ResponseObserver observer);

    bool listen(const QHostAddress &address, quint16 port);
    QString errorString() const;
    QHostAddress serverAddress() const;
    quint16 serverPort() const;
    void stopListening();

    // Closes every connection: idle ones at once, the others once what they are sending is out
    // or graceMs has passed, whichever comes first. `done` runs when none is left.
    void closeAll(int graceMs, std::function<void()> done = {});

    ServerStats stats() const;
    const ServerSettings &settings() const;
    // The server's monotonic clock.
    qint64 elapsedMs() const;
    qint64 elapsedNs() const;

private:
    friend class Connection;
    struct Private;
    std::unique_ptr<Private> d;
};

// "Not Found" for 404, and so on; "Unknown" for a status it does not know.
QByteArray reasonPhrase(int status);

} // namespace clipdeck::http
