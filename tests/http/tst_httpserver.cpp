// clipdeck::http::Server over real sockets on 127.0.0.1: keep-alive and pipelining, every
// timeout, streamed bodies, 100-continue, lingering close, streamed responses, write backpressure
// (a client that does not read is dropped, others are not hurt), files, limits, closeAll; and
// what the server's readiness set (readiness_p.h: one epoll set on Linux) must get right: many
// streams closed by their peers in any order, a connection closed while its events wait in the
// same batch, write interest on and off with backpressure, descriptors reused at once.
//
// CMakeLists.txt runs this twice: as is, and with CLIPDECK_HTTP_READINESS=notifiers (the
// portable notifier per socket).

#include "http/server.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTemporaryFile>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace clipdeck::http;

namespace {

struct Response
{
    int status = 0;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[n, v] : headers) {
            if (equalsIgnoringCase(n, name))
                return v;
        }
        return {};
    }
    bool hasHeader(QByteArrayView name) const
    {
        for (const auto &[n, v] : headers) {
            if (equalsIgnoringCase(n, name))
                return true;
        }
        return false;
    }
};

// A client on a QTcpSocket that collects everything it receives.
class Client
{
public:
    explicit Client(quint16 port, qint64 readBufferSize = 0)
    {
        if (readBufferSize > 0)
            socket.setReadBufferSize(readBufferSize);
        QObject::connect(&socket, &QTcpSocket::readyRead, [this] {
            if (reading)
                received += socket.readAll();
        });
        QObject::connect(&socket, &QTcpSocket::disconnected, [this] { closed = true; });
        socket.connectToHost(QHostAddress::LocalHost, port);
    }

    ~Client() { socket.disconnect(); } // its destructor's disconnected() must not reach us
    bool waitConnected()
    {
        return QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::ConnectedState; }, 10000);
    }
    void send(const QByteArray &bytes) { socket.write(bytes); }
    bool waitClosed()
    {
        return QTest::qWaitFor([&] { return closed; }, 10000);
    }
    bool waitReceived(const QByteArray &needle)
    {
        return QTest::qWaitFor([&] { return received.contains(needle); }, 10000);
    }

    // The next complete response in what was received (by Content-Length, or everything up to
    // the close for a close-delimited one); removes it from `received`.
    std::optional<Response> takeResponse(bool headOnly = false)
    {
        std::optional<Response> result;
        const bool arrived = QTest::qWaitFor(
            [&] {
                result = parse(headOnly);
                return result.has_value();
            },
            10000);
        if (!arrived)
            qWarning("no complete response; received so far: %s", received.left(300).constData());
        return result;
    }

    QTcpSocket socket;
    QByteArray received;
    bool closed = false;
    bool reading = true;

private:
    std::optional<Response> parse(bool headOnly)
    {
        const qsizetype end = received.indexOf("\r\n\r\n");
        if (end < 0)
            return std::nullopt;
        Response r;
        const QList<QByteArray> lines = received.left(end).split('\n');
        const QList<QByteArray> statusLine = lines.first().trimmed().split(' ');
        r.status = statusLine.value(1).toInt();
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            const qsizetype colon = line.indexOf(':');
            r.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
        }
        qsizetype total = end + 4;
        if (headOnly || r.status < 200 || r.status == 204 || r.status == 304) {
            // no body
        } else if (r.hasHeader("Content-Length")) {
            const qsizetype length = r.header("Content-Length").toLongLong();
            if (received.size() < total + length)
                return std::nullopt;
            r.body = received.mid(total, length);
            total += length;
        } else {
            if (!closed)
                return std::nullopt;
            r.body = received.mid(total);
            total = received.size();
        }
        received.remove(0, total);
        return r;
    }
};

QByteArray get(const QByteArray &path, const QByteArray &extra = {})
{
    return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

ServerSettings fastSettings()
{
    ServerSettings s;
    s.headerTimeoutMs = 400;
    s.idleTimeoutMs = 400;
    s.bodyTimeoutMs = 400;
    s.sendTimeoutMs = 400;
    s.lingerMs = 400;
    return s;
}

// A client on a plain socket, for what QTcpSocket does not let a test control: bytes that are in
// the server's receive buffer before the event loop runs again, a receive buffer that stays
// full, a reset.
class RawClient
{
public:
    explicit RawClient(quint16 port, int receiveBuffer = 0)
    {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (receiveBuffer > 0)
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // On loopback the kernel completes the handshake at once (the server accepts later).
        connected = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    ~RawClient() { close(); }
    RawClient(const RawClient &) = delete;
    RawClient &operator=(const RawClient &) = delete;

    bool send(QByteArrayView bytes)
    {
        while (!bytes.isEmpty()) {
            const ssize_t n = ::send(fd, bytes.data(), size_t(bytes.size()), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            bytes = bytes.sliced(n);
        }
        return true;
    }
    // Reads what has arrived (at most `limit` bytes); notes the end of the stream.
    qsizetype read(qsizetype limit = std::numeric_limits<qsizetype>::max())
    {
        qsizetype total = 0;
        char buffer[64 * 1024];
        while (total < limit && fd >= 0) {
            const ssize_t n = ::recv(fd, buffer, size_t(std::min<qsizetype>(sizeof buffer, limit - total)), 0);
            if (n > 0) {
                received.append(buffer, n);
                total += n;
            } else {
                if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                    ended = true;
                break;
            }
        }
        return total;
    }
    bool waitReceived(QByteArrayView needle)
    {
        return QTest::qWaitFor(
            [&] {
                read();
                return received.contains(needle);
            },
            10000);
    }
    bool waitEnded()
    {
        return QTest::qWaitFor(
            [&] {
                read();
                return ended;
            },
            10000);
    }
    void close()
    {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
    }
    // Closes with a reset (SO_LINGER 0), not a FIN.
    void reset()
    {
        const linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close();
    }

    int fd = -1;
    bool connected = false;
    bool ended = false;
    QByteArray received;
};

// The watched descriptors of this process's epoll sets and their event masks, from
// /proc/self/fdinfo: what the kernel is asked to report, whatever the server believes. Empty
// when the server does not use epoll (not Linux, or CLIPDECK_HTTP_READINESS=notifiers).
QList<std::pair<int, quint32>> epollWatches()
{
    QList<std::pair<int, quint32>> watches;
    const QDir fds(QStringLiteral("/proc/self/fd"));
    for (const QString &name : fds.entryList(QDir::System | QDir::NoDotAndDotDot)) {
        char target[64] = {};
        const QByteArray path = QFile::encodeName(fds.filePath(name));
        if (::readlink(path.constData(), target, sizeof target - 1) <= 0
            || qstrcmp(target, "anon_inode:[eventpoll]") != 0)
            continue;
        QFile info(QStringLiteral("/proc/self/fdinfo/") + name);
        if (!info.open(QIODevice::ReadOnly))
            continue;
        // "tfd:        7 events:       1d data: ..." (the mask in hex)
        for (const QByteArray &line : info.readAll().split('\n')) {
            const QList<QByteArray> parts = line.simplified().split(' ');
            if (parts.size() >= 4 && parts.at(0) == "tfd:" && parts.at(2) == "events:")
                watches.append({parts.at(1).toInt(), parts.at(3).toUInt(nullptr, 16)});
        }
    }
    return watches;
}

bool usesEpoll()
{
#ifdef Q_OS_LINUX
    return qEnvironmentVariable("CLIPDECK_HTTP_READINESS") != QLatin1String("notifiers");
#else
    return false;
#endif
}

// How many watched descriptors the kernel reports when they can be written (EPOLLOUT).
int watchedForWriting()
{
    const auto watches = epollWatches();
    return int(std::count_if(watches.begin(), watches.end(), [](const auto &w) { return w.second & 0x004; }));
}

} // namespace

class tst_HttpServer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void keepAliveAndPipelining();
    void connectionClose();
    void http10Closes();
    void headerTimeout();
    void idleTimeout();
    void bodyTimeout();
    void activityMovesDeadlinesLater();
    void manyIdleConnectionsTimeOut();
    void streamedBody();
    void chunkedStreamedBody();
    void bufferedBodyLimit();
    void lingeringCloseDeliversEarlyAnswer();
    void expectContinue();
    void expectContinueRejected();
    void asyncResponse();
    void streamingResponse();
    void peerCloseDuringStream();
    void backpressureDropsSlowClient();
    void sendTimeout();
    void connectionLimit();
    void headRequest();
    void everyExchangeEndIsReportedOnce_data();
    void everyExchangeEndIsReportedOnce();
    void closedHandlerSetAfterTheEnd();
    void fileResponse();
    void parserErrorsUseFormatter();
    void invalidResponseHeadersDropped();
    void closeAll();
    void responseObserver();
    void manyStreamsClosedByPeersInAnyOrder();
    void closedWhileItsEventsWaitInTheBatch();
    void writeInterestFollowsBackpressure();
    void descriptorReuse();
};

void tst_HttpServer::initTestCase()
{
    // manyStreamsClosedByPeersInAnyOrder has 500 clients and their 500 server sockets here.
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    qInfo("readiness: %s", usesEpoll() ? "epoll" : "a notifier per socket");
}

void tst_HttpServer::keepAliveAndPipelining()
{
    Server server;
    server.setHandler([](const ExchangePtr &ex) {
        ex->respond(200, {{"Content-Type", "text/plain"}}, ex->request().path().toByteArray());
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(get("/one"));
    auto r = c.takeResponse();
    QVERIFY(r);
    QCOMPARE(r->status, 200);
    QCOMPARE(r->body, QByteArray("/one"));
    QVERIFY(r->hasHeader("Date"));
    QVERIFY(!r->hasHeader("Connection"));
    c.send(get("/two"));
    r = c.takeResponse();
    QCOMPARE(r->body, QByteArray("/two"));
    // Three at once: answered in order.
    c.send(get("/a") + "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz" + get("/c"));
    QCOMPARE(c.takeResponse()->body, QByteArray("/a"));
    // /b was answered without reading its body: that closes the connection after the answer,
    // and /c is never answered.
    r = c.takeResponse();
    QCOMPARE(r->body, QByteArray("/b"));
    QCOMPARE(r->header("Connection"), QByteArray("close"));
    QVERIFY(c.waitClosed());
    QVERIFY(c.received.isEmpty());
    QCOMPARE(server.stats().accepted, 1u);

    // With the bodies read, pipelined requests all get answers on one connection.
    Server reading;
    reading.setHandler([](const ExchangePtr &ex) {
        ex->readBody(1024,
                     [ex](const QByteArray &body) { ex->respond(200, {}, ex->request().path().toByteArray() + body); });
    });
    QVERIFY(reading.listen(QHostAddress::LocalHost, 0));
    Client p(reading.serverPort());
    QVERIFY(p.waitConnected());
    p.send(get("/a") + "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz"
           + "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n" + get("/d"));
    QCOMPARE(p.takeResponse()->body, QByteArray("/a"));
    QCOMPARE(p.takeResponse()->body, QByteArray("/bxyz"));
    QCOMPARE(p.takeResponse()->body, QByteArray("/chi"));
    QCOMPARE(p.takeResponse()->body, QByteArray("/d"));
    QVERIFY(!p.closed);
    QCOMPARE(reading.stats().accepted, 1u);
}

void tst_HttpServer::connectionClose()
{
    Server server;
    server.setHandler([](const ExchangePtr &ex) { ex->respond(204, {}); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(get("/", "Connection: close\r\n"));
    const auto r = c.takeResponse();
    QCOMPARE(r->status, 204);
    QCOMPARE(r->header("Connection"), QByteArray("close"));
    QVERIFY(!r->hasHeader("Content-Length"));
    QVERIFY(c.waitClosed());
}

void tst_HttpServer::http10Closes()
{
    Server server;
    server.setHandler([](const ExchangePtr &ex) { ex->respond(200, {}, "ok"); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send("GET / HTTP/1.0\r\n\r\n");
    const auto r = c.takeResponse();
    QCOMPARE(r->body, QByteArray("ok"));
    QVERIFY(c.waitClosed());
}

void tst_HttpServer::headerTimeout()
{
    Server server(fastSettings());
    server.setHandler([](const ExchangePtr &ex) { ex->respond(200, {}, "ok"); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client slow(server.serverPort());
    QVERIFY(slow.waitConnected());
    slow.send("GET / HTTP/1.1\r\nHo");
    // Meanwhile others are served.
    Client other(server.serverPort());
    QVERIFY(other.waitConnected());
    other.send(get("/"));
    QCOMPARE(other.takeResponse()->status, 200);

    QVERIFY(slow.waitClosed());
    const auto r = slow.takeResponse();
    QVERIFY(r);
    QCOMPARE(r->status, 408);
    QVERIFY(server.stats().timedOut >= 1);

    // A connection that never sends a byte is closed without an answer.
    Client silent(server.serverPort());
    QVERIFY(silent.waitConnected());
    QVERIFY(silent.waitClosed());
    QVERIFY(silent.received.isEmpty());
}

void tst_HttpServer::idleTimeout()
{
    Server server(fastSettings());
    server.setHandler([](const ExchangePtr &ex) { ex->respond(200, {}, "ok"); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(get("/"));
    QCOMPARE(c.takeResponse()->status, 200);
    QVERIFY(c.waitClosed());
    QVERIFY(c.received.isEmpty());
}

void tst_HttpServer::bodyTimeout()
{
    Server server(fastSettings());
    int failedWith = -1;
    qint64 received = 0;
    server.setHandler([&](const ExchangePtr &ex) {
        ex->streamBody(1 << 20,
                       {[&](QByteArrayView chunk) {
                            received += chunk.size();
                            return true;
                        },
                        [] { QFAIL("the body cannot have ended"); }, [&](int status) { failedWith = status; }});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n0123456789");
    QVERIFY(c.waitClosed());
    QCOMPARE(failedWith, 408);
    QCOMPARE(received, 10);
    QCOMPARE(c.takeResponse()->status, 408);
}

// Deadlines that keep moving later (each request, each piece of a body) are moved lazily in the
// server's timer wheel: the connection must stay open for as long as it is active, over several
// timeouts, and be closed once it is not.
void tst_HttpServer::activityMovesDeadlinesLater()
{
    Server server(fastSettings()); // 400 ms timeouts
    qint64 received = 0;
    bool ended = false;
    server.setHandler([&](const ExchangePtr &ex) {
        if (ex->request().path() == QByteArrayView("/upload")) {
            ex->streamBody(1 << 20, {[&](QByteArrayView chunk) {
                                         received += chunk.size();
                                         return true;
                                     },
                                     [&, ex] {
                                         ended = true;
                                         ex->respond(200, {}, "done");
                                     },
                                     {}});
            return;
        }
        ex->respond(200, {}, "ok");
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    // Requests 100 ms apart for 1.5 s: the idle timeout (400 ms) never runs out.
    for (int i = 0; i < 15; ++i) {
        c.send(get("/"));
        const auto r = c.takeResponse();
        QVERIFY(r);
        QCOMPARE(r->status, 200);
        QTest::qWait(100);
    }
    QVERIFY(!c.closed);
    // A body trickling in a byte every 100 ms for 1.5 s: the body timeout never runs out.
    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 15\r\n\r\n");
    for (int i = 0; i < 15; ++i) {
        QTest::qWait(100);
        c.send("x");
    }
    const auto r = c.takeResponse();
    QVERIFY(r);
    QCOMPARE(r->body, QByteArray("done"));
    QVERIFY(ended);
    QCOMPARE(received, 15);
    QVERIFY(!c.closed);
    QCOMPARE(server.stats().timedOut, 0u);
    // Now silence: the idle timeout closes it.
    QVERIFY(c.waitClosed());
    QCOMPARE(server.stats().timedOut, 1u);
}

// Many connections whose deadlines fall in the same few ticks of the wheel: every one of them
// times out, once.
void tst_HttpServer::manyIdleConnectionsTimeOut()
{
    Server server(fastSettings());
    server.setHandler([](const ExchangePtr &ex) { ex->respond(200, {}, "ok"); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    constexpr int Count = 200;
    std::vector<std::unique_ptr<Client>> clients;
    // Half of them idle after a request (one at a time, each right after connecting, so that none
    // times out before it asks), half never send a byte.
    for (int i = 0; i < Count / 2; ++i) {
        clients.push_back(std::make_unique<Client>(server.serverPort()));
        QVERIFY(clients.back()->waitConnected());
        clients.back()->send(get("/"));
        QVERIFY(clients.back()->takeResponse());
    }
    for (int i = Count / 2; i < Count; ++i)
        clients.push_back(std::make_unique<Client>(server.serverPort()));
    for (auto &c : clients)
        QVERIFY(c->waitClosed());
    QVERIFY(QTest::qWaitFor([&] { return server.stats().openConnections == 0; }, 10000));
    QCOMPARE(server.stats().timedOut, quint64(Count));
}

void tst_HttpServer::streamedBody()
{
    Server server;
    qint64 total = 0;
    qsizetype largest = 0;
    int pieces = 0;
    QCryptographicHash hash(QCryptographicHash::Sha256);
    bool ended = false;
    server.setHandler([&](const ExchangePtr &ex) {
        ex->streamBody(8 << 20, {[&](QByteArrayView chunk) {
                                     total += chunk.size();
                                     largest = std::max(largest, chunk.size());
                                     ++pieces;
                                     hash.addData(chunk);
                                     return true;
                                 },
                                 [&, ex] {
                                     ended = true;
                                     ex->respond(201, {}, hash.result().toHex());
                                 },
                                 [](int) { QFAIL("the body failed"); }});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QByteArray body(3 << 20, Qt::Uninitialized);
    QRandomGenerator(7).fillRange(reinterpret_cast<quint32 *>(body.data()), body.size() / 4);
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n");
    c.send(body);
    const auto r = c.takeResponse();
    QVERIFY(r);
    QCOMPARE(r->status, 201);
    QVERIFY(ended);
    QCOMPARE(total, body.size());
    QCOMPARE(r->body, QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex());
    // Never held whole: pieces are at most one socket read.
    QVERIFY2(largest <= 64 * 1024, QByteArray::number(largest).constData());
    QVERIFY(pieces > 10);
}

void tst_HttpServer::chunkedStreamedBody()
{
    Server server;
    QByteArray got;
    server.setHandler([&](const ExchangePtr &ex) {
        ex->streamBody(100, {[&](QByteArrayView chunk) {
                                 got += chunk.toByteArray();
                                 return true;
                             },
                             [ex] { ex->respond(200, {}, "done"); }, [](int) {}});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n");
    QCOMPARE(c.takeResponse()->body, QByteArray("done"));
    QCOMPARE(got, QByteArray("abcdefg"));

    // Past the limit mid-body: 413, the reader hears of it.
    int failed = 0;
    got.clear();
    server.setHandler([&](const ExchangePtr &ex) {
        ex->streamBody(6, {[&](QByteArrayView chunk) {
                               got += chunk.toByteArray();
                               return true;
                           },
                           [] { QFAIL("cannot end"); }, [&](int status) { failed = status; }});
    });
    Client over(server.serverPort());
    QVERIFY(over.waitConnected());
    over.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n");
    QCOMPARE(over.takeResponse()->status, 413);
    QCOMPARE(failed, 413);
    QCOMPARE(got, QByteArray("abcd"));
    QVERIFY(over.waitClosed());
}

void tst_HttpServer::bufferedBodyLimit()
{
    Server server;
    bool called = false;
    server.setHandler([&](const ExchangePtr &ex) { ex->readBody(100, [&](const QByteArray &) { called = true; }); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n" + QByteArray(200, 'x'));
    const auto r = c.takeResponse();
    QCOMPARE(r->status, 413);
    QCOMPARE(r->header("Connection"), QByteArray("close"));
    QVERIFY(c.waitClosed());
    QVERIFY(!called);
}

void tst_HttpServer::lingeringCloseDeliversEarlyAnswer()
{
    // Answered at once while the client is still sending megabytes: the answer must arrive
    // (closing at once would make the client's kernel reset the connection and drop it).
    Server server;
    server.setHandler([](const ExchangePtr &ex) { ex->respond(401, {{"WWW-Authenticate", "Bearer"}}, "no"); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    const QByteArray chunk(256 * 1024, 'u');
    c.send("POST /api/media HTTP/1.1\r\nHost: t\r\nContent-Length: " + QByteArray::number(32 * chunk.size())
           + "\r\n\r\n");
    for (int i = 0; i < 32; ++i)
        c.send(chunk);
    const auto r = c.takeResponse();
    QVERIFY(r);
    QCOMPARE(r->status, 401);
    QCOMPARE(r->body, QByteArray("no"));
}

void tst_HttpServer::expectContinue()
{
    Server server;
    server.setHandler(
        [](const ExchangePtr &ex) { ex->readBody(100, [ex](const QByteArray &b) { ex->respond(200, {}, b); }); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    const auto interim = c.takeResponse();
    QCOMPARE(interim->status, 100);
    c.send("hello");
    const auto r = c.takeResponse();
    QCOMPARE(r->status, 200);
    QCOMPARE(r->body, QByteArray("hello"));
}

void tst_HttpServer::expectContinueRejected()
{
    Server server;
    server.setHandler(
        [](const ExchangePtr &ex) { ex->readBody(100, [ex](const QByteArray &b) { ex->respond(200, {}, b); }); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    // Over the limit: 413 at once, no 100 Continue, the body is never asked for.
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n");
    const auto r = c.takeResponse();
    QCOMPARE(r->status, 413);
    QVERIFY(c.waitClosed());
}

void tst_HttpServer::asyncResponse()
{
    Server server;
    server.setHandler([](const ExchangePtr &ex) { QTimer::singleShot(50, [ex] { ex->respond(200, {}, "later"); }); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(get("/1") + get("/2"));
    QCOMPARE(c.takeResponse()->body, QByteArray("later"));
    QCOMPARE(c.takeResponse()->body, QByteArray("later"));
    QVERIFY(!c.closed);
}

void tst_HttpServer::streamingResponse()
{
    Server server;
    ExchangePtr stream;
    server.setHandler([&](const ExchangePtr &ex) {
        stream = ex;
        ex->beginStream(200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}}, "first;");
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(get("/stream"));
    QVERIFY(c.waitReceived("first;"));
    QVERIFY(c.received.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(!c.received.contains("Content-Length"));
    QVERIFY(!c.received.contains("Transfer-Encoding"));
    QVERIFY(c.received.contains("\r\nConnection: close\r\n"));
    QVERIFY(stream->write("second;"));
    QVERIFY(c.waitReceived("second;"));
    QCOMPARE(stream->bytesQueued(), 0);
    stream->end();
    QVERIFY(c.waitClosed());
    const auto r = c.takeResponse();
    QCOMPARE(r->body, QByteArray("first;second;"));
    QVERIFY(!stream->isConnected());
    QVERIFY(!stream->write("late"));
}

void tst_HttpServer::peerCloseDuringStream()
{
    Server server;
    ExchangePtr stream;
    std::optional<CloseReason> reason;
    server.setHandler([&](const ExchangePtr &ex) {
        stream = ex;
        ex->setClosedHandler([&](CloseReason r) { reason = r; });
        ex->beginStream(200, {}, "x");
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    {
        Client c(server.serverPort());
        QVERIFY(c.waitConnected());
        c.send(get("/"));
        QVERIFY(c.waitReceived("x"));
        c.socket.abort();
    }
    QTRY_VERIFY(reason.has_value());
    QCOMPARE(*reason, CloseReason::PeerClosed);
    QVERIFY(!stream->isConnected());
    QTRY_COMPARE(server.stats().openConnections, 0);
}

void tst_HttpServer::backpressureDropsSlowClient()
{
    Server server;
    ExchangePtr slowStream;
    std::optional<CloseReason> reason;
    server.setHandler([&](const ExchangePtr &ex) {
        if (ex->request().path() == "/slow") {
            slowStream = ex;
            ex->setMaxQueuedBytes(512 * 1024);
            ex->setClosedHandler([&](CloseReason r) { reason = r; });
            ex->beginStream(200, {});
        } else {
            ex->respond(200, {}, "fine");
        }
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client slow(server.serverPort(), 1024); // stops reading after 1 KiB
    QVERIFY(slow.waitConnected());
    slow.reading = false;
    slow.send(get("/slow"));
    QTRY_VERIFY(slowStream);

    // Write until the connection is dropped: first the kernel buffers fill, then the queue grows
    // (and is visible) until it passes the cap.
    const QByteArray chunk(64 * 1024, 'e');
    qint64 largestQueue = 0;
    int writes = 0;
    while (slowStream->write(chunk) && writes < 100000) {
        largestQueue = std::max(largestQueue, slowStream->bytesQueued());
        ++writes;
    }
    QVERIFY(largestQueue > 0);
    QVERIFY(largestQueue <= 512 * 1024);
    QTRY_VERIFY(reason.has_value());
    QCOMPARE(*reason, CloseReason::SendBufferFull);

    Client other(server.serverPort());
    QVERIFY(other.waitConnected());
    other.send(get("/other"));
    QCOMPARE(other.takeResponse()->body, QByteArray("fine"));
}

void tst_HttpServer::sendTimeout()
{
    Server server(fastSettings());
    ExchangePtr stream;
    std::optional<CloseReason> reason;
    server.setHandler([&](const ExchangePtr &ex) {
        stream = ex;
        ex->setClosedHandler([&](CloseReason r) { reason = r; });
        ex->beginStream(200, {});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client slow(server.serverPort(), 1024);
    QVERIFY(slow.waitConnected());
    slow.reading = false;
    slow.send(get("/"));
    QTRY_VERIFY(stream);
    const QByteArray chunk(64 * 1024, 'e');
    while (stream->bytesQueued() == 0 && stream->write(chunk)) { }
    QVERIFY(stream->bytesQueued() > 0);
    QTRY_VERIFY(reason.has_value());
    QCOMPARE(*reason, CloseReason::Timeout);
}

void tst_HttpServer::connectionLimit()
{
    ServerSettings settings;
    settings.maxConnections = 2;
    Server server(settings);
    server.setHandler([](const ExchangePtr &ex) { ex->respond(200, {}, "ok"); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client a(server.serverPort());
    Client b(server.serverPort());
    QVERIFY(a.waitConnected());
    QVERIFY(b.waitConnected());
    QTRY_COMPARE(server.stats().openConnections, 2);
    Client c(server.serverPort());
    QVERIFY(c.waitClosed());
    const auto r = c.takeResponse();
    QCOMPARE(r->status, 503);
    QCOMPARE(server.stats().rejectedOverLimit, 1u);
    // The others still work.
    a.send(get("/"));
    QCOMPARE(a.takeResponse()->status, 200);
}

void tst_HttpServer::headRequest()
{
    Server server;
    server.setHandler([](const ExchangePtr &ex) { ex->respond(200, {{"Content-Type", "text/plain"}}, "hello"); });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    const auto head = c.takeResponse(true);
    QCOMPARE(head->status, 200);
    QCOMPARE(head->header("Content-Length"), QByteArray("5"));
    c.send(get("/"));
    const auto r = c.takeResponse();
    QCOMPARE(r->body, QByteArray("hello")); // the HEAD answer had no body to confuse this one
}

// Whatever a handler ties to an exchange is released in its closed handler, so the end of every
// exchange must reach it, once: a HEAD answered with the head of a stream (which completes at
// once: no end(), no peer close), a stream ended by end(), a complete answer on a keep-alive
// connection, a stream whose client leaves, one whose client is gone before the first write.
void tst_HttpServer::everyExchangeEndIsReportedOnce_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("expected"); // a CloseReason
    QTest::addColumn<bool>("clientLeaves");
    QTest::newRow("HEAD of a stream") << QByteArray("HEAD") << QByteArray("/stream") << int(CloseReason::Completed)
                                      << false;
    QTest::newRow("stream ended by end()")
        << QByteArray("GET") << QByteArray("/stream-end") << int(CloseReason::Completed) << false;
    QTest::newRow("keep-alive response") << QByteArray("GET") << QByteArray("/plain") << int(CloseReason::Completed)
                                         << false;
    QTest::newRow("HEAD of a response") << QByteArray("HEAD") << QByteArray("/plain") << int(CloseReason::Completed)
                                        << false;
    QTest::newRow("stream, client leaves")
        << QByteArray("GET") << QByteArray("/stream") << int(CloseReason::PeerClosed) << true;
}

void tst_HttpServer::everyExchangeEndIsReportedOnce()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, path);
    QFETCH(int, expected);
    QFETCH(bool, clientLeaves);
    Server server;
    ExchangePtr exchange;
    QList<CloseReason> reasons;
    server.setHandler([&](const ExchangePtr &ex) {
        exchange = ex;
        ex->setClosedHandler([&](CloseReason r) { reasons.append(r); });
        if (ex->request().path() == "/plain") {
            ex->respond(200, {}, "plain");
        } else {
            ex->beginStream(200, {}, "first;");
            if (ex->request().path() == "/stream-end")
                ex->end();
        }
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(request + ' ' + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    QVERIFY(c.waitReceived("\r\n\r\n"));
    if (clientLeaves)
        c.socket.abort();
    QTRY_COMPARE(reasons.size(), 1);
    QCOMPARE(int(reasons.first()), expected);
    QVERIFY(!exchange->isConnected());
    QVERIFY(!exchange->write("late"));
    // Exactly once: nothing more comes, whatever else happens on the connection.
    if (!clientLeaves)
        c.socket.abort();
    QTRY_COMPARE(server.stats().openConnections, 0);
    QTest::qWait(50);
    QCOMPARE(reasons.size(), 1);
}

// A handler that registers an exchange after its end (the client was gone before the first
// write, or a HEAD stream completed inside beginStream()) still hears of the end.
void tst_HttpServer::closedHandlerSetAfterTheEnd()
{
    Server server;
    ExchangePtr exchange;
    server.setHandler([&](const ExchangePtr &ex) {
        exchange = ex;
        ex->beginStream(200, {}, "first;");
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send("HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    QTRY_VERIFY(exchange && !exchange->isConnected());
    std::optional<CloseReason> reason;
    exchange->setClosedHandler([&](CloseReason r) { reason = r; });
    QVERIFY(!reason); // never inside the call
    QTRY_VERIFY(reason.has_value());
    QCOMPARE(*reason, CloseReason::Completed);
    // Cleared before it runs: not called.
    bool called = false;
    exchange->setClosedHandler([&](CloseReason) { called = true; });
    exchange->setClosedHandler({});
    QTest::qWait(20);
    QVERIFY(!called);
}

void tst_HttpServer::fileResponse()
{
    QTemporaryFile file;
    QVERIFY(file.open());
    QByteArray content(3 << 20, Qt::Uninitialized);
    QRandomGenerator(3).fillRange(reinterpret_cast<quint32 *>(content.data()), content.size() / 4);
    file.write(content);
    file.flush();
    Server server;
    server.setHandler([&](const ExchangePtr &ex) {
        auto f = std::make_unique<QFile>(file.fileName());
        if (!f->open(QIODevice::ReadOnly))
            return ex->respond(500, {});
        const qint64 offset = ex->request().path() == "/part" ? 1000 : 0;
        const qint64 length = ex->request().path() == "/part" ? 2000000 : content.size();
        ex->respondFile(ex->request().path() == "/part" ? 206 : 200, {}, std::move(f), offset, length);
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(get("/whole"));
    auto r = c.takeResponse();
    QCOMPARE(r->status, 200);
    QVERIFY(r->body == content);
    c.send(get("/part"));
    r = c.takeResponse();
    QCOMPARE(r->status, 206);
    QVERIFY(r->body == content.mid(1000, 2000000));
}

void tst_HttpServer::parserErrorsUseFormatter()
{
    ServerSettings settings;
    settings.limits.maxHeaderBytes = 256;
    Server server(settings);
    bool handled = false;
    server.setHandler([&](const ExchangePtr &ex) {
        handled = true;
        ex->respond(200, {});
    });
    server.setErrorFormatter([](int status, const QString &message) {
        return std::pair{QByteArray("application/json"),
                         "{\"status\":" + QByteArray::number(status) + ",\"m\":\"" + message.toUtf8() + "\"}"};
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(get("/", "X-Big: " + QByteArray(300, 'b') + "\r\n"));
    const auto r = c.takeResponse();
    QCOMPARE(r->status, 431);
    QCOMPARE(r->header("Content-Type"), QByteArray("application/json"));
    QVERIFY(r->body.startsWith("{\"status\":431"));
    QVERIFY(c.waitClosed());
    QVERIFY(!handled);
    QCOMPARE(server.stats().badRequests, 1u);
}

void tst_HttpServer::invalidResponseHeadersDropped()
{
    Server server;
    server.setHandler([](const ExchangePtr &ex) {
        QTest::ignoreMessage(QtWarningMsg, "dropping an invalid response header X-Evil");
        ex->respond(200, {{"X-Evil", "a\r\nSet-Cookie: x=1"}, {"X-Good", "fine"}}, "ok");
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(get("/"));
    const auto r = c.takeResponse();
    QVERIFY(!r->hasHeader("Set-Cookie"));
    QVERIFY(!r->hasHeader("X-Evil"));
    QCOMPARE(r->header("X-Good"), QByteArray("fine"));
}

void tst_HttpServer::closeAll()
{
    Server server;
    ExchangePtr stream;
    std::optional<CloseReason> reason;
    server.setHandler([&](const ExchangePtr &ex) {
        if (ex->request().path() == "/stream") {
            stream = ex;
            ex->setClosedHandler([&](CloseReason r) { reason = r; });
            ex->beginStream(200, {}, "s");
        } else {
            ex->respond(200, {}, "ok");
        }
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client idle(server.serverPort());
    QVERIFY(idle.waitConnected());
    idle.send(get("/"));
    QCOMPARE(idle.takeResponse()->status, 200);
    Client streaming(server.serverPort());
    QVERIFY(streaming.waitConnected());
    streaming.send(get("/stream"));
    QVERIFY(streaming.waitReceived("s"));

    bool done = false;
    server.closeAll(200, [&] { done = true; });
    QVERIFY(idle.waitClosed());
    // The stream is not ended by anyone: the grace period runs out and it is cut.
    QVERIFY(streaming.waitClosed());
    QTRY_VERIFY(done);
    QTRY_VERIFY(reason.has_value());
    QCOMPARE(*reason, CloseReason::ServerClosing);
    QCOMPARE(server.stats().openConnections, 0);
}

void tst_HttpServer::responseObserver()
{
    Server server;
    QList<std::pair<QByteArray, int>> seen;
    server.setResponseObserver([&](const Exchange &ex, int status, double elapsedMs) {
        QVERIFY(elapsedMs >= 0);
        seen.append({ex.label(), status});
    });
    server.setHandler([](const ExchangePtr &ex) {
        ex->setLabel("GET " + ex->request().path().toByteArray());
        ex->respond(ex->request().path() == "/missing" ? 404 : 200, {});
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    Client c(server.serverPort());
    QVERIFY(c.waitConnected());
    c.send(get("/a") + get("/missing"));
    QVERIFY(c.takeResponse());
    QVERIFY(c.takeResponse());
    QCOMPARE(seen, (QList<std::pair<QByteArray, int>>{{"GET /a", 200}, {"GET /missing", 404}}));
}

// Many streams, written to all the time, each closed by its client mid-stream, in random order
// and a few per event loop round (so that a round's batch holds closes and writable or readable
// sockets of other connections together): every close is noticed, as the client's, nothing is
// written to the wrong client, and the streams still open keep receiving throughout.
void tst_HttpServer::manyStreamsClosedByPeersInAnyOrder()
{
    constexpr int Count = 500;
    Server server;
    QList<ExchangePtr> streams;
    int closed = 0;
    int closedOtherwise = 0;
    server.setHandler([&](const ExchangePtr &ex) {
        ex->setClosedHandler([&](CloseReason r) {
            ++closed;
            if (r != CloseReason::PeerClosed)
                ++closedOtherwise;
        });
        // Each stream says who it is first, so a client can tell that its bytes are its own.
        ex->beginStream(200, {}, "hello " + ex->request().path().toByteArray() + ";");
        streams.append(ex);
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < Count; ++i)
        clients.push_back(std::make_unique<Client>(server.serverPort()));
    for (int i = 0; i < Count; ++i) {
        QVERIFY(clients[i]->waitConnected());
        clients[i]->send(get("/" + QByteArray::number(i)));
    }
    QTRY_COMPARE_WITH_TIMEOUT(streams.size(), Count, 30000);
    for (int i = 0; i < Count; ++i)
        QVERIFY(clients[i]->waitReceived("hello /" + QByteArray::number(i) + ";"));

    const QByteArray tick = QByteArrayLiteral("tick;");
    QTimer ticker;
    ticker.setInterval(2);
    QObject::connect(&ticker, &QTimer::timeout, [&] {
        for (const ExchangePtr &s : std::as_const(streams))
            s->write(tick);
    });
    ticker.start();

    QList<int> order(Count);
    std::iota(order.begin(), order.end(), 0);
    QRandomGenerator random(20261128);
    std::shuffle(order.begin(), order.end(), random);
    const auto closeClients = [&](qsizetype from, qsizetype to) {
        for (qsizetype k = from; k < to; ++k) {
            Client &c = *clients[order[k]];
            // Half reset (unread bytes in the receive buffer make it an RST), half a plain FIN.
            if (k % 2)
                c.socket.abort();
            else
                c.socket.disconnectFromHost();
            if (k % 7 == 0)
                QCoreApplication::processEvents();
        }
    };
    closeClients(0, Count / 2);

    // The other half still receives, each its own stream and nothing else.
    for (qsizetype k = Count / 2; k < Count; ++k) {
        Client &c = *clients[order[k]];
        const qsizetype before = c.received.size();
        QVERIFY(QTest::qWaitFor([&] { return c.received.size() >= before + 2 * tick.size(); }, 10000));
    }
    for (qsizetype k = Count / 2; k < Count; ++k) {
        const QByteArray &received = clients[order[k]]->received;
        const QByteArray hello = "\r\n\r\nhello /" + QByteArray::number(order[k]) + ";";
        const qsizetype body = received.indexOf(hello);
        QVERIFY(body > 0);
        QByteArray rest = received.sliced(body + hello.size());
        rest.chop(rest.size() % tick.size()); // a tick may be arriving
        QCOMPARE(rest, tick.repeated(rest.size() / tick.size()));
    }

    closeClients(Count / 2, Count);
    QTRY_COMPARE_WITH_TIMEOUT(closed, Count, 30000);
    QCOMPARE(closedOtherwise, 0);
    QTRY_COMPARE(server.stats().openConnections, 0);
    for (const ExchangePtr &s : std::as_const(streams))
        QVERIFY(!s->isConnected());
    if (usesEpoll())
        QCOMPARE(epollWatches().size(), 0);
}

// A handler closes another connection whose socket is ready (readable and writable) in the same
// round: its events, already taken from the kernel, must not reach it, nor anything else.
void tst_HttpServer::closedWhileItsEventsWaitInTheBatch()
{
    Server server;
    ExchangePtr victim;
    std::optional<CloseReason> victimReason;
    int kills = 0;
    server.setHandler([&](const ExchangePtr &ex) {
        if (ex->request().path() == "/victim") {
            victim = ex;
            ex->setClosedHandler([&](CloseReason r) { victimReason = r; });
            ex->beginStream(200, {});
        } else if (ex->request().path() == "/kill") {
            ++kills;
            if (victim)
                victim->abort();
            ex->respond(200, {}, "killed");
        } else {
            ex->respond(200, {}, ex->request().path().toByteArray());
        }
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));

    for (int round = 0; round < 20; ++round) {
        victim.reset();
        victimReason.reset();
        kills = 0;
        RawClient killer(server.serverPort());
        RawClient v(server.serverPort(), 4096);
        QVERIFY(killer.connected && v.connected);
        QVERIFY(v.send(get("/victim")));
        QTRY_VERIFY(victim);
        // Fill the victim's socket until the server queues: its write interest is on.
        const QByteArray chunk(64 * 1024, 'v');
        while (victim->bytesQueued() == 0 && victim->write(chunk)) { }
        QVERIFY(victim->bytesQueued() > 0);

        // Now, before the event loop runs again: the killer's request first (its socket is ready
        // first, so epoll reports it first), then the victim reads (its socket becomes writable)
        // and sends (readable). The killer's handler closes the victim, whose events follow.
        QVERIFY(killer.send(get("/kill")));
        QVERIFY(v.read() > 0);
        QVERIFY(v.send("more bytes that nobody reads"));
        QVERIFY(killer.waitReceived("killed"));
        QCOMPARE(kills, 1);
        QTRY_VERIFY(victimReason.has_value());
        QCOMPARE(*victimReason, CloseReason::ServerClosing);
        QVERIFY(!victim->isConnected());
        QVERIFY(v.waitEnded());

        // The server goes on: a new connection (likely on the victim's old descriptor) is served.
        RawClient next(server.serverPort());
        QVERIFY(next.send(get("/next")));
        QVERIFY(next.waitReceived("\r\n\r\n/next"));
    }
    QTRY_COMPARE(server.stats().openConnections, 0);
}

// A client that does not read: the server's queue grows and its write interest goes on (in the
// kernel's epoll set: the one descriptor with EPOLLOUT); the client reads everything, the queue
// drains through write readiness alone (nobody writes meanwhile) and the interest goes off again.
void tst_HttpServer::writeInterestFollowsBackpressure()
{
    Server server;
    ExchangePtr stream;
    std::optional<CloseReason> reason;
    server.setHandler([&](const ExchangePtr &ex) {
        stream = ex;
        ex->setClosedHandler([&](CloseReason r) { reason = r; });
        ex->beginStream(200, {}, "start;");
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    RawClient client(server.serverPort(), 4096);
    QVERIFY(client.send(get("/")));
    QTRY_VERIFY(stream);
    QVERIFY(client.waitReceived("start;"));
    const qsizetype headLength = client.received.size();
    if (usesEpoll())
        QCOMPARE(watchedForWriting(), 0);

    // Distinct bytes per chunk, so that the order and completeness of what arrives is checked.
    QByteArray expected;
    int chunks = 0;
    while (stream->bytesQueued() < 1024 * 1024) {
        const QByteArray chunk(16 * 1024, char('a' + chunks++ % 26));
        QVERIFY(stream->write(chunk));
        expected += chunk;
    }
    QCoreApplication::processEvents();
    QVERIFY(stream->bytesQueued() > 0);
    if (usesEpoll())
        QCOMPARE(watchedForWriting(), 1);

    // A few rounds of a slow reader: the queue moves while the interest stays on.
    for (int i = 0; i < 5; ++i) {
        QTRY_VERIFY(client.read(8 * 1024) > 0);
        QCoreApplication::processEvents();
    }
    QVERIFY(stream->bytesQueued() > 0);

    QVERIFY(QTest::qWaitFor(
        [&] {
            client.read();
            return stream->bytesQueued() == 0;
        },
        10000));
    QVERIFY(QTest::qWaitFor(
        [&] {
            client.read();
            return client.received.size() == headLength + expected.size();
        },
        10000));
    QVERIFY(client.received.sliced(headLength) == expected);
    if (usesEpoll())
        QTRY_COMPARE(watchedForWriting(), 0);
    QVERIFY(stream->isConnected());

    // Still a working stream: a write goes straight out.
    QVERIFY(stream->write("after;"));
    QCOMPARE(stream->bytesQueued(), 0);
    QVERIFY(client.waitReceived("after;"));
    QVERIFY(!reason.has_value());
    stream->end();
    QVERIFY(client.waitEnded());
}

// Connections closed and new ones opened right away, so that a new connection gets the
// descriptor of one just closed: each gets the answers to its own requests, and an exchange of
// the old connection writes nowhere.
void tst_HttpServer::descriptorReuse()
{
    Server server;
    QList<ExchangePtr> streams;
    server.setHandler([&](const ExchangePtr &ex) {
        if (ex->request().path().startsWith(QLatin1String("/stream"))) {
            streams.append(ex);
            ex->beginStream(200, {}, "stream;");
        } else {
            ex->respond(200, {}, ex->request().path().toByteArray());
        }
    });
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    for (int i = 0; i < 50; ++i) {
        const QByteArray n = QByteArray::number(i);
        ExchangePtr old;
        {
            RawClient a(server.serverPort());
            QVERIFY(a.send(get("/stream" + n)));
            QVERIFY(a.waitReceived("stream;"));
            old = streams.last();
            if (i % 2)
                a.reset();
            else
                a.close();
        }
        RawClient b(server.serverPort());
        QVERIFY(b.send(get("/b" + n + "-1") + get("/b" + n + "-2")));
        QTRY_VERIFY(!old->isConnected());
        QVERIFY(!old->write("for the old connection;"));
        QVERIFY(b.waitReceived("/b" + n + "-2"));
        QVERIFY(b.received.contains("/b" + n + "-1"));
        QVERIFY(!b.received.contains("old"));
        QVERIFY(!b.received.contains("stream"));
    }
    QTRY_COMPARE(server.stats().openConnections, 0);
    QCOMPARE(server.stats().accepted, 100u);
}

QTEST_GUILESS_MAIN(tst_HttpServer)
#include "tst_httpserver.moc"
