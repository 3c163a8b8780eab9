#include "http/exchange.h"

#include "http/connection_p.h"

#include <QFile>
#include <QLoggingCategory>
#include <QTimer>

namespace clipdeck::http {

Exchange::Exchange(Connection *connection, Request request, QHostAddress peer, qint64 receivedAtNs)
    : m_connection(connection), m_request(std::move(request)), m_peer(std::move(peer)), m_receivedAtNs(receivedAtNs)
{ }

Exchange::~Exchange() = default;

bool Exchange::isHeadRequest() const
{
    return m_request.method() == "HEAD";
}

void Exchange::readBody(qint64 limit, std::function<void(const QByteArray &)> done)
{
    if (m_bodyRequested || m_responded || !done) {
        qWarning("clipdeck::http::Exchange::readBody: the body was already requested, or the request answered");
        return;
    }
    m_bodyRequested = true;
    if (m_connection)
        m_connection->startBody(this, limit, std::move(done), {});
}

void Exchange::streamBody(qint64 limit, BodyReader reader)
{
    if (m_bodyRequested || m_responded) {
        qWarning("clipdeck::http::Exchange::streamBody: the body was already requested, or the request answered");
        return;
    }
    m_bodyRequested = true;
    if (m_connection)
        m_connection->startBody(this, limit, {}, std::move(reader));
}

void Exchange::respond(int status, const Headers &headers, const QByteArray &body)
{
    if (m_responded) {
        qWarning("clipdeck::http::Exchange::respond: already answered (%d)", status);
        return;
    }
    m_responded = true;
    if (m_connection)
        m_connection->respond(this, status, headers, body);
}

void Exchange::respondFile(int status, const Headers &headers, std::unique_ptr<QFile> file, qint64 offset,
                           qint64 length)
{
    if (m_responded) {
        qWarning("clipdeck::http::Exchange::respondFile: already answered (%d)", status);
        return;
    }
    m_responded = true;
    if (m_connection)
        m_connection->respondFile(this, status, headers, std::move(file), offset, length);
}

void Exchange::beginStream(int status, const Headers &headers, const QByteArray &first)
{
    if (m_responded) {
        qWarning("clipdeck::http::Exchange::beginStream: already answered (%d)", status);
        return;
    }
    m_responded = true;
    if (m_connection)
        m_connection->beginStream(this, status, headers, first);
}

bool Exchange::write(const QByteArray &bytes)
{
    return m_connection && m_connection->write(this, bytes);
}

void Exchange::end()
{
    if (m_connection)
        m_connection->endStream(this);
}

void Exchange::abort(CloseReason reason)
{
    if (m_connection)
        m_connection->abort(this, reason);
}

qint64 Exchange::bytesQueued() const
{
    return m_connection ? m_connection->bytesQueued() : 0;
}

void Exchange::setMaxQueuedBytes(qint64 bytes)
{
    if (m_connection)
        m_connection->setMaxQueuedBytes(bytes);
}

void Exchange::setClosedHandler(std::function<void(CloseReason)> handler)
{
    m_closed = std::move(handler);
    queueClosedHandler();
}

void Exchange::detach(CloseReason reason)
{
    m_connection = nullptr;
    if (m_ended)
        return;
    m_ended = reason;
    queueClosedHandler();
}

void Exchange::queueClosedHandler()
{
    if (!m_ended || !m_closed || m_closedQueued)
        return;
    m_closedQueued = true;
    // Always from the event loop: detach() runs inside respond()/end()/write() calls, and a
    // handler set on an exchange that is over runs inside setClosedHandler(). The exchange is
    // kept alive until then: its handler may be all that is left to release what it holds.
    QTimer::singleShot(0, [self = shared_from_this()] {
        self->m_closedQueued = false;
        if (auto handler = std::exchange(self->m_closed, {}))
            handler(*self->m_ended);
    });
}

} // namespace clipdeck::http
