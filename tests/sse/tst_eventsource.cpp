// EventSource against a scripted HTTP/1.1 server on 127.0.0.1 (and over TLS, and through a
// CONNECT proxy): real sockets, the EventSource's own transport. Delays are tens of
// milliseconds; nothing here asserts how fast anything happened.

#include "scriptedhttpserver.h"
#include "sse/eventsource.h"
#include "testcertificate.h"

#include <QNetworkProxy>
#include <QSignalSpy>
#include <QSslConfiguration>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <cmath>
#include <memory>
#include <utility>

using clipdeck::sse::Event;
using clipdeck::sse::EventSource;
using testsupport::HttpScript;
using testsupport::ScriptedHttpServer;

Q_DECLARE_METATYPE(testsupport::HttpScript)

namespace {

// Everything an EventSource says, in order, as short strings that read well in a QCOMPARE.
struct Recorder : QObject
{
    explicit Recorder(EventSource &source)
    {
        connect(&source, &EventSource::opened, this, [this] { log << QStringLiteral("open"); });
        connect(&source, &EventSource::eventReceived, this, [this](const Event &e) {
            events << e;
            log << QStringLiteral("event %1 [%2] %3").arg(e.type, e.lastEventId, e.data);
        });
        connect(&source, &EventSource::received, this,
                [this](const QString &type, const QString &data, const QString &id) {
                    qmlEvents << Event{type, data, id};
                });
        connect(&source, &EventSource::commentReceived, this,
                [this](const QString &text) { log << QStringLiteral("comment %1").arg(text); });
        connect(&source, &EventSource::errorOccurred, this,
                [this](const QString &message, int status, bool willReconnect) {
                    errors << message;
                    log << QStringLiteral("error %1 %2").arg(status).arg(willReconnect ? u"retry" : u"fatal");
                });
        connect(&source, &EventSource::closed, this, [this] { log << QStringLiteral("closed"); });
        connect(&source, &EventSource::readyStateChanged, this, [this](EventSource::ReadyState s) { states << s; });
        connect(&source, &EventSource::reconnectScheduleChanged, this, [this, &source] {
            if (source.reconnectDelay() >= 0)
                delays << source.reconnectDelay();
        });
    }

    int count(const QString &entry) const { return int(log.count(entry)); }

    QStringList log;
    QList<Event> events;
    QList<Event> qmlEvents;
    QStringList errors;
    QList<EventSource::ReadyState> states;
    QList<int> delays;
};

// Small, deterministic knobs: no jitter, short delays, backoff never reset by accident.
std::unique_ptr<EventSource> makeSource(const QUrl &url)
{
    auto source = std::make_unique<EventSource>(url);
    source->setInitialReconnectDelay(20);
    source->setMaxReconnectDelay(1000);
    source->setJitter(0);
    source->setHealthyAfter(60000);
    return source;
}

QByteArray sseEvent(const QByteArray &data, const QByteArray &id = {})
{
    QByteArray out;
    if (!id.isEmpty())
        out += "id: " + id + '\n';
    return out + "data: " + data + "\n\n";
}

QStringList paths(const ScriptedHttpServer &server)
{
    QStringList out;
    for (const auto &r : server.requests())
        out << QString::fromLatin1(r.method + ' ' + r.target);
    return out;
}

// An HTTP proxy that only tunnels (CONNECT), which is how a QTcpSocket uses one. It records the
// authority of every CONNECT and connects to that port on 127.0.0.1 whatever the host: tests give
// the client a name only the proxy "knows" (Qt never sends loopback connections to an
// application proxy, and this shows the name was not resolved by the client).
class ConnectProxy : public QObject
{
public:
    ConnectProxy()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = m_server.nextPendingConnection())
                serve(client);
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }
    QNetworkProxy proxy() const
    {
        return QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), m_server.serverPort());
    }
    QStringList targets;

private:
    void serve(QTcpSocket *client)
    {
        client->setParent(this);
        auto head = std::make_shared<QByteArray>(); // lives as long as the connection below
        connect(client, &QTcpSocket::readyRead, this, [this, client, head] {
            if (client->property("upstream").isValid())
                return;
            *head += client->readAll();
            const qsizetype end = head->indexOf("\r\n\r\n");
            if (end < 0)
                return;
            const QList<QByteArray> requestLine = head->left(head->indexOf("\r\n")).split(' ');
            const QByteArray authority = requestLine.value(1);
            targets << QString::fromLatin1(authority);
            const QByteArray early = head->mid(end + 4);
            auto *upstream = new QTcpSocket(this);
            client->setProperty("upstream", true);
            const qsizetype colon = authority.lastIndexOf(':');
            connect(upstream, &QTcpSocket::connected, this, [client, upstream, early] {
                client->write("HTTP/1.1 200 Connection established\r\n\r\n");
                if (!early.isEmpty())
                    upstream->write(early);
                if (client->bytesAvailable())
                    upstream->write(client->readAll());
            });
            connect(client, &QTcpSocket::readyRead, upstream, [client, upstream] {
                if (upstream->state() == QAbstractSocket::ConnectedState)
                    upstream->write(client->readAll());
            });
            connect(upstream, &QTcpSocket::readyRead, client,
                    [client, upstream] { client->write(upstream->readAll()); });
            connect(upstream, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
            connect(client, &QTcpSocket::disconnected, upstream, &QTcpSocket::disconnectFromHost);
            connect(upstream, &QTcpSocket::disconnected, upstream, &QObject::deleteLater);
            connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
            upstream->connectToHost(QHostAddress(QHostAddress::LocalHost), authority.mid(colon + 1).toUShort());
        });
    }

    QTcpServer m_server;
};

} // namespace

class tst_EventSource : public QObject
{
    Q_OBJECT

private slots:
    void opensAndDeliversEventsAsTheyArrive();
    void requestHeaders();
    void status204ClosesForGood();
    void unexpectedSuccessStatusIsFatal_data();
    void unexpectedSuccessStatusIsFatal();
    void clientErrorIsFatal_data();
    void clientErrorIsFatal();
    void retriableStatusReconnects_data();
    void retriableStatusReconnects();
    void contentType_data();
    void contentType();
    void decodesUtf8WhateverTheCharset();
    void redirects_data();
    void redirects();
    void redirectLimit();
    void redirectWithoutUsableLocation_data();
    void redirectWithoutUsableLocation();
    void redirectToOtherOriginDropsAuthorization();
    void redirectCredentials_data();
    void redirectCredentials();
    void redirectBody_data();
    void redirectBody();
    void urlCredentialsAreBasicAuthorization();
    void responseHeadLimit_data();
    void responseHeadLimit();
    void hugeResponseHeadFailsAtOnce();
    void malformedResponseIsFatal_data();
    void malformedResponseIsFatal();
    void compressedStreamIsFatal();
    void interimResponsesAreSkipped();
    void throughProxy_data();
    void throughProxy();
    void overTls();
    void untrustedCertificateReportsItsFingerprint();
    void redirectToHttpsIsAnotherOrigin();
    void reconnectSendsLastEventId();
    void lastEventIdOmittedWhenEmpty();
    void initialLastEventId();
    void retryFieldHonoured();
    void backoffGrowsWithinJitterBounds_data();
    void backoffGrowsWithinJitterBounds();
    void backoffResetsOnceHealthy();
    void zeroRetryStillBacksOff();
    void retryAfterHeader();
    void readTimeoutForcesReconnect();
    void heartbeatsKeepReadTimeoutAway();
    void partialEventDiscardedOnDrop_data();
    void partialEventDiscardedOnDrop();
    void headersAndBodyResentOnReconnect();
    void networkErrorReconnects();
    void eachAttemptSendsItsRequestOnce_data();
    void eachAttemptSendsItsRequestOnce();
    void oversizedEventIsFatal();
    void invalidUrlIsFatal();
    void closeWhileConnecting();
    void closeWhileOpen();
    void closeFromEventHandler();
    void closeWhileWaitingToReconnect();
    void restartFromEventHandler();
    void restartAndNestedEventLoopInHandler();
    void restartWhileOpen();
    void restartWhileWaitingAndAfterClose();
};

void tst_EventSource::opensAndDeliversEventsAsTheyArrive()
{
    ScriptedHttpServer server;
    // The stream stays open after the second event: both must arrive before any end of body.
    server.enqueue(HttpScript::stream()
                       .send(": hello\n\n" + sseEvent("one", "1"))
                       .wait(30)
                       .send("event: progress\ndata: {\"p\":50}\ndata: second line\n\n"));
    auto source = makeSource(server.url(QStringLiteral("/stream")));
    Recorder rec(*source);
    QCOMPARE(source->readyState(), EventSource::Closed);
    source->open();
    QCOMPARE(source->readyState(), EventSource::Connecting);

    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(source->readyState(), EventSource::Open);
    QCOMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("comment hello"),
                                   QStringLiteral("event message [1] one"),
                                   QStringLiteral("event progress [1] {\"p\":50}\nsecond line")}));
    QCOMPARE(rec.qmlEvents, rec.events);
    QCOMPARE(rec.states, (QList{EventSource::Connecting, EventSource::Open}));
    QCOMPARE(source->lastEventId(), QStringLiteral("1"));
    QCOMPARE(server.openConnectionCount(), 1);
    QCOMPARE(server.requests().size(), 1);
    source->close();
}

void tst_EventSource::requestHeaders()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::stream());
    auto source = makeSource(server.url(QStringLiteral("/s?job=7")));
    QSignalSpy opened(source.get(), &EventSource::opened);
    source->open();
    QVERIFY(opened.wait());
    const auto &r = server.requests().at(0);
    QCOMPARE(r.method, QByteArray("GET"));
    QCOMPARE(r.target, QByteArray("/s?job=7"));
    QCOMPARE(r.header("Accept"), QByteArray("text/event-stream"));
    QCOMPARE(r.header("Cache-Control"), QByteArray("no-cache"));
    QVERIFY(!r.hasHeader("Last-Event-ID"));
    QVERIFY(r.body.isEmpty());
    source->close();
}

void tst_EventSource::status204ClosesForGood()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(204));
    server.setFallback(HttpScript::stream().send(sseEvent("must not be reached")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log, QStringList{QStringLiteral("closed")});
    QCOMPARE(source->readyState(), EventSource::Closed);
    QCOMPARE(source->reconnectDelay(), -1);
    QVERIFY(!source->nextReconnectAt().isValid());
    // Nothing is pending, so nothing may follow: give a stray reconnect time to show itself.
    QTest::qWait(100);
    QCOMPARE(server.requests().size(), 1);
    QCOMPARE(rec.log, QStringList{QStringLiteral("closed")});
}

void tst_EventSource::unexpectedSuccessStatusIsFatal_data()
{
    QTest::addColumn<int>("status");
    QTest::newRow("201") << 201;
    QTest::newRow("202") << 202;
    QTest::newRow("206") << 206;
}

void tst_EventSource::unexpectedSuccessStatusIsFatal()
{
    QFETCH(int, status);
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(status, sseEvent("x"), "text/event-stream"));
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("error %1 fatal").arg(status), QStringLiteral("closed")}));
    QVERIFY2(rec.errors.at(0).contains(QString::number(status)), qPrintable(rec.errors.at(0)));
    QCOMPARE(source->readyState(), EventSource::Closed);
    QCOMPARE(source->reconnectDelay(), -1);
    QCOMPARE(server.requests().size(), 1);
}

void tst_EventSource::clientErrorIsFatal_data()
{
    QTest::addColumn<int>("status");
    for (int status : {400, 401, 403, 404, 405, 410, 300, 304})
        QTest::addRow("%d", status) << status;
}

void tst_EventSource::clientErrorIsFatal()
{
    QFETCH(int, status);
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(status, "nope\n"));
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("error %1 fatal").arg(status), QStringLiteral("closed")}));
    QCOMPARE(source->readyState(), EventSource::Closed);
    QCOMPARE(server.requests().size(), 1);
}

void tst_EventSource::retriableStatusReconnects_data()
{
    QTest::addColumn<int>("status");
    for (int status : {408, 429, 500, 502, 503, 504, 599})
        QTest::addRow("%d", status) << status;
}

void tst_EventSource::retriableStatusReconnects()
{
    QFETCH(int, status);
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(status, "busy\n"));
    server.enqueue(HttpScript::stream().send(sseEvent("back")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 1);
    QCOMPARE(rec.log, (QStringList{QStringLiteral("error %1 retry").arg(status), QStringLiteral("open"),
                                   QStringLiteral("event message [] back")}));
    // The source stayed Connecting while it waited: no Closed in between.
    QCOMPARE(rec.states, (QList{EventSource::Connecting, EventSource::Open}));
    QCOMPARE(rec.delays, QList<int>{20});
    QCOMPARE(server.requests().size(), 2);
    source->close();
}

void tst_EventSource::contentType_data()
{
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<bool>("opens");
    QTest::newRow("plain") << QByteArray("text/event-stream") << true;
    QTest::newRow("charset") << QByteArray("text/event-stream; charset=utf-8") << true;
    QTest::newRow("case and spaces") << QByteArray("Text/Event-Stream ;charset=UTF-8") << true;
    QTest::newRow("html") << QByteArray("text/html") << false;
    QTest::newRow("plain text") << QByteArray("text/plain; charset=utf-8") << false;
    QTest::newRow("prefix only") << QByteArray("text/event-streaming") << false;
    QTest::newRow("missing") << QByteArray() << false;
}

void tst_EventSource::contentType()
{
    QFETCH(QByteArray, contentType);
    QFETCH(bool, opens);
    ScriptedHttpServer server;
    server.enqueue(HttpScript::stream(200, contentType).send(sseEvent("hi")));
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    if (opens) {
        QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("event message [] hi")}));
        source->close();
    } else {
        QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("error 200 fatal"), QStringLiteral("closed")}));
        QVERIFY2(rec.errors.at(0).contains(u"content type"), qPrintable(rec.errors.at(0)));
        QCOMPARE(server.requests().size(), 1);
    }
}

void tst_EventSource::decodesUtf8WhateverTheCharset()
{
    ScriptedHttpServer server;
    // Split inside a multi-byte sequence too: decoding happens after the bytes are joined.
    const QByteArray utf8 = QStringLiteral("caf\u00e9 \u2713").toUtf8();
    server.enqueue(HttpScript::stream(200, "text/event-stream; charset=iso-8859-1")
                       .send("data: " + utf8.left(4))
                       .wait(20)
                       .send(utf8.mid(4) + "\n\n"));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 1);
    QCOMPARE(rec.events.at(0).data, QStringLiteral("caf\u00e9 \u2713"));
    source->close();
}

void tst_EventSource::redirects_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("expectedMethod");
    QTest::addColumn<bool>("bodyKept");
    QTest::newRow("301 GET") << 301 << QByteArray("GET") << QByteArray("GET") << false;
    QTest::newRow("301 POST") << 301 << QByteArray("POST") << QByteArray("GET") << false;
    QTest::newRow("302 POST") << 302 << QByteArray("POST") << QByteArray("GET") << false;
    QTest::newRow("303 POST") << 303 << QByteArray("POST") << QByteArray("GET") << false;
    QTest::newRow("303 PUT") << 303 << QByteArray("PUT") << QByteArray("GET") << false;
    QTest::newRow("307 POST") << 307 << QByteArray("POST") << QByteArray("POST") << true;
    QTest::newRow("308 POST") << 308 << QByteArray("POST") << QByteArray("POST") << true;
    QTest::newRow("308 GET") << 308 << QByteArray("GET") << QByteArray("GET") << false;
}

void tst_EventSource::redirects()
{
    QFETCH(int, status);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, expectedMethod);
    QFETCH(bool, bodyKept);
    const QByteArray body = method == "GET" ? QByteArray() : QByteArray("{\"jobs\":[1,2]}");

    ScriptedHttpServer server;
    server.enqueue(HttpScript::redirect(status, "/moved?x=1"), "/start");
    // The stream ends; the reconnect goes back to the URL the source was given.
    server.enqueue(HttpScript::chunkedStream().send(sseEvent("moved", "1")).end(), "/moved");
    server.enqueue(HttpScript::redirect(status, "/moved?x=1"), "/start");
    server.enqueue(HttpScript::stream().send(sseEvent("again", "2")), "/moved");
    auto source = makeSource(server.url(QStringLiteral("/start")));
    source->setMethod(method);
    source->setBody(body);
    source->setRawHeader("Content-Type", "application/json");
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("event message [1] moved"),
                                   QStringLiteral("error 0 retry"), QStringLiteral("open"),
                                   QStringLiteral("event message [2] again")}));
    const QString m = QString::fromLatin1(method);
    const QString e = QString::fromLatin1(expectedMethod);
    const QString start = m + QStringLiteral(" /start");
    const QString moved = e + QStringLiteral(" /moved?x=1");
    QCOMPARE(paths(server), (QStringList{start, moved, start, moved}));
    for (int i : {0, 2})
        QCOMPARE(server.requests().at(i).body, body);
    for (int i : {1, 3}) {
        const auto &r = server.requests().at(i);
        QCOMPARE(r.body, bodyKept ? body : QByteArray());
        QCOMPARE(r.hasHeader("Content-Type"), bodyKept || method == "GET");
        QCOMPARE(r.header("Accept"), QByteArray("text/event-stream"));
    }
    QCOMPARE(server.requests().at(3).header("Last-Event-ID"), QByteArray("1"));
    source->close();
}

void tst_EventSource::redirectLimit()
{
    ScriptedHttpServer server;
    server.setFallback(HttpScript::redirect(302, "/loop"));
    auto source = makeSource(server.url(QStringLiteral("/loop")));
    source->setMaxRedirects(3);
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("error 302 fatal"), QStringLiteral("closed")}));
    QVERIFY2(rec.errors.at(0).contains(u"redirects"), qPrintable(rec.errors.at(0)));
    QCOMPARE(server.requests().size(), 4); // the request and three redirects followed

    // Each attempt counts afresh, and the default limit stops a loop too.
    ScriptedHttpServer loop;
    loop.setFallback(HttpScript::redirect(307, "/again"));
    auto second = makeSource(loop.url(QStringLiteral("/again")));
    QCOMPARE(second->maxRedirects(), EventSource::DefaultMaxRedirects);
    Recorder rec2(*second);
    second->open();
    QTRY_COMPARE(rec2.log, (QStringList{QStringLiteral("error 307 fatal"), QStringLiteral("closed")}));
    QCOMPARE(loop.requests().size(), EventSource::DefaultMaxRedirects + 1);
}

void tst_EventSource::redirectWithoutUsableLocation_data()
{
    QTest::addColumn<QByteArray>("location");
    QTest::newRow("none") << QByteArray();
    QTest::newRow("ftp") << QByteArray("ftp://127.0.0.1/stream");
    QTest::newRow("no host") << QByteArray("http://");
    QTest::newRow("garbage") << QByteArray("http://[::1");
}

void tst_EventSource::redirectWithoutUsableLocation()
{
    QFETCH(QByteArray, location);
    ScriptedHttpServer server;
    server.enqueue(HttpScript::redirect(302, location));
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("error 302 fatal"), QStringLiteral("closed")}));
    QVERIFY2(rec.errors.at(0).contains(u"Location"), qPrintable(rec.errors.at(0)));
    QCOMPARE(server.requests().size(), 1);
}

void tst_EventSource::redirectToOtherOriginDropsAuthorization()
{
    ScriptedHttpServer first;
    ScriptedHttpServer other; // another port: another origin
    first.enqueue(HttpScript::redirect(307, "/same"), "/start");
    first.enqueue(HttpScript::redirect(307, other.url(QStringLiteral("/stream")).toEncoded()), "/same");
    other.enqueue(HttpScript::stream().send(sseEvent("there")));
    auto source = makeSource(first.url(QStringLiteral("/start")));
    source->setRawHeader("Authorization", "Bearer secret");
    source->setRawHeader("X-Client", "clipdeck");
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 1);
    QCOMPARE(first.requests().size(), 2);
    QCOMPARE(first.requests().at(1).header("Authorization"), QByteArray("Bearer secret")); // same origin
    QCOMPARE(other.requests().size(), 1);
    QVERIFY(!other.requests().at(0).hasHeader("Authorization"));
    QCOMPARE(other.requests().at(0).header("X-Client"), QByteArray("clipdeck"));
    source->close();
}

void tst_EventSource::redirectCredentials_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<bool>("crossOrigin");
    // Each name as a caller might spell it; X-Api-Key is one the caller marked sensitive.
    const QList<QByteArray> secrets{"Authorization", "Cookie", "Proxy-Authorization", "cookie", "X-Api-Key"};
    for (int status : {301, 302, 303, 307, 308}) {
        for (const QByteArray &header : secrets) {
            for (bool cross : {false, true})
                QTest::addRow("%d %s %s", status, header.constData(), cross ? "other origin" : "same origin")
                    << status << header << cross;
        }
    }
}

// On a redirect to another origin every credential-bearing header is dropped; on the same
// origin all of them go on. Other headers always go on.
void tst_EventSource::redirectCredentials()
{
    QFETCH(int, status);
    QFETCH(QByteArray, header);
    QFETCH(bool, crossOrigin);
    ScriptedHttpServer first;
    ScriptedHttpServer other; // another port: another origin
    const QByteArray target = crossOrigin ? other.url(QStringLiteral("/stream")).toEncoded() : QByteArray("/stream");
    first.enqueue(HttpScript::redirect(status, target), "/start");
    (crossOrigin ? other : first).enqueue(HttpScript::stream().send(sseEvent("there")), "/stream");
    auto source = makeSource(first.url(QStringLiteral("/start")));
    source->setSensitiveHeaders({QStringLiteral("x-api-key")});
    source->setRawHeader(header, "secret value");
    source->setRawHeader("X-Client", "clipdeck");
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 1);
    QCOMPARE(first.requests().at(0).header(header), QByteArray("secret value"));
    const auto &followed = (crossOrigin ? other : first).requests().constLast();
    QCOMPARE(followed.path(), QByteArray("/stream"));
    QCOMPARE(followed.hasHeader(header), !crossOrigin);
    if (!crossOrigin)
        QCOMPARE(followed.header(header), QByteArray("secret value"));
    QCOMPARE(followed.header("X-Client"), QByteArray("clipdeck"));
    source->close();
}

void tst_EventSource::redirectBody_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<bool>("crossOrigin");
    QTest::addColumn<QByteArray>("expectedMethod"); // empty: the redirect is refused
    for (bool cross : {false, true}) {
        const char *where = cross ? "other origin" : "same origin";
        QTest::addRow("307 POST %s", where) << 307 << QByteArray("POST") << cross << (cross ? QByteArray() : "POST");
        QTest::addRow("308 PUT %s", where) << 308 << QByteArray("PUT") << cross << (cross ? QByteArray() : "PUT");
        // These drop the body by becoming a GET, wherever they lead.
        QTest::addRow("301 POST %s", where) << 301 << QByteArray("POST") << cross << QByteArray("GET");
        QTest::addRow("302 POST %s", where) << 302 << QByteArray("POST") << cross << QByteArray("GET");
        QTest::addRow("303 PUT %s", where) << 303 << QByteArray("PUT") << cross << QByteArray("GET");
        // A 301/302 keeps a PUT a PUT, and only 307/308 may repeat its body.
        QTest::addRow("301 PUT %s", where) << 301 << QByteArray("PUT") << cross << QByteArray();
        QTest::addRow("302 PATCH %s", where) << 302 << QByteArray("PATCH") << cross << QByteArray();
    }
}

// A request body is sent again only on a 307/308 to the same origin.
void tst_EventSource::redirectBody()
{
    QFETCH(int, status);
    QFETCH(QByteArray, method);
    QFETCH(bool, crossOrigin);
    QFETCH(QByteArray, expectedMethod);
    const QByteArray body = "{\"subscribe\":[\"j1\"]}";
    ScriptedHttpServer first;
    ScriptedHttpServer other;
    const QByteArray target = crossOrigin ? other.url(QStringLiteral("/stream")).toEncoded() : QByteArray("/stream");
    first.enqueue(HttpScript::redirect(status, target), "/start");
    ScriptedHttpServer &destination = crossOrigin ? other : first;
    destination.enqueue(HttpScript::stream().send(sseEvent("there")), "/stream");
    auto source = makeSource(first.url(QStringLiteral("/start")));
    source->setMethod(method);
    source->setBody(body);
    Recorder rec(*source);
    source->open();
    if (expectedMethod.isEmpty()) {
        QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("error %1 fatal").arg(status), QStringLiteral("closed")}));
        QVERIFY2(rec.errors.at(0).contains(u"body"), qPrintable(rec.errors.at(0)));
        QCOMPARE(first.requests().size(), 1);
        QCOMPARE(other.requests().size(), 0);
        return;
    }
    QTRY_COMPARE(rec.events.size(), 1);
    const auto &followed = destination.requests().constLast();
    QCOMPARE(followed.path(), QByteArray("/stream"));
    QCOMPARE(followed.method, expectedMethod);
    QCOMPARE(followed.body, expectedMethod == method ? body : QByteArray());
    source->close();
}

void tst_EventSource::urlCredentialsAreBasicAuthorization()
{
    ScriptedHttpServer first;
    ScriptedHttpServer other;
    first.enqueue(HttpScript::redirect(307, "/same"), "/start");
    // A Location with its own user info: never a source of credentials.
    QUrl elsewhere = other.url(QStringLiteral("/stream"));
    elsewhere.setUserInfo(QStringLiteral("mallory:x"));
    first.enqueue(HttpScript::redirect(302, elsewhere.toEncoded()), "/same");
    other.enqueue(HttpScript::stream().send(sseEvent("there")));
    QUrl url = first.url(QStringLiteral("/start"));
    url.setUserName(QStringLiteral("editor"));
    url.setPassword(QStringLiteral("p\u00e4ss:word"));
    auto source = makeSource(url);
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 1);
    const QByteArray basic = "Basic " + QStringLiteral("editor:p\u00e4ss:word").toUtf8().toBase64();
    QCOMPARE(first.requests().at(0).header("Authorization"), basic);
    QCOMPARE(first.requests().at(1).header("Authorization"), basic);
    QVERIFY(!other.requests().at(0).hasHeader("Authorization"));
    QVERIFY(!first.requests().at(0).target.contains("editor"));
    source->close();
}

void tst_EventSource::responseHeadLimit_data()
{
    QTest::addColumn<qint64>("limit");
    QTest::addColumn<qint64>("headSize");
    QTest::addColumn<bool>("opens");
    const qint64 defaultLimit = EventSource::DefaultMaxResponseHeadSize;
    QTest::newRow("default limit, head at it") << defaultLimit << defaultLimit << true;
    QTest::newRow("default limit, one byte over") << defaultLimit << defaultLimit + 1 << false;
    QTest::newRow("1 KiB limit, head at it") << qint64(1024) << qint64(1024) << true;
    QTest::newRow("1 KiB limit, one byte over") << qint64(1024) << qint64(1025) << false;
    QTest::newRow("1 KiB limit, 1 MiB head") << qint64(1024) << qint64(1 << 20) << false;
}

void tst_EventSource::responseHeadLimit()
{
    QFETCH(qint64, limit);
    QFETCH(qint64, headSize);
    QFETCH(bool, opens);
    const QByteArray start = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Padding: ";
    const QByteArray end = "\r\n\r\n";
    const QByteArray head = start + QByteArray(headSize - start.size() - end.size(), 'p') + end;
    QCOMPARE(head.size(), headSize);
    ScriptedHttpServer server;
    server.enqueue(HttpScript::raw().send(head + sseEvent("in")));
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    QCOMPARE(source->maxResponseHeadSize(), EventSource::DefaultMaxResponseHeadSize);
    source->setMaxResponseHeadSize(limit);
    Recorder rec(*source);
    source->open();
    if (opens) {
        QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("event message [] in")}));
        source->close();
        return;
    }
    QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("error 0 fatal"), QStringLiteral("closed")}));
    QCOMPARE(rec.errors.at(0), QStringLiteral("the response head is larger than the limit of %1 bytes").arg(limit));
    QCOMPARE(server.requests().size(), 1);
}

// A head that never ends, sent slowly: refused once it passes the limit, without waiting for
// the rest (this test would time out otherwise), and the connection is dropped.
void tst_EventSource::hugeResponseHeadFailsAtOnce()
{
    ScriptedHttpServer server;
    HttpScript script = HttpScript::raw().send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n");
    const QByteArray field = "X-Filler: " + QByteArray(1000, 'f') + "\r\n";
    for (int i = 0; i < 50000; ++i) // 50 MB, 16 KB every 10 ms: over a minute in all
        script.send(QByteArray(field).repeated(16)).wait(10);
    server.enqueue(script);
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("error 0 fatal"), QStringLiteral("closed")}));
    QCOMPARE(rec.errors.at(0), QStringLiteral("the response head is larger than the limit of 65536 bytes"));
    QTRY_COMPARE(server.openConnectionCount(), 0);
}

void tst_EventSource::malformedResponseIsFatal_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("message");
    QTest::newRow("not HTTP") << QByteArray("SSH-2.0-OpenSSH_9.2\r\n") << 0
                              << QStringLiteral("not an HTTP/1.x status line");
    QTest::newRow("HTTP/2 preface") << QByteArray("HTTP/2 200\r\n\r\n") << 0
                                    << QStringLiteral("not an HTTP/1.x status line");
    QTest::newRow("NUL in a field") << QByteArray("HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n", 29) << 0
                                    << QStringLiteral("NUL");
    QTest::newRow("space before colon") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type : text/event-stream\r\n\r\n")
                                        << 0 << QStringLiteral("name: value");
    QTest::newRow("length and chunked") << QByteArray(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\n\r\n")
                                        << 200 << QStringLiteral("both Content-Length and Transfer-Encoding");
    QTest::newRow("gzip transfer coding")
        << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: gzip\r\n\r\n") << 200
        << QStringLiteral("unsupported transfer coding \"gzip\"");
    QTest::newRow("bad chunk") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                             "Transfer-Encoding: chunked\r\n\r\nzz\r\n")
                               << 200 << QStringLiteral("invalid chunk size");
    QTest::newRow("101") << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n") << 0
                         << QStringLiteral("switched protocols");
}

void tst_EventSource::malformedResponseIsFatal()
{
    QFETCH(QByteArray, response);
    QFETCH(int, status);
    QFETCH(QString, message);
    ScriptedHttpServer server;
    server.enqueue(HttpScript::raw().send(response));
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_VERIFY(rec.log.contains(QStringLiteral("closed")));
    const QString opened = status == 200 && message.contains(u"chunk size") ? QStringLiteral("open") : QString();
    QStringList expected{QStringLiteral("error %1 fatal").arg(status), QStringLiteral("closed")};
    if (!opened.isEmpty())
        expected.prepend(opened);
    QCOMPARE(rec.log, expected);
    QVERIFY2(rec.errors.at(0).contains(message), qPrintable(rec.errors.at(0)));
    QCOMPARE(server.requests().size(), 1);
}

void tst_EventSource::compressedStreamIsFatal()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::stream().header("Content-Encoding", "gzip").send("\x1f\x8b garbage"));
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("error 200 fatal"), QStringLiteral("closed")}));
    QVERIFY2(rec.errors.at(0).contains(u"content encoding \"gzip\""), qPrintable(rec.errors.at(0)));
    QCOMPARE(server.requests().size(), 1);
    QVERIFY(!server.requests().at(0).hasHeader("Accept-Encoding")); // none was asked for
}

void tst_EventSource::interimResponsesAreSkipped()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::raw()
                       .send("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
                       .wait(20)
                       .send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                             + sseEvent("after interim")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("event message [] after interim")}));
    source->close();
}

void tst_EventSource::throughProxy_data()
{
    QTest::addColumn<bool>("applicationProxy");
    QTest::newRow("application proxy (the default)") << true;
    QTest::newRow("explicit proxy") << false;
}

// The stream goes through the proxy (CONNECT) whichever way it is set, and reconnects through it.
void tst_EventSource::throughProxy()
{
    QFETCH(bool, applicationProxy);
    ScriptedHttpServer server;
    server.enqueue(HttpScript::chunkedStream().send(sseEvent("via proxy", "1")).end());
    server.enqueue(HttpScript::stream().send(sseEvent("again")));
    ConnectProxy proxy;
    QUrl url = server.url(QStringLiteral("/api/events"));
    url.setHost(QStringLiteral("events.clipdeck.invalid")); // RFC 2606: never resolves
    auto source = makeSource(url);
    QCOMPARE(source->proxy().type(), QNetworkProxy::DefaultProxy);
    const QNetworkProxy previous = QNetworkProxy::applicationProxy();
    if (applicationProxy)
        QNetworkProxy::setApplicationProxy(proxy.proxy());
    else
        source->setProxy(proxy.proxy());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 2);
    QNetworkProxy::setApplicationProxy(previous);
    const QString authority = QStringLiteral("events.clipdeck.invalid:%1").arg(server.port());
    QCOMPARE(proxy.targets, (QStringList{authority, authority}));
    QCOMPARE(server.requests().size(), 2);
    QCOMPARE(server.requests().at(0).target, QByteArray("/api/events")); // origin-form inside the tunnel
    QCOMPARE(server.requests().at(0).header("Host"), authority.toLatin1());
    QCOMPARE(server.requests().at(1).header("Last-Event-ID"), QByteArray("1"));
    source->close();
}

void tst_EventSource::overTls()
{
    const auto certificate = testsupport::makeTestCertificate();
    QVERIFY(certificate);
    ScriptedHttpServer server(certificate->serverConfiguration());
    server.enqueue(HttpScript::chunkedStream().send(sseEvent("secure", "1")).end());
    server.enqueue(HttpScript::stream().send(sseEvent("still secure")));
    auto source = makeSource(server.url(QStringLiteral("/api/events")));
    QCOMPARE(source->url().scheme(), QStringLiteral("https"));
    QVERIFY(source->sslConfiguration().isNull());
    source->setSslConfiguration(certificate->trustingClientConfiguration());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("event message [1] secure"),
                                   QStringLiteral("error 0 retry"), QStringLiteral("open"),
                                   QStringLiteral("event message [1] still secure")}));
    QCOMPARE(server.requests().size(), 2);
    QCOMPARE(server.requests().at(0).header("Host"), QStringLiteral("127.0.0.1:%1").arg(server.port()).toLatin1());
    source->close();
}

// Not trusted by default: no request goes out, and the error names the certificate's SHA-256
// (what a user checks against the server's, and what pinning will match).
void tst_EventSource::untrustedCertificateReportsItsFingerprint()
{
    const auto certificate = testsupport::makeTestCertificate();
    QVERIFY(certificate);
    ScriptedHttpServer server(certificate->serverConfiguration());
    server.setFallback(HttpScript::stream().send(sseEvent("must not be reached")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log.value(0), QStringLiteral("error 0 retry"));
    source->close();
    const QString &message = rec.errors.at(0);
    QVERIFY2(message.contains(u"TLS certificate verification failed for 127.0.0.1"), qPrintable(message));
    QVERIFY2(message.contains(certificate->sha256Fingerprint()), qPrintable(message));
    QCOMPARE(server.requests().size(), 0);
}

// http -> https on the same host is a change of scheme, so of origin: secrets stay behind.
void tst_EventSource::redirectToHttpsIsAnotherOrigin()
{
    const auto certificate = testsupport::makeTestCertificate();
    QVERIFY(certificate);
    ScriptedHttpServer plain;
    ScriptedHttpServer secure(certificate->serverConfiguration());
    plain.enqueue(HttpScript::redirect(308, secure.url(QStringLiteral("/stream")).toEncoded()));
    secure.enqueue(HttpScript::stream().send(sseEvent("upgraded")));
    auto source = makeSource(plain.url());
    source->setSslConfiguration(certificate->trustingClientConfiguration());
    source->setRawHeader("Cookie", "clipdeck_token=secret");
    source->setRawHeader("Authorization", "Bearer secret");
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 1);
    QCOMPARE(plain.requests().at(0).header("Cookie"), QByteArray("clipdeck_token=secret"));
    QVERIFY(!secure.requests().at(0).hasHeader("Cookie"));
    QVERIFY(!secure.requests().at(0).hasHeader("Authorization"));
    source->close();
}

void tst_EventSource::reconnectSendsLastEventId()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::chunkedStream().send(sseEvent("a", "1") + sseEvent("b", "job-7:42")).end());
    server.enqueue(HttpScript::chunkedStream().send(sseEvent("c")).end()); // no id: the last one persists
    server.enqueue(HttpScript::stream().send(sseEvent("d", "x")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 4);
    QCOMPARE(rec.events.at(2), (Event{QStringLiteral("message"), QStringLiteral("c"), QStringLiteral("job-7:42")}));
    QCOMPARE(server.requests().size(), 3);
    QVERIFY(!server.requests().at(0).hasHeader("Last-Event-ID"));
    QCOMPARE(server.requests().at(1).header("Last-Event-ID"), QByteArray("job-7:42"));
    QCOMPARE(server.requests().at(2).header("Last-Event-ID"), QByteArray("job-7:42"));
    QCOMPARE(source->lastEventId(), QStringLiteral("x"));
    source->close();
}

void tst_EventSource::lastEventIdOmittedWhenEmpty()
{
    ScriptedHttpServer server;
    // An empty id field resets the last event ID; an id-only block commits it without dispatch.
    server.enqueue(HttpScript::chunkedStream().send(sseEvent("a", "1") + "id\ndata: b\n\n").end());
    server.enqueue(HttpScript::chunkedStream().send("id: 9\n\n").end());
    server.enqueue(HttpScript::stream().send(sseEvent("c")));
    auto source = makeSource(server.url());
    QSignalSpy idChanged(source.get(), &EventSource::lastEventIdChanged);
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 3);
    QCOMPARE(rec.events.at(1).lastEventId, QString());
    QVERIFY(!server.requests().at(1).hasHeader("Last-Event-ID"));
    QCOMPARE(server.requests().at(2).header("Last-Event-ID"), QByteArray("9"));
    QCOMPARE(rec.events.at(2).lastEventId, QStringLiteral("9"));
    QCOMPARE(idChanged.size(), 3); // "1", "", "9"
    source->close();
}

void tst_EventSource::initialLastEventId()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::stream().send(sseEvent("resumed")));
    auto source = makeSource(server.url());
    source->setLastEventId(QStringLiteral("42"));
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 1);
    QCOMPARE(server.requests().at(0).header("Last-Event-ID"), QByteArray("42"));
    QCOMPARE(rec.events.at(0).lastEventId, QStringLiteral("42"));
    source->close();
}

void tst_EventSource::retryFieldHonoured()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::chunkedStream().send("retry: 40\n\n" + sseEvent("a")).end());
    server.enqueue(HttpScript::stream().send("retry: 1x\n\n" + sseEvent("b"))); // not all digits: ignored
    auto source = makeSource(server.url());
    // Without the server's hint the test would time out waiting for the reconnect.
    source->setInitialReconnectDelay(600000);
    source->setMaxReconnectDelay(600000);
    QSignalSpy retryChanged(source.get(), &EventSource::reconnectionTimeChanged);
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(source->reconnectionTime(), 40);
    QCOMPARE(retryChanged.size(), 1);
    QCOMPARE(rec.delays, QList<int>{40});
    source->close();
}

void tst_EventSource::backoffGrowsWithinJitterBounds_data()
{
    QTest::addColumn<double>("jitter");
    QTest::newRow("no jitter") << 0.0;
    QTest::newRow("half") << 0.5;
    QTest::newRow("full") << 1.0;
}

void tst_EventSource::backoffGrowsWithinJitterBounds()
{
    QFETCH(double, jitter);
    ScriptedHttpServer server;
    server.setFallback(HttpScript::reply(503));
    auto source = makeSource(server.url());
    source->setInitialReconnectDelay(10);
    source->setBackoffMultiplier(2);
    source->setMaxReconnectDelay(80);
    source->setJitter(jitter);
    Recorder rec(*source);
    QList<int> attempts;
    connect(source.get(), &EventSource::errorOccurred, this, [&] { attempts << source->reconnectAttempt(); });
    source->open();
    QTRY_VERIFY(rec.delays.size() >= 7);
    source->close();

    const QList<int> nominal{10, 20, 40, 80, 80, 80, 80};
    bool belowNominal = false;
    for (int i = 0; i < nominal.size(); ++i) {
        const int delay = rec.delays.at(i);
        const int low = int(std::floor(nominal.at(i) * (1 - jitter)));
        QVERIFY2(delay >= low && delay <= nominal.at(i),
                 qPrintable(
                     QStringLiteral("attempt %1: %2 outside [%3, %4]").arg(i).arg(delay).arg(low).arg(nominal.at(i))));
        belowNominal |= delay < nominal.at(i);
    }
    QCOMPARE(belowNominal, jitter > 0); // jitter is applied (all 7 at the top: odds ~1e-12)
    QCOMPARE(attempts.mid(0, 4), (QList<int>{1, 2, 3, 4}));
}

void tst_EventSource::backoffResetsOnceHealthy()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(503));
    server.enqueue(HttpScript::reply(503));
    server.enqueue(HttpScript::chunkedStream().send(sseEvent("short-lived")).end()); // opens, not healthy
    server.enqueue(HttpScript::stream().send(sseEvent("stays")));                    // held open
    server.enqueue(HttpScript::stream());
    auto source = makeSource(server.url());
    source->setInitialReconnectDelay(10);
    source->setBackoffMultiplier(2);
    source->setHealthyAfter(60000);
    Recorder rec(*source);
    // Only the held connection may count as healthy: the setting applies from the next open.
    connect(source.get(), &EventSource::errorOccurred, this, [&] {
        if (rec.delays.size() == 3)
            source->setHealthyAfter(20);
    });
    source->open();
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(rec.delays, (QList<int>{10, 20, 40}));
    QTRY_COMPARE(source->reconnectAttempt(), 0);
    server.disconnectAll();
    QTRY_COMPARE(rec.delays.size(), 4);
    QCOMPARE(rec.delays.at(3), 10);
    QCOMPARE(rec.log.mid(0, 6), (QStringList{QStringLiteral("error 503 retry"), QStringLiteral("error 503 retry"),
                                             QStringLiteral("open"), QStringLiteral("event message [] short-lived"),
                                             QStringLiteral("error 0 retry"), QStringLiteral("open")}));
    source->close();
}

// "retry: 0" is honoured once; a server that then keeps failing is not reconnected to in a loop.
void tst_EventSource::zeroRetryStillBacksOff()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::chunkedStream().send("retry: 0\n\n").end());
    server.setFallback(HttpScript::reply(503));
    auto source = makeSource(server.url());
    source->setBackoffMultiplier(2);
    source->setMaxReconnectDelay(60000);
    source->setJitter(0);
    Recorder rec(*source);
    source->open();
    QTRY_VERIFY(rec.delays.size() >= 4);
    source->close();
    QCOMPARE(rec.delays.mid(0, 4), (QList<int>{0, 20, 40, 80}));
}

void tst_EventSource::retryAfterHeader()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(503).header("Retry-After", "2"));
    server.enqueue(HttpScript::reply(429).header("Retry-After", "3600"));
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    source->setMaxReconnectDelay(60000);
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.delays.size(), 1);
    QCOMPARE(source->reconnectDelay(), 2000);
    QVERIFY(source->nextReconnectAt() > QDateTime::currentDateTimeUtc());
    source->restart(); // skip the wait
    QTRY_COMPARE(rec.delays.size(), 2);
    QCOMPARE(source->reconnectDelay(), 60000); // the server's wish, capped
    source->close();
}

void tst_EventSource::readTimeoutForcesReconnect()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::stream().send(sseEvent("a", "1"))); // then silence, connection open
    server.enqueue(HttpScript::stream().send(sseEvent("b")));
    auto source = makeSource(server.url());
    source->setReadTimeout(150);
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("event message [1] a"),
                                   QStringLiteral("error 0 retry"), QStringLiteral("open"),
                                   QStringLiteral("event message [1] b")}));
    QVERIFY2(rec.errors.at(0).contains(u"150 ms"), qPrintable(rec.errors.at(0)));
    QCOMPARE(server.requests().at(1).header("Last-Event-ID"), QByteArray("1"));
    // The timed-out connection was dropped, not left dangling.
    QTRY_COMPARE(server.openConnectionCount(), 1);
    source->close();
}

void tst_EventSource::heartbeatsKeepReadTimeoutAway()
{
    ScriptedHttpServer server;
    HttpScript script = HttpScript::stream();
    for (int i = 0; i < 12; ++i)
        script.wait(25).send(":\n");
    server.enqueue(script.send(sseEvent("done")));
    auto source = makeSource(server.url());
    source->setReadTimeout(400); // far above the heartbeat interval, well below the whole stream
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 1);
    QStringList expected{QStringLiteral("open")};
    for (int i = 0; i < 12; ++i)
        expected << QStringLiteral("comment ");
    expected << QStringLiteral("event message [] done");
    QCOMPARE(rec.log, expected);
    source->close();
}

void tst_EventSource::partialEventDiscardedOnDrop_data()
{
    QTest::addColumn<HttpScript>("script");
    const QByteArray complete = sseEvent("complete", "1");
    const QByteArray partial = "id: 2\ndata: partial";
    QTest::newRow("close-delimited, FIN")
        << HttpScript::stream().send(complete).wait(20).send(partial).wait(20).close();
    QTest::newRow("close-delimited, reset")
        << HttpScript::stream().send(complete).wait(20).send(partial).wait(20).abort();
    QTest::newRow("chunked, last chunk") << HttpScript::chunkedStream().send(complete).wait(20).send(partial).end();
}

void tst_EventSource::partialEventDiscardedOnDrop()
{
    QFETCH(HttpScript, script);
    ScriptedHttpServer server;
    server.enqueue(script);
    // Queued, not a fallback: no copy of the first request may come and take it (issue #15).
    server.enqueue(HttpScript::stream().send(sseEvent("next")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(rec.events.at(0), (Event{QStringLiteral("message"), QStringLiteral("complete"), QStringLiteral("1")}));
    QCOMPARE(rec.events.at(1), (Event{QStringLiteral("message"), QStringLiteral("next"), QStringLiteral("1")}));
    QCOMPARE(rec.log.mid(0, 3), (QStringList{QStringLiteral("open"), QStringLiteral("event message [1] complete"),
                                             QStringLiteral("error 0 retry")}));
    // The reconnect resumes after "1": the partial event's "2" was never committed.
    QCOMPARE(server.requests().size(), 2);
    QCOMPARE(server.requests().last().header("Last-Event-ID"), QByteArray("1"));
    source->close();
}

void tst_EventSource::headersAndBodyResentOnReconnect()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(500));
    server.enqueue(HttpScript::chunkedStream().send(sseEvent("x", "5")).end());
    server.enqueue(HttpScript::stream());
    auto source = makeSource(server.url(QStringLiteral("/api/events")));
    source->setMethod("POST");
    source->setBody("{\"jobs\":[\"a\",\"b\"]}");
    source->setRawHeader("Authorization", "Bearer t0ken");
    source->setHeaders(QVariantMap{{QStringLiteral("Authorization"), QStringLiteral("Bearer t0ken")},
                                   {QStringLiteral("X-Client"), QStringLiteral("tests")}});
    QCOMPARE(source->headers().value(QStringLiteral("X-Client")).toString(), QStringLiteral("tests"));
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(server.requests().size(), 3);
    QTRY_COMPARE(rec.count(QStringLiteral("open")), 2);
    for (const auto &r : server.requests()) {
        QCOMPARE(r.method, QByteArray("POST"));
        QCOMPARE(r.target, QByteArray("/api/events"));
        QCOMPARE(r.body, QByteArray("{\"jobs\":[\"a\",\"b\"]}"));
        QCOMPARE(r.header("Authorization"), QByteArray("Bearer t0ken"));
        QCOMPARE(r.header("X-Client"), QByteArray("tests"));
        QCOMPARE(r.header("Content-Type"), QByteArray("application/octet-stream"));
        QCOMPARE(r.header("Accept"), QByteArray("text/event-stream"));
    }
    QCOMPARE(server.requests().at(2).header("Last-Event-ID"), QByteArray("5"));
    source->close();
}

void tst_EventSource::networkErrorReconnects()
{
    quint16 port = 0;
    {
        QTcpServer probe; // a port that was free a moment ago and now refuses connections
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    auto source = makeSource(QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(port)));
    Recorder rec(*source);
    source->open();
    QTRY_VERIFY(rec.log.size() >= 2);
    QCOMPARE(rec.log.mid(0, 2), (QStringList{QStringLiteral("error 0 retry"), QStringLiteral("error 0 retry")}));
    QCOMPARE(source->readyState(), EventSource::Connecting);
    QCOMPARE(rec.delays.mid(0, 2), (QList<int>{20, 40}));
    source->close();
}

void tst_EventSource::eachAttemptSendsItsRequestOnce_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<HttpScript>("script");
    const QByteArray shortStream =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + sseEvent("x");
    for (const char *method : {"GET", "POST"}) {
        // The server read the request and hung up without a byte of answer: Qt 6.4's
        // QHttpNetworkConnectionChannel::_q_error() resends the request on a new connection.
        QTest::addRow("%s, closed before any response", method) << QByteArray(method) << HttpScript::raw().close();
        QTest::addRow("%s, reset before any response", method) << QByteArray(method) << HttpScript::raw().abort();
        QTest::addRow("%s, closed inside the status line", method)
            << QByteArray(method) << HttpScript::raw().send("HTTP/1.1 20").close();
        // How nginx + nchan and most SSE servers end a stream.
        QTest::addRow("%s, closed after a short stream", method)
            << QByteArray(method) << HttpScript::raw().send(shortStream).close();
        // A complete answer on a kept-alive connection, then the server closes it.
        QTest::addRow("%s, closed after a complete 503", method)
            << QByteArray(method) << HttpScript::reply(503, "busy\n").close();
    }
}

// Every connection attempt puts exactly one request on the wire, however the server ends it.
void tst_EventSource::eachAttemptSendsItsRequestOnce()
{
    QFETCH(QByteArray, method);
    QFETCH(HttpScript, script);
    constexpr int Attempts = 200;
    ScriptedHttpServer server;
    server.setFallback(script);
    auto source = makeSource(server.url(QStringLiteral("/api/events")));
    source->setInitialReconnectDelay(0);
    source->setBackoffMultiplier(1);
    source->setMethod(method);
    const QByteArray body = method == "GET" ? QByteArray() : QByteArray("{\"jobs\":[\"a\"]}");
    source->setBody(body);
    int ended = 0;
    // Each attempt ends in exactly one error; closing from the last one leaves no attempt running.
    connect(source.get(), &EventSource::errorOccurred, this, [&](const QString &, int, bool willReconnect) {
        QVERIFY(willReconnect);
        if (++ended == Attempts)
            source->close();
    });
    source->open();
    QTRY_COMPARE_WITH_TIMEOUT(ended, Attempts, 120000);
    QCOMPARE(source->readyState(), EventSource::Closed);
    // A resent copy follows its original within a millisecond; give a late one ample time to show.
    QTest::qWait(100);
    QCOMPARE(server.requests().size(), Attempts);
    QCOMPARE(server.connectionCount(), Attempts);
    for (const auto &r : server.requests()) {
        QCOMPARE(r.method, method);
        QCOMPARE(r.body, body);
    }
}

void tst_EventSource::oversizedEventIsFatal()
{
    ScriptedHttpServer server;
    server.enqueue(
        HttpScript::stream().send(sseEvent("small")).send(sseEvent(QByteArray(300, 'x'))).send(sseEvent("after")));
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    source->setMaxEventSize(64);
    Recorder rec(*source);
    source->open();
    QTRY_VERIFY(rec.log.contains(QStringLiteral("closed")));
    QCOMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("event message [] small"),
                                   QStringLiteral("error 200 fatal"), QStringLiteral("closed")}));
    QVERIFY(!rec.errors.at(0).isEmpty());
    QCOMPARE(server.requests().size(), 1);
}

void tst_EventSource::invalidUrlIsFatal()
{
    for (const QUrl &url : {QUrl(QStringLiteral("ftp://127.0.0.1/x")), QUrl()}) {
        EventSource source(url);
        Recorder rec(source);
        source.open();
        QCOMPARE(rec.log, (QStringList{QStringLiteral("error 0 fatal"), QStringLiteral("closed")}));
        QCOMPARE(source.readyState(), EventSource::Closed);
    }
}

void tst_EventSource::closeWhileConnecting()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::stream().respondAfter(50).send(sseEvent("too late")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(server.requests().size(), 1); // the request is out, no answer yet
    QCOMPARE(source->readyState(), EventSource::Connecting);
    source->close();
    QCOMPARE(source->readyState(), EventSource::Closed);
    const QStringList atClose{QStringLiteral("closed")};
    QCOMPARE(rec.log, atClose);
    QTRY_COMPARE(server.openConnectionCount(), 0); // the request was aborted
    QTest::qWait(100);                             // past the server's answer time
    QCOMPARE(rec.log, atClose);
    QCOMPARE(server.requests().size(), 1);

    // Closing before anything reached the network is just as final.
    rec.log.clear();
    server.enqueue(HttpScript::stream().send(sseEvent("never")));
    source->open();
    source->close();
    QCOMPARE(rec.log, atClose);
    QTest::qWait(100);
    QCOMPARE(rec.log, atClose);
}

void tst_EventSource::closeWhileOpen()
{
    ScriptedHttpServer server;
    HttpScript script = HttpScript::stream();
    for (int i = 0; i < 50; ++i)
        script.send(sseEvent(QByteArray::number(i), QByteArray::number(i))).wait(10);
    server.enqueue(script);
    server.setFallback(HttpScript::stream());
    auto source = makeSource(server.url());
    source->setReadTimeout(50); // its timer must die with the connection too
    Recorder rec(*source);
    source->open();
    QTRY_VERIFY(rec.events.size() >= 2);
    source->close();
    const QStringList atClose = rec.log;
    QCOMPARE(atClose.last(), QStringLiteral("closed"));
    QCOMPARE(source->readyState(), EventSource::Closed);
    QTRY_COMPARE(server.openConnectionCount(), 0);
    QTest::qWait(100);
    QCOMPARE(rec.log, atClose);
    QCOMPARE(server.requests().size(), 1);
}

void tst_EventSource::closeFromEventHandler()
{
    ScriptedHttpServer server;
    // Three events in one chunk: the parser dispatches them in one go.
    server.enqueue(HttpScript::stream().send(sseEvent("1", "1") + sseEvent("2", "2") + "id: 3\n\n" + sseEvent("4")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    connect(source.get(), &EventSource::eventReceived, this, [&] { source->close(); });
    source->open();
    QTRY_COMPARE(rec.log.size(), 3);
    QCOMPARE(rec.log,
             (QStringList{QStringLiteral("open"), QStringLiteral("event message [1] 1"), QStringLiteral("closed")}));
    QCOMPARE(rec.qmlEvents.size(), 0); // the QML variant of the event came after close()
    QCOMPARE(source->lastEventId(), QStringLiteral("1"));
    QTest::qWait(50);
    QCOMPARE(rec.log.size(), 3);

    // Reopening resumes from the last event delivered, not the last one parsed.
    disconnect(source.get(), &EventSource::eventReceived, this, nullptr);
    server.enqueue(HttpScript::stream().send(sseEvent("5")));
    source->open();
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(server.requests().at(1).header("Last-Event-ID"), QByteArray("1"));
    source->close();
}

void tst_EventSource::closeWhileWaitingToReconnect()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(503));
    server.setFallback(HttpScript::stream().send(sseEvent("must not come")));
    auto source = makeSource(server.url());
    source->setInitialReconnectDelay(60);
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log, QStringList{QStringLiteral("error 503 retry")});
    QCOMPARE(source->reconnectDelay(), 60);
    QVERIFY(source->nextReconnectAt().isValid());
    source->close();
    QCOMPARE(rec.log, (QStringList{QStringLiteral("error 503 retry"), QStringLiteral("closed")}));
    QCOMPARE(source->reconnectDelay(), -1);
    QVERIFY(!source->nextReconnectAt().isValid());
    QTest::qWait(150); // past the time the reconnect was due
    QCOMPARE(server.requests().size(), 1);
    QCOMPARE(rec.log.size(), 2);
}

void tst_EventSource::restartFromEventHandler()
{
    ScriptedHttpServer server;
    // Two events in one chunk, then an id-only block: the restart happens while the parser is
    // still inside this chunk, and must resume after the event actually delivered.
    server.enqueue(HttpScript::stream().send(sseEvent("a", "1") + sseEvent("b", "2") + "id: 3\n\n"));
    server.enqueue(HttpScript::stream().send(sseEvent("c")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    bool restarted = false;
    connect(source.get(), &EventSource::eventReceived, this, [&] {
        if (!std::exchange(restarted, true))
            source->restart();
    });
    source->open();
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("event message [1] a"),
                                   QStringLiteral("open"), QStringLiteral("event message [1] c")}));
    QCOMPARE(server.requests().size(), 2);
    QCOMPARE(server.requests().at(1).header("Last-Event-ID"), QByteArray("1"));
    source->close();
}

// A handler restarts the source and then spins an event loop (a dialog, say) while the new
// connection delivers: those events wait for the handler and come once, in order.
void tst_EventSource::restartAndNestedEventLoopInHandler()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::stream().send(sseEvent("a", "1") + sseEvent("b", "2")));
    server.enqueue(HttpScript::stream().send(sseEvent("c", "3") + sseEvent("d", "4")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    bool restarted = false;
    connect(source.get(), &EventSource::eventReceived, this, [&] {
        if (std::exchange(restarted, true))
            return;
        source->restart();
        QTRY_COMPARE(server.requests().size(), 2); // a nested event loop
        QTest::qWait(100);                         // in which the new stream's events arrive
    });
    source->open();
    QTRY_COMPARE(rec.events.size(), 3);
    QCOMPARE(rec.log,
             (QStringList{QStringLiteral("open"), QStringLiteral("event message [1] a"), QStringLiteral("open"),
                          QStringLiteral("event message [3] c"), QStringLiteral("event message [4] d")}));
    QCOMPARE(server.requests().at(1).header("Last-Event-ID"), QByteArray("1"));
    source->close();
}

void tst_EventSource::restartWhileOpen()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::stream().send(sseEvent("first", "5")));
    server.enqueue(HttpScript::stream().send(sseEvent("second")));
    auto source = makeSource(server.url());
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.events.size(), 1);
    source->restart();
    QCOMPARE(source->readyState(), EventSource::Connecting);
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(rec.log, (QStringList{QStringLiteral("open"), QStringLiteral("event message [5] first"),
                                   QStringLiteral("open"), QStringLiteral("event message [5] second")}));
    QCOMPARE(server.requests().at(1).header("Last-Event-ID"), QByteArray("5"));
    QTRY_COMPARE(server.openConnectionCount(), 1); // the first connection was dropped
    source->close();
}

void tst_EventSource::restartWhileWaitingAndAfterClose()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(503));
    server.enqueue(HttpScript::stream().send(sseEvent("now")));
    server.enqueue(HttpScript::reply(204));
    server.enqueue(HttpScript::stream().send(sseEvent("again")));
    auto source = makeSource(server.url());
    source->setInitialReconnectDelay(600000);
    source->setMaxReconnectDelay(600000);
    Recorder rec(*source);
    source->open();
    QTRY_COMPARE(rec.log.size(), 1);
    QCOMPARE(source->reconnectAttempt(), 1);
    source->restart(); // no ten-minute wait
    QCOMPARE(source->reconnectDelay(), -1);
    QCOMPARE(source->reconnectAttempt(), 0);
    QTRY_COMPARE(rec.events.size(), 1);

    source->restart(); // this time the server says 204
    QTRY_COMPARE(source->readyState(), EventSource::Closed);
    source->restart(); // a closed source opens again
    QTRY_COMPARE(rec.events.size(), 2);
    QCOMPARE(rec.log, (QStringList{QStringLiteral("error 503 retry"), QStringLiteral("open"),
                                   QStringLiteral("event message [] now"), QStringLiteral("closed"),
                                   QStringLiteral("open"), QStringLiteral("event message [] again")}));
    QCOMPARE(server.requests().size(), 4);
    source->close();
}

QTEST_GUILESS_MAIN(tst_EventSource)
#include "tst_eventsource.moc"
