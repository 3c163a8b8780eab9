#include "http/connection_p.h"

#include "http/server_p.h"

#include <QLoggingCategory>

#include <cerrno>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcHttp, "clipdeck.http")

namespace clipdeck::http {

namespace {

constexpr qsizetype ReadChunk = 16 * 1024;
constexpr int ReadsPerWakeup = 4;                 // then let other connections have a turn
constexpr qsizetype MaxBufferedInput = 64 * 1024; // pipelined input waiting for a response
constexpr qint64 FileHighWater = 256 * 1024;      // read more of a file below this many queued bytes
constexpr qint64 FileChunk = 64 * 1024;
constexpr int MaxIovecs = 64;

bool statusHasNoBody(int status)
{
    return status < 200 || status == 204 || status == 304;
}

bool validHeaderPart(const QByteArray &v)
{
    return !v.contains('\r') && !v.contains('\n') && !v.contains('\0');
}

} // namespace

Connection::Connection(Server *server, int fd, const QHostAddress &peer)
    : m_server(server), m_fd(fd), m_peer(peer), m_parser(server->d->settings.limits)
{
    // A new connection must send its head within the header timeout, like a slow one.
    setReadDeadline(Deadline::Header, m_server->d->settings.headerTimeoutMs);
    if (!readiness().add(fd, this))
        scheduleClose(CloseReason::Error);
}

Connection::~Connection()
{
    m_server->d->deadlines.remove(*this);
    // Only the server's destructor deletes a connection that has not finalized: the application
    // is going away, and nobody is told.
    if (m_exchange)
        m_exchange->m_connection = nullptr;
    if (m_fd >= 0) {
        readiness().remove(m_fd);
        ::close(m_fd);
    }
}

qint64 Connection::now() const
{
    return m_server->d->clock.elapsed();
}

Readiness &Connection::readiness() const
{
    return *m_server->d->readiness;
}

void Connection::setInterest(Readiness::Interest interest, bool on)
{
    if (m_fd >= 0 && !readiness().setInterest(m_fd, interest, on))
        scheduleClose(CloseReason::Error);
}

void Connection::setReadDeadline(Deadline kind, int timeoutMs)
{
    m_readDeadlineKind = kind;
    m_readDeadline = kind == Deadline::None || timeoutMs <= 0 ? 0 : now() + timeoutMs;
    armDeadline();
}

void Connection::setSendDeadline(qint64 deadline)
{
    if (m_sendDeadline == deadline)
        return;
    m_sendDeadline = deadline;
    armDeadline();
}

// Called on every deadline change (every request, body piece and blocked write): O(1) in the
// wheel, and a store only when the deadline moves later, which is what it mostly does.
void Connection::armDeadline()
{
    if (m_phase == Phase::Closed)
        return;
    qint64 earliest = m_readDeadline;
    if (m_sendDeadline > 0 && (earliest == 0 || m_sendDeadline < earliest))
        earliest = m_sendDeadline;
    m_server->d->armDeadline(this, earliest);
}

// ---- input ------------------------------------------------------------------------------------

void Connection::onReadable()
{
    if (m_phase == Phase::Closed)
        return;
    char buffer[ReadChunk];
    for (int round = 0; round < ReadsPerWakeup; ++round) {
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            // Nothing more will be answered on this connection (a stream, an error, linger):
            // what the client sends is read only to notice when it goes, and dropped.
            if (m_phase == Phase::Lingering) {
                // As nginx's lingering close: while the client is still sending (the rest of a
                // body we refused), keep draining; closing with unread data would reset the
                // connection and destroy our answer in the client's receive buffer. Bounded in
                // total, so a client that never stops cannot hold the connection.
                const qint64 left = m_lingerEnds - now();
                if (left <= 0) {
                    scheduleClose(CloseReason::PeerClosed);
                    return;
                }
                setReadDeadline(Deadline::Linger, int(std::min<qint64>(m_server->d->settings.lingerMs, left)));
                continue;
            }
            if (m_closeAfter && m_phase != Phase::Body)
                continue;
            handleInput(QByteArrayView(buffer, n));
            if (m_phase == Phase::Closed || m_readPaused)
                return;
            continue;
        }
        if (n == 0) {
            // The client closed its side. Lingering, that is what we waited for; otherwise the
            // client is gone (or half-closed, which HTTP clients do not do while waiting).
            scheduleClose(CloseReason::PeerClosed);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            scheduleClose(errno == ECONNRESET ? CloseReason::PeerClosed : CloseReason::Error);
        return;
    }
}

void Connection::handleInput(QByteArrayView input)
{
    if (m_in.isEmpty()) {
        const qsizetype used = consume(input);
        if (used < input.size())
            m_in.append(input.sliced(used));
    } else {
        m_in.append(input);
        const qsizetype used = consume(m_in);
        if (used >= m_in.size())
            m_in.clear();
        else
            m_in.remove(0, used);
    }
    if (m_phase == Phase::Lingering || m_phase == Phase::Closed) {
        m_in.clear(); // nothing more is answered on this connection
        return;
    }
    // Pipelined requests (or a body nobody reads yet) wait here; past the cap stop reading
    // until the current response is done.
    if (m_in.size() > MaxBufferedInput)
        setReadPaused(true);
}

void Connection::setReadPaused(bool paused)
{
    if (m_readPaused == paused || m_phase == Phase::Closed)
        return;
    m_readPaused = paused;
    setInterest(Readiness::Read, !paused);
}

// Runs the parser over input as far as the current phase allows; returns the bytes used.
qsizetype Connection::consume(QByteArrayView input)
{
    m_consuming = true;
    qsizetype used = 0;
    while (m_phase == Phase::Head || m_phase == Phase::Body) {
        const bool wasMidRequest = m_parser.isMidRequest();
        const RequestParser::Result r = m_parser.parse(input.sliced(used));
        used += r.consumed;
        if (r.step == RequestParser::Step::NeedMore) {
            if (m_phase == Phase::Head && !wasMidRequest && m_parser.isMidRequest())
                setReadDeadline(Deadline::Header, m_server->d->settings.headerTimeoutMs);
            else if (m_phase == Phase::Body && r.consumed > 0)
                setReadDeadline(Deadline::Body, m_server->d->settings.bodyTimeoutMs);
            break;
        }
        if (r.step == RequestParser::Step::Error) {
            ++m_server->d->counters.badRequests;
            if (m_phase == Phase::Body) {
                bodyFailed(m_parser.errorStatus(), m_parser.errorMessage());
            } else {
                sendError(m_parser.errorStatus(), m_parser.errorMessage());
            }
            used = input.size(); // nothing after a broken request can be trusted
            break;
        }
        if (m_phase == Phase::Head) {
            if (r.step == RequestParser::Step::Head)
                dispatch();
            continue;
        }
        // Phase::Body
        if (r.step == RequestParser::Step::Body) {
            setReadDeadline(Deadline::Body, m_server->d->settings.bodyTimeoutMs);
            deliverBody(r.body);
        } else if (r.step == RequestParser::Step::End) {
            bodyComplete();
        }
    }
    m_consuming = false;
    return used;
}

void Connection::dispatch()
{
    // A request without a body ends right after its head: take that End now, so a handler that
    // answers at once lets the connection go on to the next request.
    bool bodyless = false;
    if (!m_parser.hasBody()) {
        m_parser.parse({});
        bodyless = true;
    }
    m_phase = Phase::Handling;
    m_response = Response::None;
    m_body = bodyless ? BodyState::Complete : BodyState::None;
    m_closeAfter = false;
    m_streamEnding = false;
    setReadDeadline(Deadline::None, 0); // the handler's time is not the client's fault
    m_exchange.reset(new Exchange(this, m_parser.takeRequest(), m_peer, m_server->d->clock.nsecsElapsed()));
    if (!m_exchange->request().keepAlive())
        m_closeAfter = true;
    if (m_server->d->closingAll)
        m_closeAfter = true;
    const ExchangePtr exchange = m_exchange; // the handler may finish it
    if (m_server->d->handler)
        m_server->d->handler(exchange);
    else
        sendError(404, QStringLiteral("No handler."));
}

void Connection::startBody(Exchange *ex, qint64 limit, std::function<void(const QByteArray &)> done, BodyReader reader)
{
    if (ex != m_exchange.get() || m_phase == Phase::Closed)
        return;
    if (m_body == BodyState::Complete) {
        // No body at all (or it is over already): answer from the event loop, never from
        // inside the caller's call.
        QMetaObject::invokeMethod(
            this,
            [this, ex, done = std::move(done), reader = std::move(reader)] {
                if (ex != m_exchange.get())
                    return;
                if (done)
                    done(QByteArray());
                else if (reader.end)
                    reader.end();
            },
            Qt::QueuedConnection);
        return;
    }
    if (m_body != BodyState::None || m_response != Response::None)
        return;
    m_parser.setBodyLimit(limit);
    m_bufferedDone = std::move(done);
    m_reader = std::move(reader);
    m_body = BodyState::Reading;
    m_phase = Phase::Body;
    setReadDeadline(Deadline::Body, m_server->d->settings.bodyTimeoutMs);
    const auto length = m_parser.contentLength();
    if (m_exchange->request().expectsContinue() && !(length && *length > limit)) {
        enqueue(QByteArrayLiteral("HTTP/1.1 100 Continue\r\n\r\n"));
        flush();
    }
    // Whatever part of the body has arrived is waiting in m_in.
    if (m_consuming)
        return; // the loop that called the handler goes on with it
    scheduleResume();
}

void Connection::deliverBody(QByteArrayView chunk)
{
    if (m_bufferedDone) {
        m_bodyBuffer.append(chunk);
        return;
    }
    if (m_reader.data && !m_reader.data(chunk) && m_phase == Phase::Body) {
        // The handler stops reading: it answers, and the connection closes after that.
        m_body = BodyState::Abandoned;
        m_phase = Phase::Handling;
        m_closeAfter = true;
        setReadDeadline(Deadline::None, 0);
    }
}

void Connection::bodyComplete()
{
    m_body = BodyState::Complete;
    m_phase = Phase::Handling;
    setReadDeadline(Deadline::None, 0);
    if (auto done = std::exchange(m_bufferedDone, {})) {
        done(std::exchange(m_bodyBuffer, QByteArray()));
    } else if (BodyReader reader = std::exchange(m_reader, {}); reader.end) {
        reader.end();
    }
    maybeFinishExchange();
}

void Connection::bodyFailed(int status, const QString &message)
{
    m_body = BodyState::Abandoned;
    m_phase = Phase::Handling;
    m_closeAfter = true;
    setReadDeadline(Deadline::None, 0);
    m_bufferedDone = {};
    m_bodyBuffer.clear();
    const BodyReader reader = std::exchange(m_reader, {});
    if (m_exchange && !m_exchange->hasResponded()) {
        m_exchange->m_responded = true;
        sendError(status, message);
    } else {
        maybeFinishExchange();
    }
    if (reader.failed)
        reader.failed(status);
}

void Connection::scheduleResume()
{
    if (m_resumeQueued)
        return;
    m_resumeQueued = true;
    QMetaObject::invokeMethod(
        this, [this] { resume(); }, Qt::QueuedConnection);
}

void Connection::resume()
{
    m_resumeQueued = false;
    if (m_phase != Phase::Head && m_phase != Phase::Body)
        return;
    if (!m_in.isEmpty()) {
        const QByteArray input = std::exchange(m_in, QByteArray());
        const qsizetype used = consume(input);
        if ((m_phase == Phase::Head || m_phase == Phase::Body || m_phase == Phase::Handling) && used < input.size())
            m_in = input.sliced(used) + m_in;
    }
    if (m_in.size() <= MaxBufferedInput)
        setReadPaused(false);
}

// ---- output -------------------------------------------------------------------------------------

void Connection::enqueue(const QByteArray &bytes)
{
    if (bytes.isEmpty())
        return;
    m_out.append(bytes);
    m_queued += bytes.size();
}

void Connection::flush()
{
    if (m_phase == Phase::Closed)
        return;
    bool progressed = false;
    for (;;) {
        bool blocked = false;
        while (!m_out.isEmpty()) {
            iovec iov[MaxIovecs];
            int count = 0;
            for (qsizetype i = 0; i < m_out.size() && count < MaxIovecs; ++i, ++count) {
                const QByteArray &b = m_out.at(i);
                const qsizetype offset = i == 0 ? m_outOffset : 0;
                iov[count].iov_base = const_cast<char *>(b.constData() + offset);
                iov[count].iov_len = size_t(b.size() - offset);
            }
            msghdr message{};
            message.msg_iov = iov;
            message.msg_iovlen = count;
            // MSG_NOSIGNAL: a peer that is gone is an EPIPE here, never a SIGPIPE.
            const ssize_t n = ::sendmsg(m_fd, &message, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    blocked = true;
                    break;
                }
                scheduleClose(errno == EPIPE || errno == ECONNRESET ? CloseReason::PeerClosed : CloseReason::Error);
                return;
            }
            progressed = progressed || n > 0;
            m_queued -= n;
            qsizetype left = n;
            while (left > 0) {
                const qsizetype available = m_out.first().size() - m_outOffset;
                if (left >= available) {
                    left -= available;
                    m_out.removeFirst();
                    m_outOffset = 0;
                } else {
                    m_outOffset += left;
                    left = 0;
                }
            }
        }
        if (m_file && m_queued < FileHighWater) {
            refillFile();
            if (m_phase == Phase::Closed)
                return;
            if (!blocked && !m_out.isEmpty())
                continue;
        }
        break;
    }

    // Write interest only while output waits: set and cleared when the queue fills and drains,
    // never per write (a write to an empty queue goes straight to the socket).
    if (m_out.isEmpty()) {
        setInterest(Readiness::Write, false);
        setSendDeadline(0);
        if ((m_response == Response::Complete && m_closeAfter) || m_streamEnding)
            startLinger();
        return;
    }
    setInterest(Readiness::Write, true);
    if (m_phase == Phase::Closed)
        return;
    if ((progressed || m_sendDeadline == 0) && m_server->d->settings.sendTimeoutMs > 0)
        setSendDeadline(now() + m_server->d->settings.sendTimeoutMs);
    if (m_maxQueued > 0 && m_queued > m_maxQueued)
        scheduleClose(CloseReason::SendBufferFull);
}

void Connection::onWritable()
{
    flush();
}

void Connection::refillFile()
{
    while (m_file && m_queued < FileHighWater) {
        if (m_fileRemaining == 0) {
            m_file.reset();
            responseQueued();
            return;
        }
        const QByteArray chunk = m_file->read(std::min(FileChunk, m_fileRemaining));
        if (chunk.isEmpty()) {
            // The file shrank or failed under us: the response cannot be completed honestly.
            qCWarning(lcHttp, "reading %s failed: %s", qPrintable(m_file->fileName()),
                      qPrintable(m_file->errorString()));
            scheduleClose(CloseReason::Error);
            return;
        }
        m_fileRemaining -= chunk.size();
        enqueue(chunk);
    }
}

QByteArray Connection::head(int status, const Headers &headers, qint64 contentLength, bool close) const
{
    QByteArray out;
    out.reserve(256);
    out.append("HTTP/1.1 ").append(QByteArray::number(status)).append(' ').append(reasonPhrase(status)).append("\r\n");
    for (const auto &[name, value] : headers) {
        if (name.isEmpty() || !validHeaderPart(name) || !validHeaderPart(value) || name.contains(':')) {
            qCWarning(lcHttp, "dropping an invalid response header %s", name.constData());
            continue;
        }
        out.append(name).append(": ").append(value).append("\r\n");
    }
    out.append("Date: ").append(m_server->d->httpDate()).append("\r\n");
    if (contentLength >= 0)
        out.append("Content-Length: ").append(QByteArray::number(contentLength)).append("\r\n");
    if (close)
        out.append("Connection: close\r\n");
    out.append("\r\n");
    return out;
}

void Connection::observe(Exchange *ex, int status)
{
    if (ex && m_server->d->observer)
        m_server->d->observer(*ex, status, double(m_server->d->clock.nsecsElapsed() - ex->receivedAtNs()) / 1e6);
}

void Connection::respond(Exchange *ex, int status, const Headers &headers, const QByteArray &body)
{
    if (ex != m_exchange.get() || m_phase == Phase::Closed || m_response != Response::None)
        return;
    if (m_body == BodyState::Reading || m_body == BodyState::None) {
        // Answered before (all of) the body was read: the rest of it is not read at all.
        if (m_phase == Phase::Body)
            m_phase = Phase::Handling;
        m_body = BodyState::Abandoned;
        m_bufferedDone = {};
        m_reader = {};
        m_closeAfter = true;
        setReadDeadline(Deadline::None, 0);
    }
    const bool noBody = statusHasNoBody(status);
    enqueue(head(status, headers, noBody ? -1 : body.size(), m_closeAfter));
    if (!noBody && !ex->isHeadRequest())
        enqueue(body);
    observe(ex, status);
    responseQueued();
    flush();
}

void Connection::respondFile(Exchange *ex, int status, const Headers &headers, std::unique_ptr<QFile> file,
                             qint64 offset, qint64 length)
{
    if (ex != m_exchange.get() || m_phase == Phase::Closed || m_response != Response::None)
        return;
    if (!file || !file->isOpen() || !file->seek(offset)) {
        respond(ex, 500, {}, QByteArray());
        return;
    }
    if (m_body != BodyState::Complete) {
        if (m_phase == Phase::Body)
            m_phase = Phase::Handling;
        m_body = BodyState::Abandoned;
        m_closeAfter = true;
    }
    enqueue(head(status, headers, length, m_closeAfter));
    observe(ex, status);
    if (ex->isHeadRequest() || length == 0) {
        responseQueued();
    } else {
        m_response = Response::Sending;
        m_file = std::move(file);
        m_fileRemaining = length;
        refillFile();
    }
    flush();
}

void Connection::beginStream(Exchange *ex, int status, const Headers &headers, const QByteArray &first)
{
    if (ex != m_exchange.get() || m_phase == Phase::Closed || m_response != Response::None)
        return;
    if (m_body != BodyState::Complete) {
        if (m_phase == Phase::Body)
            m_phase = Phase::Handling;
        m_body = BodyState::Abandoned;
    }
    // A close-delimited body: the connection ends with the stream (see server.h).
    m_closeAfter = true;
    setReadDeadline(Deadline::None, 0);
    if (!first.isEmpty() && !ex->isHeadRequest()) {
        // One write for head and first events: one syscall, one packet.
        enqueue(head(status, headers, -1, true) + first);
    } else {
        enqueue(head(status, headers, -1, true));
    }
    observe(ex, status);
    m_response = Response::Stream;
    if (ex->isHeadRequest())
        m_streamEnding = true;
    flush();
}

bool Connection::write(Exchange *ex, const QByteArray &bytes)
{
    if (ex != m_exchange.get() || m_phase == Phase::Closed || m_response != Response::Stream || m_streamEnding)
        return false;
    if (ex->isHeadRequest())
        return true;
    if (m_out.isEmpty() && !bytes.isEmpty()) {
        // The common case, and the one fan-out to thousands of streams depends on: nothing is
        // waiting, so try the socket straight away; the byte array is queued (shared, not
        // copied) only for what the kernel does not take now.
        ssize_t n;
        do {
            n = ::send(m_fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n == bytes.size())
            return true;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            scheduleClose(errno == EPIPE || errno == ECONNRESET ? CloseReason::PeerClosed : CloseReason::Error);
            return false;
        }
        enqueue(bytes);
        m_queued -= std::max<ssize_t>(n, 0);
        m_outOffset = std::max<ssize_t>(n, 0);
    } else {
        enqueue(bytes);
    }
    flush();
    return m_phase != Phase::Closed;
}

void Connection::endStream(Exchange *ex)
{
    if (ex != m_exchange.get() || m_phase == Phase::Closed || m_response != Response::Stream || m_streamEnding)
        return;
    m_streamEnding = true;
    flush();
}

void Connection::abort(Exchange *ex, CloseReason reason)
{
    if (ex != m_exchange.get())
        return;
    scheduleClose(reason);
}

void Connection::sendError(int status, const QString &message)
{
    if (m_phase == Phase::Closed)
        return;
    m_closeAfter = true;
    if (m_response != Response::None) {
        // A response is already under way: all that can be done is to stop.
        scheduleClose(CloseReason::Error);
        return;
    }
    if (m_phase == Phase::Body || m_phase == Phase::Head)
        m_phase = Phase::Handling;
    setReadDeadline(Deadline::None, 0);
    const auto [contentType, body] = m_server->d->errorBody(status, message);
    Headers headers{{QByteArrayLiteral("Content-Type"), contentType}};
    const bool head = m_exchange && m_exchange->isHeadRequest();
    enqueue(this->head(status, headers, body.size(), true));
    if (!head)
        enqueue(body);
    if (m_exchange) {
        m_exchange->m_responded = true;
        observe(m_exchange.get(), status);
    }
    responseQueued();
    flush();
}

// Everything of the current response is queued.
void Connection::responseQueued()
{
    m_response = Response::Complete;
    maybeFinishExchange();
}

void Connection::maybeFinishExchange()
{
    if (m_response != Response::Complete || m_phase == Phase::Closed || m_phase == Phase::Lingering)
        return;
    if (m_closeAfter) {
        if (m_out.isEmpty())
            startLinger();
        return; // flush() lingers once the queue is empty
    }
    if (m_body != BodyState::Complete)
        return; // still reading the body of a request answered early: closes after (m_closeAfter)
    // Keep-alive: the connection goes on with the next request.
    std::exchange(m_exchange, nullptr)->detach(CloseReason::Completed);
    m_phase = Phase::Head;
    m_response = Response::None;
    m_body = BodyState::None;
    setReadDeadline(Deadline::Idle, m_server->d->settings.idleTimeoutMs);
    if (!m_in.isEmpty() || m_readPaused)
        scheduleResume();
}

void Connection::startLinger()
{
    if (m_phase == Phase::Closed || m_phase == Phase::Lingering)
        return;
    // The response is complete: the exchange is over.
    if (m_exchange)
        std::exchange(m_exchange, nullptr)->detach(CloseReason::Completed);
    m_reader = {};
    m_bufferedDone = {};
    // m_in is not touched here: this can run inside consume(), over a view of m_in. Whatever
    // is in it is dropped by handleInput() once consume() has returned.
    m_phase = Phase::Lingering;
    ::shutdown(m_fd, SHUT_WR);
    setReadPaused(false);
    setReadDeadline(Deadline::Linger, m_server->d->settings.lingerMs);
    m_lingerEnds = now() + MaxLingerFactor * qint64(m_server->d->settings.lingerMs);
    if (m_server->d->closingAll)
        scheduleClose(CloseReason::ServerClosing);
}

void Connection::checkTimeouts(qint64 t)
{
    if (m_phase == Phase::Closed)
        return;
    expireDeadlines(t);
    // The wheel handed the entry back disarmed: whatever deadline is left (the other one, or a
    // new one set while acting on this one) goes back in.
    armDeadline();
}

void Connection::expireDeadlines(qint64 t)
{
    if (m_sendDeadline > 0 && t >= m_sendDeadline) {
        ++m_server->d->counters.timedOut;
        scheduleClose(CloseReason::Timeout);
        return;
    }
    if (m_readDeadline == 0 || t < m_readDeadline)
        return;
    const Deadline kind = m_readDeadlineKind;
    setReadDeadline(Deadline::None, 0);
    switch (kind) {
    case Deadline::None: return;
    case Deadline::Linger: scheduleClose(CloseReason::PeerClosed); return;
    case Deadline::Idle:
        ++m_server->d->counters.timedOut;
        scheduleClose(CloseReason::Timeout);
        return;
    case Deadline::Header:
        ++m_server->d->counters.timedOut;
        if (m_parser.isMidRequest())
            sendError(408, QStringLiteral("The request head did not arrive in time."));
        else
            scheduleClose(CloseReason::Timeout);
        return;
    case Deadline::Body:
        ++m_server->d->counters.timedOut;
        bodyFailed(408, QStringLiteral("The request body stopped arriving."));
        return;
    }
}

void Connection::closeWhenDone()
{
    m_closeAfter = true;
    const bool idle = m_phase == Phase::Head && !m_parser.isMidRequest() && m_out.isEmpty();
    if (idle || m_phase == Phase::Lingering)
        scheduleClose(CloseReason::ServerClosing);
}

void Connection::forceClose()
{
    scheduleClose(CloseReason::ServerClosing);
}

void Connection::scheduleClose(CloseReason reason)
{
    if (m_phase == Phase::Closed)
        return;
    m_phase = Phase::Closed;
    m_closeReason = reason;
    m_readDeadline = m_sendDeadline = 0;
    m_server->d->deadlines.remove(*this);
    // The socket goes now, out of the readiness set first (its descriptor may be reused at once);
    // the exchange hears of it from the event loop (see exchange.h).
    if (m_fd >= 0) {
        readiness().remove(m_fd);
        ::close(m_fd);
    }
    m_fd = -1;
    m_out.clear();
    m_queued = 0;
    m_file.reset();
    QMetaObject::invokeMethod(
        this, [this] { finalize(); }, Qt::QueuedConnection);
}

void Connection::finalize()
{
    const ExchangePtr exchange = std::exchange(m_exchange, nullptr);
    const BodyReader reader = std::exchange(m_reader, {});
    m_bufferedDone = {};
    if (exchange) {
        // Still attached: the response had not gone out whole (even when all of it was queued).
        exchange->detach(m_closeReason);
        if (m_body == BodyState::Reading && reader.failed)
            reader.failed(0);
    }
    m_server->d->removed(this);
    delete this;
}

} // namespace clipdeck::http
