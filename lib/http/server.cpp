#include "http/server.h"

#include "http/connection_p.h"
#include "http/server_p.h"

#include <QDateTime>
#include <QLocale>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace clipdeck::http {

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100: return QByteArrayLiteral("Continue");
    case 200: return QByteArrayLiteral("OK");
    case 201: return QByteArrayLiteral("Created");
    case 202: return QByteArrayLiteral("Accepted");
    case 204: return QByteArrayLiteral("No Content");
    case 206: return QByteArrayLiteral("Partial Content");
    case 301: return QByteArrayLiteral("Moved Permanently");
    case 302: return QByteArrayLiteral("Found");
    case 304: return QByteArrayLiteral("Not Modified");
    case 400: return QByteArrayLiteral("Bad Request");
    case 401: return QByteArrayLiteral("Unauthorized");
    case 403: return QByteArrayLiteral("Forbidden");
    case 404: return QByteArrayLiteral("Not Found");
    case 405: return QByteArrayLiteral("Method Not Allowed");
    case 408: return QByteArrayLiteral("Request Timeout");
    case 409: return QByteArrayLiteral("Conflict");
    case 410: return QByteArrayLiteral("Gone");
    case 411: return QByteArrayLiteral("Length Required");
    case 413: return QByteArrayLiteral("Content Too Large");
    case 414: return QByteArrayLiteral("URI Too Long");
    case 415: return QByteArrayLiteral("Unsupported Media Type");
    case 416: return QByteArrayLiteral("Range Not Satisfiable");
    case 417: return QByteArrayLiteral("Expectation Failed");
    case 422: return QByteArrayLiteral("Unprocessable Content");
    case 429: return QByteArrayLiteral("Too Many Requests");
    case 431: return QByteArrayLiteral("Request Header Fields Too Large");
    case 500: return QByteArrayLiteral("Internal Server Error");
    case 501: return QByteArrayLiteral("Not Implemented");
    case 503: return QByteArrayLiteral("Service Unavailable");
    case 505: return QByteArrayLiteral("HTTP Version Not Supported");
    case 507: return QByteArrayLiteral("Insufficient Storage");
    default: return QByteArrayLiteral("Unknown");
    }
}

Server::Private::Private(Server *server, ServerSettings s)
    : q(server), settings(std::move(s)), listener([this](int fd) { accept(fd); }), deadlines(tickMs(settings))
{
    clock.start();
    sweep.setInterval(int(deadlines.granularity()));
    graceTimer.setSingleShot(true);
}

// An eighth of the shortest timeout: a deadline is acted on at most that much late.
qint64 Server::Private::tickMs(const ServerSettings &settings)
{
    int shortest = std::numeric_limits<int>::max();
    for (const int ms : {settings.headerTimeoutMs, settings.idleTimeoutMs, settings.bodyTimeoutMs,
                         settings.sendTimeoutMs, settings.lingerMs}) {
        if (ms > 0)
            shortest = std::min(shortest, ms);
    }
    return std::clamp(shortest / 8, 10, 1000);
}

void Server::Private::armDeadline(Connection *connection, qint64 deadline)
{
    deadlines.arm(*connection, deadline);
    if (deadline > 0 && !sweep.isActive())
        sweep.start();
}

void Server::Private::expireDeadlines()
{
    const qint64 now = clock.elapsed();
    // Closing only schedules the removal (no connection is deleted under this loop), and a
    // connection that closes leaves the wheel.
    while (DeadlineWheel::Entry *entry = deadlines.takeExpired(now))
        static_cast<Connection *>(entry)->checkTimeouts(now);
    if (deadlines.isEmpty())
        sweep.stop();
}

void Server::Private::accept(int fd)
{
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    // Events are small and latency is the point: never let Nagle hold one back.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    if (connections.size() >= settings.maxConnections || closingAll) {
        ++counters.rejectedOverLimit;
        const auto [contentType, body] =
            errorBody(503, QStringLiteral("The server has too many connections; try again later."));
        const QByteArray response = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: " + contentType
                                    + "\r\nContent-Length: " + QByteArray::number(body.size())
                                    + "\r\nRetry-After: 5\r\nConnection: close\r\n\r\n" + body;
        // Best effort: a fresh socket's buffer takes this whole.
        [[maybe_unused]] const ssize_t n = ::send(fd, response.constData(), size_t(response.size()), MSG_NOSIGNAL);
        ::close(fd);
        return;
    }
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    QHostAddress peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0)
        peer.setAddress(reinterpret_cast<const sockaddr *>(&address));
    ++counters.accepted;
    auto *connection = new Connection(q, fd, peer);
    connection->index = int(connections.size());
    connections.append(connection);
}

void Server::Private::removed(Connection *connection)
{
    const int i = connection->index;
    if (i < 0 || i >= connections.size() || connections.at(i) != connection)
        return;
    // swap-remove: O(1) whatever the number of connections
    Connection *last = connections.takeLast();
    if (last != connection) {
        connections[i] = last;
        last->index = i;
    }
    connection->index = -1;
    if (closingAll && connections.isEmpty()) {
        graceTimer.stop();
        closingAll = false;
        if (auto done = std::exchange(closeAllDone, {}))
            done();
    }
}

QByteArray Server::Private::httpDate() const
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const qint64 second = now.toSecsSinceEpoch();
    if (second != dateSecond) {
        dateSecond = second;
        // IMF-fixdate, always in English
        date = QLocale::c().toString(now, QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'")).toLatin1();
    }
    return date;
}

std::pair<QByteArray, QByteArray> Server::Private::errorBody(int status, const QString &message) const
{
    if (errorFormatter)
        return errorFormatter(status, message);
    return {QByteArrayLiteral("text/plain; charset=utf-8"), message.toUtf8() + '\n'};
}

Server::Server(ServerSettings settings, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>(this, std::move(settings)))
{
    connect(&d->sweep, &QTimer::timeout, this, [this] { d->expireDeadlines(); });
    connect(&d->graceTimer, &QTimer::timeout, this, [this] {
        for (Connection *c : std::as_const(d->connections))
            c->forceClose();
    });
}

Server::~Server()
{
    d->sweep.stop();
    // Connections are children of this object: deleting them closes their sockets. Nobody is
    // told (the application is going away with us).
    const QList<Connection *> all = d->connections;
    d->connections.clear();
    qDeleteAll(all);
}

void Server::setHandler(Handler handler)
{
    d->handler = std::move(handler);
}

void Server::setErrorFormatter(ErrorFormatter formatter)
{
    d->errorFormatter = std::move(formatter);
}

void Server::setResponseObserver(ResponseObserver observer)
{
    d->observer = std::move(observer);
}

bool Server::listen(const QHostAddress &address, quint16 port)
{
    // Thousands of clients may connect at once (a load test, everyone reconnecting after a
    // restart): a short backlog would turn that into SYN retries of a second or more.
    d->listener.setListenBacklogSize(4096);
    // The deadline timer starts with the first deadline armed (a connection's header timeout).
    return d->listener.listen(address, port);
}

QString Server::errorString() const
{
    return d->listener.errorString();
}

QHostAddress Server::serverAddress() const
{
    return d->listener.serverAddress();
}

quint16 Server::serverPort() const
{
    return d->listener.serverPort();
}

void Server::stopListening()
{
    d->listener.close();
}

void Server::closeAll(int graceMs, std::function<void()> done)
{
    d->closingAll = true;
    d->closeAllDone = std::move(done);
    if (d->connections.isEmpty()) {
        d->closingAll = false;
        if (auto callback = std::exchange(d->closeAllDone, {}))
            callback();
        return;
    }
    for (Connection *c : std::as_const(d->connections))
        c->closeWhenDone();
    d->graceTimer.start(std::max(0, graceMs));
}

ServerStats Server::stats() const
{
    ServerStats s = d->counters;
    s.openConnections = int(d->connections.size());
    s.bytesQueued = 0;
    for (const Connection *c : std::as_const(d->connections))
        s.bytesQueued += c->bytesQueued();
    return s;
}

const ServerSettings &Server::settings() const
{
    return d->settings;
}

qint64 Server::elapsedMs() const
{
    return d->clock.elapsed();
}

qint64 Server::elapsedNs() const
{
    return d->clock.nsecsElapsed();
}

} // namespace clipdeck::http
