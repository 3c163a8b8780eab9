#pragma once

// One accepted connection: a non-blocking socket, a parser, the current exchange and the
// output queue. Internal to lib/http (see server.h for why this is not a QTcpSocket).
//
// Memory matters here: an idle event stream is a Connection, its Exchange and the request head.
// So: no notifier of its own (the server's Readiness watches the socket: readiness_p.h), input
// is buffered only when a read ends mid-request, and the output queue holds shared byte arrays,
// never copies.

#include "http/deadlinewheel.h"
#include "http/exchange.h"
#include "http/readiness_p.h"
#include "http/requestparser.h"
#include "http/server.h"

#include <QByteArray>
#include <QFile>
#include <QHostAddress>
#include <QList>
#include <QObject>

#include <functional>
#include <memory>

namespace clipdeck::http {

// A DeadlineWheel::Entry: the server's wheel holds its earliest deadline (read or send).
class Connection : public QObject, public DeadlineWheel::Entry
{
public:
    Connection(Server *server, int fd, const QHostAddress &peer);
    ~Connection() override;

    // --- for Exchange (ex must be the current exchange; others are ignored)
    void startBody(Exchange *ex, qint64 limit, std::function<void(const QByteArray &)> done, BodyReader reader);
    void respond(Exchange *ex, int status, const Headers &headers, const QByteArray &body);
    void respondFile(Exchange *ex, int status, const Headers &headers, std::unique_ptr<QFile> file, qint64 offset,
                     qint64 length);
    void beginStream(Exchange *ex, int status, const Headers &headers, const QByteArray &first);
    bool write(Exchange *ex, const QByteArray &bytes);
    void endStream(Exchange *ex);
    void abort(Exchange *ex, CloseReason reason);
    qint64 bytesQueued() const { return m_queued; }
    void setMaxQueuedBytes(qint64 bytes) { m_maxQueued = bytes; }

    // --- for Server
    // The connection's deadline (from the server's DeadlineWheel) has come: acts on whichever
    // of its deadlines is due and arms the next one.
    void checkTimeouts(qint64 now);
    // Server::closeAll: close now when nothing is under way, else after the current response.
    void closeWhenDone();
    void forceClose();
    int index = -1; // position in the server's list

private:
    enum class Phase { Head, Handling, Body, Lingering, Closed };
    enum class Response { None, Sending, Stream, Complete };
    enum class BodyState { None, Reading, Complete, Abandoned };
    enum class Deadline { None, Idle, Header, Body, Linger };

    friend class Readiness; // onReadable(), onWritable()

    qint64 now() const;
    Readiness &readiness() const;
    void setInterest(Readiness::Interest interest, bool on);
    void onReadable();
    void onWritable();
    void handleInput(QByteArrayView input);
    qsizetype consume(QByteArrayView input);
    void dispatch();
    void deliverBody(QByteArrayView chunk);
    void bodyComplete();
    void bodyFailed(int status, const QString &message);
    void scheduleResume();
    void resume();
    void setReadPaused(bool paused);

    void enqueue(const QByteArray &bytes);
    void flush();
    void refillFile();
    QByteArray head(int status, const Headers &headers, qint64 contentLength, bool close) const;
    void observe(Exchange *ex, int status);
    void sendError(int status, const QString &message);
    void responseQueued();
    void maybeFinishExchange();
    void startLinger();
    void setReadDeadline(Deadline kind, int timeoutMs);
    void setSendDeadline(qint64 deadline);
    void expireDeadlines(qint64 now);
    void armDeadline(); // the earlier of the read and send deadlines, into the server's wheel
    void scheduleClose(CloseReason reason);
    void finalize();

    Server *m_server;
    int m_fd;
    QHostAddress m_peer;
    RequestParser m_parser;
    QByteArray m_in; // received, not consumed yet (a partial body piece, pipelined requests)
    QList<QByteArray> m_out;
    qsizetype m_outOffset = 0; // of m_out.first(), already sent
    qint64 m_queued = 0;
    qint64 m_maxQueued = 0;

    ExchangePtr m_exchange;
    std::function<void(const QByteArray &)> m_bufferedDone; // readBody
    QByteArray m_bodyBuffer;
    BodyReader m_reader; // streamBody
    std::unique_ptr<QFile> m_file;
    qint64 m_fileRemaining = 0;

    qint64 m_readDeadline = 0;
    qint64 m_lingerEnds = 0;                   // lingering never lasts past this, however long the client sends
    static constexpr int MaxLingerFactor = 15; // × lingerMs (2 s → 30 s, nginx's lingering_time)
    qint64 m_sendDeadline = 0;
    Deadline m_readDeadlineKind = Deadline::None;
    Phase m_phase = Phase::Head;
    Response m_response = Response::None;
    BodyState m_body = BodyState::None;
    CloseReason m_closeReason = CloseReason::PeerClosed;
    bool m_closeAfter = false;
    bool m_streamEnding = false;
    bool m_readPaused = false;
    bool m_resumeQueued = false;
    bool m_consuming = false;
};

} // namespace clipdeck::http
