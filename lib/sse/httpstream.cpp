#include "sse/httpstream_p.h"

#include <QCryptographicHash>
#include <QScopedValueRollback>
#include <QTcpSocket>

#include <utility>

#ifndef QT_NO_SSL
#include <QSslCertificate>
#include <QSslSocket>
#endif

namespace clipdeck::sse {

namespace {

// How much is taken from the socket at a time: a bound on the memory one read holds, not on
// anything the peer can see.
constexpr qint64 ReadChunk = 64 * 1024;

bool isTransportHeader(QByteArrayView name)
{
    for (const char *own : {"Host", "Content-Length", "Transfer-Encoding", "Connection"}) {
        if (name.compare(own, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

bool isHttps(const QUrl &url)
{
    return url.scheme() == u"https";
}

} // namespace

HttpStream::HttpStream(QObject *parent) : QObject(parent) { }

HttpStream::~HttpStream()
{
    abort();
}

QByteArray HttpStream::serialize(const HttpRequest &request)
{
    QByteArray target = request.url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (request.url.hasQuery())
        target += '?' + request.url.query(QUrl::FullyEncoded).toLatin1();

    QByteArray out;
    out.reserve(256 + request.body.size());
    out += request.method + ' ' + target + " HTTP/1.1\r\n";
    out += "Host: " + request.url.authority(QUrl::FullyEncoded | QUrl::RemoveUserInfo).toLatin1() + "\r\n";
    for (const auto &[name, value] : request.headers) {
        if (!isTransportHeader(name))
            out += name + ": " + value + "\r\n";
    }
    const QByteArray &m = request.method;
    if (!request.body.isEmpty() || m == "POST" || m == "PUT" || m == "PATCH")
        out += "Content-Length: " + QByteArray::number(request.body.size()) + "\r\n";
    // One request per connection: the server may close as soon as it has answered.
    out += "Connection: close\r\n\r\n";
    out += request.body;
    return out;
}

void HttpStream::start(const HttpRequest &request, const HttpStreamOptions &options)
{
    Q_ASSERT(m_state == State::Idle);
    m_request = request;
    m_parser = HttpResponseParser(options.maxHeadSize);
    m_parser.setRequestMethodIsHead(request.method == "HEAD");
    m_state = State::Connecting;

    QAbstractSocket *socket = nullptr;
#ifndef QT_NO_SSL
    if (isHttps(request.url)) {
        auto *ssl = new QSslSocket(this);
        ssl->setSslConfiguration(options.sslConfiguration.isNull() ? QSslConfiguration::defaultConfiguration()
                                                                   : options.sslConfiguration);
        ssl->setPeerVerifyName(request.url.host());
        connect(ssl, &QSslSocket::encrypted, this, &HttpStream::onConnected);
        connect(ssl, &QSslSocket::sslErrors, this, &HttpStream::onSslErrors);
        socket = ssl;
    }
#endif
    const QScopedValueRollback starting(m_starting, true);
    if (!socket) {
        if (isHttps(request.url)) {
            finishWith(false, tr("https is not available (Qt was built without TLS)"));
            return;
        }
        socket = new QTcpSocket(this);
        connect(socket, &QAbstractSocket::connected, this, &HttpStream::onConnected);
    }
    m_socket = socket;
    socket->setProxy(options.proxy);
    connect(socket, &QIODevice::readyRead, this, &HttpStream::onReadyRead);
    connect(socket, &QAbstractSocket::disconnected, this, &HttpStream::onClosed);
    connect(socket, &QAbstractSocket::errorOccurred, this, &HttpStream::onSocketError);

    const QString host = request.url.host();
    const quint16 port = quint16(request.url.port(isHttps(request.url) ? 443 : 80));
#ifndef QT_NO_SSL
    if (auto *ssl = qobject_cast<QSslSocket *>(socket)) {
        ssl->connectToHostEncrypted(host, port);
        return;
    }
#endif
    socket->connectToHost(host, port);
}

// Marks code of this object (and of its socket) on the stack: while it runs, the object is not
// deleted, even by a nested event loop that delivers deferred deletions (QTest::qWait() does).
class HttpStream::BusyScope
{
public:
    explicit BusyScope(HttpStream *stream) : m_stream(stream) { ++stream->m_busy; }
    ~BusyScope()
    {
        if (--m_stream->m_busy == 0 && m_stream->m_disposed)
            m_stream->deleteLater();
    }
    BusyScope(const BusyScope &) = delete;
    BusyScope &operator=(const BusyScope &) = delete;

private:
    HttpStream *m_stream;
};

void HttpStream::abort()
{
    m_aborted = true;
    m_state = State::Done;
    dropSocket();
}

void HttpStream::dispose()
{
    abort();
    if (m_disposed)
        return;
    m_disposed = true;
    if (m_busy == 0)
        deleteLater();
}

void HttpStream::dropSocket()
{
    if (QAbstractSocket *socket = std::exchange(m_socket, nullptr)) {
        disconnect(socket, nullptr, this, nullptr);
        // Not deleted here: this may run inside one of the socket's own signals. It goes with
        // this object.
        socket->abort();
    }
}

void HttpStream::onConnected()
{
    const BusyScope busy(this);
    if (m_state != State::Connecting || !m_socket)
        return;
    // The one and only write of this request. Nothing in this class writes it again: a connection
    // that ends before the response is a failure for the caller to handle, never a resend.
    m_state = State::Sent;
    m_socket->write(serialize(m_request));
}

void HttpStream::onReadyRead()
{
    const BusyScope busy(this);
    if (m_state == State::Done || !m_socket)
        return;
    Q_EMIT activity();
    processInput();
}

void HttpStream::processInput()
{
    if (m_processing)
        return; // a handler's nested event loop: the running loop below picks the bytes up
    m_processing = true;
    while (m_state != State::Done && m_socket && m_socket->bytesAvailable() > 0) {
        const QByteArray chunk = m_socket->read(ReadChunk);
        QByteArrayView rest = chunk;
        while (m_state != State::Done) {
            const auto result = m_parser.parse(rest);
            rest = rest.sliced(result.consumed);
            using Step = HttpResponseParser::Step;
            if (result.step == Step::NeedMore)
                break;
            if (result.step == Step::Head) {
                Q_EMIT headReceived();
            } else if (result.step == Step::Body) {
                Q_EMIT bodyReceived(result.body);
            } else if (result.step == Step::End) {
                finishWith(true);
            } else {
                finishWith(false, m_parser.errorString(),
                           m_parser.error() == HttpResponseParser::Error::Truncated ? Failure::Network
                                                                                    : Failure::Protocol);
            }
        }
    }
    m_processing = false;
    if (m_eofPending && m_state != State::Done)
        handleEndOfInput();
}

void HttpStream::onClosed()
{
    const BusyScope busy(this);
    if (m_state == State::Done)
        return;
    if (m_processing) {
        m_eofPending = true;
        return;
    }
    processInput(); // whatever the socket still holds comes before the end
    if (m_state != State::Done)
        handleEndOfInput();
}

void HttpStream::handleEndOfInput()
{
    m_eofPending = false;
    if (!m_socketError.isEmpty()) {
        finishWith(false, m_socketError, Failure::Network);
        return;
    }
    if (m_state == State::Connecting) {
        finishWith(false, tr("the connection closed before the request was sent"));
        return;
    }
    const auto result = m_parser.endOfInput();
    if (result.step == HttpResponseParser::Step::End)
        finishWith(true);
    else
        finishWith(false, m_parser.errorString(), Failure::Network);
}

void HttpStream::onSocketError()
{
    const BusyScope busy(this);
    if (m_state == State::Done || !m_socket)
        return;
    const QAbstractSocket::SocketError error = m_socket->error();
    if (error == QAbstractSocket::RemoteHostClosedError) {
        // An end like any other: the bytes before it still count, and disconnected() may never
        // come when the socket was not fully connected.
        onClosed();
        return;
    }
    m_socketError = m_tlsErrors.isEmpty() ? m_socket->errorString() : m_tlsErrors;
    if (m_processing) {
        m_eofPending = true;
        return;
    }
    processInput(); // what arrived before the error is delivered first
    if (m_state != State::Done)
        handleEndOfInput();
}

#ifndef QT_NO_SSL
void HttpStream::onSslErrors(const QList<QSslError> &errors)
{
    const BusyScope busy(this);
    // Never ignored: the handshake fails and errorOccurred() follows. The fingerprint is what a
    // user compares with the server's, and what a pinned certificate would be matched against.
    QStringList reasons;
    for (const QSslError &e : errors)
        reasons << e.errorString();
    QString message = tr("TLS certificate verification failed for %1: %2")
                          .arg(m_request.url.host(), reasons.join(QStringLiteral("; ")));
    const auto *ssl = qobject_cast<QSslSocket *>(m_socket.data());
    const QSslCertificate peer = ssl ? ssl->peerCertificate() : QSslCertificate();
    if (!peer.isNull())
        message += tr(" (the server's certificate has SHA-256 fingerprint %1)")
                       .arg(QString::fromLatin1(peer.digest(QCryptographicHash::Sha256).toHex(':').toUpper()));
    m_tlsErrors = message;
}
#endif

void HttpStream::finishWith(bool ok, const QString &message, Failure failure)
{
    if (m_state == State::Done)
        return;
    m_state = State::Done;
    dropSocket();
    const auto emitEnd = [this, ok, message, failure] {
        if (m_aborted)
            return;
        if (ok)
            Q_EMIT finished();
        else
            Q_EMIT failed(message, failure);
    };
    // A socket may fail inside connectToHost() (a refused loopback connection): the caller hears
    // of it from the event loop like of any other end, never from inside start().
    if (m_starting)
        QMetaObject::invokeMethod(this, emitEnd, Qt::QueuedConnection);
    else
        emitEnd();
}

} // namespace clipdeck::sse
