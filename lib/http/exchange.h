#pragma once

// One request and its response on a connection. The server hands each request to its handler
// as a std::shared_ptr<Exchange> once the head has arrived; the handler reads the body (or not)
// and answers, at once or later — the exchange stays usable after the handler returns, and
// becomes inert (writes do nothing, return false) once its connection is gone.
//
// Threading: an exchange belongs to the thread of its Server; use it from there only.
// Callbacks (body data, closed handler) never run inside a call the handler makes on the
// exchange: a closed handler that fires because write() found the peer gone runs later, from
// the event loop, so a caller that writes to many exchanges in a loop can never see one of them
// change its lists under its feet.
//
// The end of an exchange is reported exactly once, whatever the way it ended (see
// setClosedHandler()): whoever ties a resource to an exchange (a stream slot, say) gives it back
// in that one handler and cannot leak it through a path nobody thought of — a HEAD request
// answered by the head alone, a client gone before the first write, a write error.

#include "http/request.h"

#include <QByteArray>
#include <QHostAddress>

#include <functional>
#include <memory>
#include <optional>

QT_BEGIN_NAMESPACE
class QFile;
QT_END_NAMESPACE

namespace clipdeck::http {

class Connection;

enum class CloseReason {
    Completed,      // the response went out whole (a stream ended by end(), a HEAD's head, ...)
    PeerClosed,     // the client closed or reset the connection
    Timeout,        // a read or send timeout (a slow or stalled client)
    SendBufferFull, // more bytes were waiting to be sent than setMaxQueuedBytes() allows
    ServerClosing,  // Server::closeAll(), or abort()
    Error,          // a socket error
};

struct BodyReader
{
    // Each piece of the body, as it arrives (a view valid during the call only). Return false to
    // stop reading: the handler answers (or has answered) and the connection closes after that.
    std::function<bool(QByteArrayView chunk)> data;
    // The whole body has arrived.
    std::function<void()> end;
    // The body will not be complete: status is the error the server has already answered with
    // (413 over the limit, 400 malformed, 408 too slow), or 0 when the connection went away.
    // Drop whatever was received.
    std::function<void(int status)> failed;
};

class Exchange : public std::enable_shared_from_this<Exchange>
{
public:
    ~Exchange();
    Exchange(const Exchange &) = delete;
    Exchange &operator=(const Exchange &) = delete;

    const Request &request() const { return m_request; }
    const QHostAddress &peerAddress() const { return m_peer; }
    bool isHeadRequest() const;
    // The exchange is still on its connection: its response is not complete and the client has
    // not gone (nor timed out, nor been dropped).
    bool isConnected() const { return m_connection != nullptr; }
    bool hasResponded() const { return m_responded; }
    // When the request head was complete, in the server's clock (Server::elapsedNs()).
    qint64 receivedAtNs() const { return m_receivedAtNs; }

    // --- The request body: call one of these at most once, before responding. A request whose
    // body is neither read nor complete closes its connection after the response.

    // The whole body in memory, at most `limit` bytes: for small bodies (JSON). Over the limit
    // the server answers 413 itself, a malformed or stalled body 400 / 408, and done is not called.
    void readBody(qint64 limit, std::function<void(const QByteArray &body)> done);
    // The body piece by piece, never held whole: for uploads.
    void streamBody(qint64 limit, BodyReader reader);

    // --- The response: one of respond(), respondFile(), beginStream().

    // A complete response; Content-Length is set from the body (a HEAD request gets no body).
    void respond(int status, const Headers &headers, const QByteArray &body = {});
    // `length` bytes of `file` from `offset`, read as the client takes them (never the whole
    // file in memory). The file must be open for reading.
    void respondFile(int status, const Headers &headers, std::unique_ptr<QFile> file, qint64 offset, qint64 length);
    // A response whose body is whatever write() sends, ended by closing the connection (no
    // Content-Length, no chunking: see server.h). `first` goes out with the head, in one write.
    void beginStream(int status, const Headers &headers, const QByteArray &first = {});
    // Queues bytes of a streamed response; they are sent at once when the socket takes them.
    // Shared byte arrays stay shared: fan-out of one event to many streams copies nothing.
    // Returns false once the connection is gone or is being dropped.
    bool write(const QByteArray &bytes);
    // Ends a streamed response: the connection closes once everything queued has been sent.
    void end();
    // Drops the connection now; what is queued is lost.
    void abort(CloseReason reason = CloseReason::ServerClosing);

    // Bytes handed to write()/respond*() that the kernel has not taken yet.
    qint64 bytesQueued() const;
    // Past this many queued bytes the connection is dropped (SendBufferFull): a client that
    // cannot keep up never makes the server hold more for it. 0 (the default) means no cap.
    void setMaxQueuedBytes(qint64 bytes);
    // Called exactly once, later (from the event loop), when the exchange is over: Completed when
    // its response went out whole (after end(), or at once for a HEAD request's stream), else
    // why it ended early — the client left, timed out, was dropped. Set on an exchange that is
    // over already, it is called all the same (from the event loop). Setting an empty handler
    // before the call cancels it.
    void setClosedHandler(std::function<void(CloseReason)> handler);

    // A name for the request's route, for the server's response observer (metrics).
    void setLabel(const QByteArray &label) { m_label = label; }
    const QByteArray &label() const { return m_label; }

private:
    friend class Connection;
    Exchange(Connection *connection, Request request, QHostAddress peer, qint64 receivedAtNs);
    // The connection is done with this exchange (the only way an exchange leaves its connection).
    void detach(CloseReason reason);
    void queueClosedHandler();

    Connection *m_connection;
    Request m_request;
    QHostAddress m_peer;
    QByteArray m_label;
    std::function<void(CloseReason)> m_closed;
    std::optional<CloseReason> m_ended; // set once, by detach()
    qint64 m_receivedAtNs;
    bool m_responded = false;
    bool m_bodyRequested = false;
    bool m_closedQueued = false;
};

using ExchangePtr = std::shared_ptr<Exchange>;

} // namespace clipdeck::http
