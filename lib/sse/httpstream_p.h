#pragma once

// Internal to lib/sse: the EventSource's HTTP/1.1 transport. One object, one connection, one
// request, written exactly once, and one response read incrementally.
//
// Why not QNetworkAccessManager: in Qt 6.4 (and still in 6.8) QHttpNetworkConnectionChannel
// re-sends the current request on its own, whatever its method, when the socket reports
// RemoteHostClosedError before the channel reached its reading state (_q_error() ->
// resendCurrentRequest(), up to reconnectAttempts = 3 times), and when the connection ends while
// the status line or headers are being read (QHttpProtocolHandler::_q_receiveReply() ->
// handleUnexpectedEOF() -> closeAndResendCurrentRequest()). A server that read the request and
// hung up therefore sees it twice: a phantom subscriber, or a POST run twice. There is no API to
// turn that off. QNAM 6.4 also has no limit on a response head, and reads a huge one in quadratic
// time. Retrying is the EventSource's own policy (backoff, Last-Event-ID); this transport never
// retries anything.
//
// Proxies: the socket's proxy is whatever the options say, by default QNetworkProxy::DefaultProxy,
// i.e. the application proxy the way any QTcpSocket uses it (an HTTP proxy is asked to CONNECT;
// caching-only proxies are not used). TLS: QSslSocket with the given QSslConfiguration (null: the
// default one), peer verified against the URL's host; a failed verification is reported with the
// server certificate's SHA-256 fingerprint (the hook for pinning a certificate later).

#include "sse/httpresponseparser_p.h"

#include <QByteArray>
#include <QList>
#include <QNetworkProxy>
#include <QObject>
#include <QPointer>
#include <QUrl>

#ifndef QT_NO_SSL
#include <QSslConfiguration>
#include <QSslError>
#endif

#include <utility>

QT_BEGIN_NAMESPACE
class QAbstractSocket;
QT_END_NAMESPACE

namespace clipdeck::sse {

using HttpHeaderList = QList<std::pair<QByteArray, QByteArray>>;

struct HttpRequest
{
    QUrl url; // http or https; user info is ignored (the caller turns it into a header)
    QByteArray method = QByteArrayLiteral("GET");
    // Sent as given, in order, after Host. Host, Content-Length, Transfer-Encoding and Connection
    // are the transport's own: same-named entries here are left out.
    HttpHeaderList headers;
    QByteArray body;
};

struct HttpStreamOptions
{
    qsizetype maxHeadSize = HttpResponseParser::DefaultMaxHeadSize;
    QNetworkProxy proxy = QNetworkProxy(QNetworkProxy::DefaultProxy);
#ifndef QT_NO_SSL
    QSslConfiguration sslConfiguration; // null: QSslConfiguration::defaultConfiguration()
#endif
};

class HttpStream : public QObject
{
    Q_OBJECT

public:
    enum class Failure {
        Network,  // could not connect, reset, closed early, TLS: nothing says a retry cannot work
        Protocol, // the response broke HTTP or a limit (HttpResponseParser::Error)
    };
    Q_ENUM(Failure)

    explicit HttpStream(QObject *parent = nullptr);
    ~HttpStream() override;

    // Connects and sends the request once. Call once per object.
    void start(const HttpRequest &request, const HttpStreamOptions &options);
    // Drops the connection. No signal is emitted after it returns. Safe from any of this object's
    // signal handlers.
    void abort();
    // abort(), then deletes the object once none of its code is on the stack. The way to get rid
    // of it: deleteLater() is not enough when a handler runs a nested event loop that delivers
    // deferred deletions.
    void dispose();

    // After headReceived().
    const HttpResponseParser &response() const { return m_parser; }

    // The request as it goes on the wire (request line, headers, body).
    static QByteArray serialize(const HttpRequest &request);

Q_SIGNALS:
    void activity(); // bytes arrived (for read timeouts)
    void headReceived();
    // Body bytes, de-chunked. The view is valid during the call only (direct connections only).
    void bodyReceived(QByteArrayView bytes);
    void finished(); // the response is complete
    void failed(const QString &message, clipdeck::sse::HttpStream::Failure failure);

private:
    class BusyScope;
    void dropSocket();
    void onConnected();
    void onReadyRead();
    void onClosed();
    void onSocketError();
    void processInput();
    void handleEndOfInput();
    void finishWith(bool ok, const QString &message = {}, Failure failure = Failure::Network);
#ifndef QT_NO_SSL
    void onSslErrors(const QList<QSslError> &errors);
#endif

    enum class State { Idle, Connecting, Sent, Done };
    State m_state = State::Idle;
    QPointer<QAbstractSocket> m_socket;
    HttpRequest m_request;
    HttpResponseParser m_parser;
    int m_busy = 0;            // BusyScopes alive
    bool m_disposed = false;   // dispose() was called: deleted once m_busy drops to 0
    bool m_starting = false;   // inside start(): the end is reported from the event loop
    bool m_aborted = false;    // abort() was called: nothing more is reported
    bool m_processing = false; // inside processInput(): a nested event loop must not re-enter it
    bool m_eofPending = false; // the connection ended while processing; handled afterwards
    QString m_socketError;     // how it ended, when not by a close
    QString m_tlsErrors;       // what certificate verification said, for the failure message
};

} // namespace clipdeck::sse
