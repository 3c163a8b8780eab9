#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QTcpServer>
#include <QUrl>

#include <deque>
#include <memory>
#include <utility>

class QSslConfiguration;
class QTcpSocket;

namespace testsupport {

// What the server answers to one request: a status line and headers, sent at once, then a
// sequence of steps (body bytes, pauses, closing the connection).
class HttpScript
{
public:
    // A complete response with a Content-Length (the sum of all send() steps); the connection
    // then serves the next request. 1xx, 204 and 304 get no Content-Length.
    static HttpScript reply(int status, const QByteArray &body = {},
                            const QByteArray &contentType = QByteArrayLiteral("text/plain"));
    // A close-delimited response (no Content-Length): the headers go out at once, the body is
    // whatever the steps send, and the connection stays open after the last step until close(),
    // abort(), the client, or ScriptedHttpServer::disconnectAll() ends it.
    static HttpScript stream(int status = 200, const QByteArray &contentType = QByteArrayLiteral("text/event-stream"));
    // A chunked response: each send() is one chunk, end() sends the last chunk and the connection
    // then serves the next request (how QHttpServer 6.8, nginx or node stream).
    static HttpScript chunkedStream(int status = 200,
                                    const QByteArray &contentType = QByteArrayLiteral("text/event-stream"));
    // A bodiless redirect; an empty location sends none.
    static HttpScript redirect(int status, const QByteArray &location);
    // No status line and no headers: the connection gets exactly the bytes of the send() steps
    // (a malformed or hostile response, or none at all), and is never answered again.
    static HttpScript raw();

    HttpScript &respondAfter(int milliseconds);                          // hold back the status line (a slow server)
    HttpScript &header(const QByteArray &name, const QByteArray &value); // replaces a same-named one
    HttpScript &removeHeader(const QByteArray &name);
    HttpScript &send(const QByteArray &bytes);
    HttpScript &wait(int milliseconds);
    // Graceful: FIN after everything before it is written. A QNetworkAccessManager client (Qt
    // 6.4) may send the same request again on a new connection when a connection ends this way
    // (lib/sse/httpstream_p.h says where), which takes the next queued script: for such a client,
    // end a stream that is followed by more scripts with chunkedStream() ... end(), or serve
    // what follows from the fallback. The EventSource never does.
    HttpScript &close();
    HttpScript &abort(); // reset: drops unsent data
    HttpScript &end();   // the response is complete: the last chunk, or close() when close-delimited

    struct Step
    {
        enum Kind { Send, Wait, Close, Abort, End } kind;
        QByteArray bytes;
        int milliseconds = 0;
    };

private:
    friend class ScriptedHttpServer;
    int m_status = 200;
    int m_respondAfter = 0;
    bool m_closeDelimited = false;
    bool m_chunked = false;
    bool m_raw = false;
    QList<std::pair<QByteArray, QByteArray>> m_headers;
    QList<Step> m_steps;
};

// A scripted HTTP/1.1 server on 127.0.0.1 (any free port) for tests: every request takes the
// next script queued for its path, else the next general one, else the fallback (default: 500).
// It keeps connections alive between complete responses, answers requests on one connection
// in order, and records every request. It runs on the event loop of the thread it lives in, so
// wait with QTRY_* / QSignalSpy::wait, never with blocking calls.
class ScriptedHttpServer : public QObject
{
    Q_OBJECT
public:
    struct Request
    {
        QByteArray method;
        QByteArray target; // as sent: path and query
        QList<std::pair<QByteArray, QByteArray>> headers;
        QByteArray body;
        int connection = -1;   // index of the accepted connection it came on, from 0
        qint64 receivedAt = 0; // ms since the server started, for logs rather than assertions

        QByteArray path() const; // target without the query
        bool hasHeader(QByteArrayView name) const;
        QByteArray header(QByteArrayView name) const; // first value, case-insensitive; empty when absent
    };

    explicit ScriptedHttpServer(QObject *parent = nullptr);
    // The same over TLS (https): tls carries the server's certificate and key
    // (testcertificate.h makes one).
    explicit ScriptedHttpServer(const QSslConfiguration &tls, QObject *parent = nullptr);
    ~ScriptedHttpServer() override;

    bool isListening() const;
    quint16 port() const;
    QUrl url(const QString &path = QStringLiteral("/")) const; // http, or https over TLS

    // path empty: for any request; otherwise for the next request whose path() matches.
    void enqueue(const HttpScript &script, const QByteArray &path = {});
    void setFallback(const HttpScript &script);

    const QList<Request> &requests() const { return m_requests; }
    int connectionCount() const { return m_connectionCount; }
    int openConnectionCount() const;
    void disconnectAll(); // graceful close of every open connection, as a server restart would

Q_SIGNALS:
    void requestReceived(int index);
    void connectionClosed();

private:
    struct Connection;
    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    void processBuffered(Connection &connection);
    void startResponse(Connection &connection, const HttpScript &script);
    void sendHead(QTcpSocket *socket, const HttpScript &script);
    void runSteps(QTcpSocket *socket);
    HttpScript takeScript(const QByteArray &path);

    std::unique_ptr<QTcpServer> m_server;
    bool m_tls = false;
    QElapsedTimer m_clock;
    QHash<QTcpSocket *, std::shared_ptr<Connection>> m_connections;
    std::deque<HttpScript> m_queue;
    QHash<QByteArray, std::deque<HttpScript>> m_routes;
    HttpScript m_fallback;
    QList<Request> m_requests;
    int m_connectionCount = 0;
};

} // namespace testsupport
