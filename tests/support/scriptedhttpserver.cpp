#include "scriptedhttpserver.h"

#include <QHostAddress>
#include <QSslServer>
#include <QTcpSocket>
#include <QTimer>

namespace testsupport {

namespace {

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

// CLIPDECK_HTTP_TRACE=1 logs what the server sees, for debugging a test.
const bool trace = qEnvironmentVariableIntValue("CLIPDECK_HTTP_TRACE") != 0;

bool allowsBody(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

} // namespace

// ---------------------------------------------------------------------------------------------

HttpScript HttpScript::reply(int status, const QByteArray &body, const QByteArray &contentType)
{
    HttpScript s;
    s.m_status = status;
    if (allowsBody(status) && !contentType.isEmpty())
        s.header("Content-Type", contentType);
    if (!body.isEmpty())
        s.send(body);
    return s;
}

HttpScript HttpScript::stream(int status, const QByteArray &contentType)
{
    HttpScript s;
    s.m_status = status;
    s.m_closeDelimited = true;
    if (!contentType.isEmpty())
        s.header("Content-Type", contentType);
    s.header("Cache-Control", "no-cache");
    s.header("Connection", "close");
    return s;
}

HttpScript HttpScript::chunkedStream(int status, const QByteArray &contentType)
{
    HttpScript s;
    s.m_status = status;
    s.m_chunked = true;
    if (!contentType.isEmpty())
        s.header("Content-Type", contentType);
    s.header("Cache-Control", "no-cache");
    s.header("Transfer-Encoding", "chunked");
    return s;
}

HttpScript HttpScript::redirect(int status, const QByteArray &location)
{
    HttpScript s = reply(status, {}, {});
    if (!location.isEmpty())
        s.header("Location", location);
    return s;
}

HttpScript HttpScript::raw()
{
    HttpScript s;
    s.m_raw = true;
    return s;
}

HttpScript &HttpScript::respondAfter(int milliseconds)
{
    m_respondAfter = milliseconds;
    return *this;
}

HttpScript &HttpScript::header(const QByteArray &name, const QByteArray &value)
{
    removeHeader(name);
    m_headers.append({name, value});
    return *this;
}

HttpScript &HttpScript::removeHeader(const QByteArray &name)
{
    m_headers.removeIf([&](const auto &h) { return h.first.compare(name, Qt::CaseInsensitive) == 0; });
    return *this;
}

HttpScript &HttpScript::send(const QByteArray &bytes)
{
    m_steps.append(Step{Step::Send, bytes});
    return *this;
}

HttpScript &HttpScript::wait(int milliseconds)
{
    m_steps.append(Step{Step::Wait, {}, milliseconds});
    return *this;
}

HttpScript &HttpScript::close()
{
    m_steps.append(Step{Step::Close, {}});
    return *this;
}

HttpScript &HttpScript::abort()
{
    m_steps.append(Step{Step::Abort, {}});
    return *this;
}

HttpScript &HttpScript::end()
{
    m_steps.append(Step{Step::End, {}});
    return *this;
}

// ---------------------------------------------------------------------------------------------

QByteArray ScriptedHttpServer::Request::path() const
{
    const qsizetype q = target.indexOf('?');
    return q < 0 ? target : target.left(q);
}

bool ScriptedHttpServer::Request::hasHeader(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

QByteArray ScriptedHttpServer::Request::header(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

struct ScriptedHttpServer::Connection
{
    QTcpSocket *socket = nullptr;
    int index = 0;
    QByteArray buffer;
    bool responding = false; // a response is running; later requests wait in the buffer
    bool holding = false;    // a streamed response ran out of steps: never answer again
    bool chunked = false;    // the running response is chunked
    std::deque<HttpScript::Step> steps;
};

ScriptedHttpServer::ScriptedHttpServer(QObject *parent)
    : QObject(parent), m_server(std::make_unique<QTcpServer>()),
      m_fallback(HttpScript::reply(500, "no script for this request\n"))
{
    m_clock.start();
    connect(m_server.get(), &QTcpServer::newConnection, this, &ScriptedHttpServer::onNewConnection);
    if (!m_server->listen(QHostAddress::LocalHost, 0))
        qWarning("ScriptedHttpServer: cannot listen: %s", qPrintable(m_server->errorString()));
}

ScriptedHttpServer::ScriptedHttpServer(const QSslConfiguration &tls, QObject *parent)
    : QObject(parent), m_tls(true), m_fallback(HttpScript::reply(500, "no script for this request\n"))
{
    m_clock.start();
    auto server = std::make_unique<QSslServer>();
    server->setSslConfiguration(tls);
    // A connection is served once its handshake is done; a failed one never shows up.
    connect(server.get(), &QTcpServer::pendingConnectionAvailable, this, &ScriptedHttpServer::onNewConnection);
    m_server = std::move(server);
    if (!m_server->listen(QHostAddress::LocalHost, 0))
        qWarning("ScriptedHttpServer: cannot listen: %s", qPrintable(m_server->errorString()));
}

ScriptedHttpServer::~ScriptedHttpServer()
{
    for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
        QTcpSocket *socket = it.key();
        disconnect(socket, nullptr, this, nullptr);
        socket->abort();
        delete socket;
    }
}

bool ScriptedHttpServer::isListening() const
{
    return m_server->isListening();
}

quint16 ScriptedHttpServer::port() const
{
    return m_server->serverPort();
}

QUrl ScriptedHttpServer::url(const QString &path) const
{
    QUrl u;
    u.setScheme(m_tls ? QStringLiteral("https") : QStringLiteral("http"));
    u.setHost(QStringLiteral("127.0.0.1"));
    u.setPort(port());
    const qsizetype q = path.indexOf(u'?');
    u.setPath(q < 0 ? path : path.left(q));
    if (q >= 0)
        u.setQuery(path.mid(q + 1));
    return u;
}

void ScriptedHttpServer::enqueue(const HttpScript &script, const QByteArray &path)
{
    if (path.isEmpty())
        m_queue.push_back(script);
    else
        m_routes[path].push_back(script);
}

void ScriptedHttpServer::setFallback(const HttpScript &script)
{
    m_fallback = script;
}

int ScriptedHttpServer::openConnectionCount() const
{
    return int(m_connections.size());
}

void ScriptedHttpServer::disconnectAll()
{
    const auto sockets = m_connections.keys();
    for (QTcpSocket *socket : sockets)
        socket->disconnectFromHost();
}

HttpScript ScriptedHttpServer::takeScript(const QByteArray &path)
{
    auto route = m_routes.find(path);
    if (route != m_routes.end() && !route->empty()) {
        HttpScript s = route->front();
        route->pop_front();
        return s;
    }
    if (!m_queue.empty()) {
        HttpScript s = m_queue.front();
        m_queue.pop_front();
        return s;
    }
    return m_fallback;
}

void ScriptedHttpServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        auto connection = std::make_shared<Connection>();
        connection->socket = socket;
        connection->index = m_connectionCount++;
        m_connections.insert(socket, connection);
        if (trace)
            qDebug("http %lld ms: connection %d accepted", qint64(m_clock.elapsed()), connection->index);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            if (trace)
                qDebug("http %lld ms: a connection closed", qint64(m_clock.elapsed()));
            if (m_connections.remove(socket)) {
                socket->deleteLater();
                Q_EMIT connectionClosed();
            }
        });
    }
}

void ScriptedHttpServer::onReadyRead(QTcpSocket *socket)
{
    const auto it = m_connections.constFind(socket);
    if (it == m_connections.cend())
        return;
    const std::shared_ptr<Connection> connection = it.value();
    connection->buffer += socket->readAll();
    processBuffered(*connection);
}

void ScriptedHttpServer::processBuffered(Connection &connection)
{
    while (!connection.responding && !connection.holding) {
        const qsizetype headerEnd = connection.buffer.indexOf("\r\n\r\n");
        if (headerEnd < 0)
            return;
        Request request;
        const QList<QByteArray> lines = connection.buffer.left(headerEnd).split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        request.method = requestLine.value(0);
        request.target = requestLine.value(1);
        qsizetype contentLength = 0;
        bool chunked = false;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray &line = lines.at(i);
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0)
                continue;
            const QByteArray name = line.left(colon).trimmed();
            const QByteArray value = line.mid(colon + 1).trimmed();
            request.headers.append({name, value});
            if (name.compare("Content-Length", Qt::CaseInsensitive) == 0)
                contentLength = value.toLongLong();
            else if (name.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0)
                chunked = value.compare("chunked", Qt::CaseInsensitive) == 0;
        }
        const qsizetype bodyStart = headerEnd + 4;
        if (connection.buffer.size() - bodyStart < contentLength)
            return; // wait for the rest of the body
        request.body = connection.buffer.mid(bodyStart, contentLength);
        connection.buffer.remove(0, bodyStart + contentLength);
        request.connection = connection.index;
        request.receivedAt = m_clock.elapsed();

        const QByteArray path = request.path();
        if (trace)
            qDebug("http %lld ms: connection %d: %s %s", request.receivedAt, request.connection,
                   request.method.constData(), request.target.constData());
        m_requests.append(request);
        if (chunked) {
            // Tests so far only see Content-Length bodies (QNAM and the EventSource send those).
            qWarning("ScriptedHttpServer: chunked request bodies are not supported");
            startResponse(connection, HttpScript::reply(501, "chunked request bodies are not supported\n").close());
        } else {
            startResponse(connection, takeScript(path));
        }
        Q_EMIT requestReceived(int(m_requests.size() - 1));
    }
}

void ScriptedHttpServer::startResponse(Connection &connection, const HttpScript &script)
{
    connection.responding = true;
    connection.steps.assign(script.m_steps.cbegin(), script.m_steps.cend());
    connection.holding = script.m_closeDelimited || script.m_chunked || script.m_raw;
    connection.chunked = script.m_chunked;
    QTcpSocket *socket = connection.socket;
    if (script.m_respondAfter > 0) {
        QTimer::singleShot(script.m_respondAfter, socket, [this, socket, script] {
            if (!m_connections.contains(socket))
                return;
            sendHead(socket, script);
            runSteps(socket);
        });
        return;
    }
    sendHead(socket, script);
    runSteps(socket);
}

void ScriptedHttpServer::sendHead(QTcpSocket *socket, const HttpScript &script)
{
    if (script.m_raw)
        return;
    QByteArray head = "HTTP/1.1 " + QByteArray::number(script.m_status) + ' ' + reasonPhrase(script.m_status) + "\r\n";
    for (const auto &[name, value] : script.m_headers)
        head += name + ": " + value + "\r\n";
    if (!script.m_closeDelimited && !script.m_chunked && allowsBody(script.m_status)) {
        qsizetype length = 0;
        for (const auto &step : script.m_steps) {
            if (step.kind == HttpScript::Step::Send)
                length += step.bytes.size();
        }
        head += "Content-Length: " + QByteArray::number(length) + "\r\n";
    }
    head += "\r\n";
    socket->write(head);
}

void ScriptedHttpServer::runSteps(QTcpSocket *socket)
{
    const auto it = m_connections.constFind(socket);
    if (it == m_connections.cend())
        return; // the client went away meanwhile
    const std::shared_ptr<Connection> connection = it.value();
    while (!connection->steps.empty()) {
        const HttpScript::Step step = connection->steps.front();
        connection->steps.pop_front();
        switch (step.kind) {
        case HttpScript::Step::Send:
            if (!connection->chunked)
                socket->write(step.bytes);
            else if (!step.bytes.isEmpty()) // an empty chunk would end the body
                socket->write(QByteArray::number(step.bytes.size(), 16) + "\r\n" + step.bytes + "\r\n");
            break;
        case HttpScript::Step::Wait:
            socket->flush();
            QTimer::singleShot(step.milliseconds, socket, [this, socket] { runSteps(socket); });
            return;
        case HttpScript::Step::Close:
            connection->steps.clear();
            socket->disconnectFromHost();
            return;
        case HttpScript::Step::Abort:
            connection->steps.clear();
            socket->abort();
            return;
        case HttpScript::Step::End:
            connection->steps.clear();
            if (!connection->chunked) {
                socket->disconnectFromHost();
                return;
            }
            socket->write("0\r\n\r\n");
            connection->holding = false;
            break;
        }
    }
    socket->flush();
    connection->responding = false;
    if (!connection->holding)
        processBuffered(*connection);
}

} // namespace testsupport
