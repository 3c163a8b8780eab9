#pragma once

#include "sse/event.h"

#include <QByteArray>
#include <QDateTime>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <QVariantMap>

#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkProxy;
class QSslConfiguration;
QT_END_NAMESPACE

namespace clipdeck::sse {

// A client of one Server-Sent Events stream, following the WHATWG EventSource model (states,
// Last-Event-ID resume, `retry:`), plus what a long-lived desktop client needs: exponential
// backoff with jitter, a read timeout, redirects under our control, custom method/headers/body.
// Usable from QML once a QML module registers it.
//
// Its own HTTP/1.1 transport, not QNetworkAccessManager: every connection attempt is one TCP (or
// TLS) connection carrying the request exactly once — nothing below this class ever re-sends
// it, whatever the method — and the response head is capped (maxResponseHeadSize). Redirects to
// another origin (scheme, host or port) drop Authorization, Cookie, Proxy-Authorization and the
// sensitiveHeaders; a request body is repeated only on a 307/308 to the same origin (on any
// other redirect a POST becomes a bodiless GET as in fetch, and anything else with a body fails).
// docs/protocol.md, "The Clipdeck client", states these guarantees.
//
// Changes to url, method, body, headers and the knobs apply from the next connection attempt.
// Do not delete the object from one of its own signal handlers; use deleteLater().
class EventSource : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY configurationChanged)
    Q_PROPERTY(ReadyState readyState READ readyState NOTIFY readyStateChanged)
    Q_PROPERTY(QByteArray method READ method WRITE setMethod NOTIFY configurationChanged)
    Q_PROPERTY(QByteArray body READ body WRITE setBody NOTIFY configurationChanged)
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders NOTIFY configurationChanged)
    Q_PROPERTY(QString lastEventId READ lastEventId WRITE setLastEventId NOTIFY lastEventIdChanged)
    Q_PROPERTY(
        int initialReconnectDelay READ initialReconnectDelay WRITE setInitialReconnectDelay NOTIFY configurationChanged)
    Q_PROPERTY(int maxReconnectDelay READ maxReconnectDelay WRITE setMaxReconnectDelay NOTIFY configurationChanged)
    Q_PROPERTY(double backoffMultiplier READ backoffMultiplier WRITE setBackoffMultiplier NOTIFY configurationChanged)
    Q_PROPERTY(double jitter READ jitter WRITE setJitter NOTIFY configurationChanged)
    Q_PROPERTY(int healthyAfter READ healthyAfter WRITE setHealthyAfter NOTIFY configurationChanged)
    Q_PROPERTY(int readTimeout READ readTimeout WRITE setReadTimeout NOTIFY configurationChanged)
    Q_PROPERTY(int maxRedirects READ maxRedirects WRITE setMaxRedirects NOTIFY configurationChanged)
    Q_PROPERTY(qint64 maxEventSize READ maxEventSize WRITE setMaxEventSize NOTIFY configurationChanged)
    Q_PROPERTY(
        qint64 maxResponseHeadSize READ maxResponseHeadSize WRITE setMaxResponseHeadSize NOTIFY configurationChanged)
    Q_PROPERTY(QStringList sensitiveHeaders READ sensitiveHeaders WRITE setSensitiveHeaders NOTIFY configurationChanged)
    Q_PROPERTY(int reconnectionTime READ reconnectionTime NOTIFY reconnectionTimeChanged)
    Q_PROPERTY(int reconnectDelay READ reconnectDelay NOTIFY reconnectScheduleChanged)
    Q_PROPERTY(QDateTime nextReconnectAt READ nextReconnectAt NOTIFY reconnectScheduleChanged)
    Q_PROPERTY(int reconnectAttempt READ reconnectAttempt NOTIFY reconnectScheduleChanged)

public:
    enum ReadyState { Connecting, Open, Closed };
    Q_ENUM(ReadyState)

    static constexpr int DefaultInitialReconnectDelay = 3000;
    static constexpr int DefaultMaxReconnectDelay = 60000;
    static constexpr double DefaultBackoffMultiplier = 2.0;
    static constexpr double DefaultJitter = 0.3;
    static constexpr int DefaultHealthyAfter = 15000;
    static constexpr int DefaultMaxRedirects = 10;
    static constexpr qint64 DefaultMaxResponseHeadSize = 64 * 1024;

    explicit EventSource(QObject *parent = nullptr);
    explicit EventSource(const QUrl &url, QObject *parent = nullptr);
    ~EventSource() override;

    // The proxy of the stream's connections. The default, QNetworkProxy::DefaultProxy, is the
    // application proxy (QNetworkProxy::setApplicationProxy(), or the proxy factory) the way a
    // QTcpSocket uses it: an HTTP proxy is asked to CONNECT to the server.
    void setProxy(const QNetworkProxy &proxy);
    QNetworkProxy proxy() const;
    // TLS settings for https (CA certificates, protocols, ...); a null configuration (the
    // default) means QSslConfiguration::defaultConfiguration(). The peer is always verified
    // against the URL's host; a failure is reported with the certificate's SHA-256 fingerprint.
    void setSslConfiguration(const QSslConfiguration &configuration);
    QSslConfiguration sslConfiguration() const;

    QUrl url() const;
    void setUrl(const QUrl &url);
    ReadyState readyState() const;

    QByteArray method() const; // "GET" unless set
    void setMethod(const QByteArray &method);
    QByteArray body() const; // sent with every attempt when not empty
    void setBody(const QByteArray &body);
    QVariantMap headers() const; // name -> value (string) of the custom headers
    void setHeaders(const QVariantMap &headers);
    void setRawHeader(const QByteArray &name, const QByteArray &value); // empty value removes it
    // Header names (case-insensitive) that carry secrets: like Authorization, Cookie and
    // Proxy-Authorization (always treated so), they are not sent on after a redirect to another
    // origin. A user name and password in the URL are sent as Basic Authorization.
    QStringList sensitiveHeaders() const;
    void setSensitiveHeaders(const QStringList &names);

    // The resume point: sent as Last-Event-ID when not empty, including on the first attempt.
    QString lastEventId() const;
    void setLastEventId(const QString &id);

    // Reconnection: the n-th consecutive attempt (n from 0) waits
    //   min(maxReconnectDelay, reconnectionTime * backoffMultiplier^n) * (1 - jitter * u),
    // u uniform in [0, 1), where reconnectionTime is the server's last `retry:` or else
    // initialReconnectDelay. n returns to 0 once a connection has stayed open healthyAfter ms.
    int initialReconnectDelay() const;
    void setInitialReconnectDelay(int milliseconds);
    int maxReconnectDelay() const;
    void setMaxReconnectDelay(int milliseconds);
    double backoffMultiplier() const;
    void setBackoffMultiplier(double multiplier); // >= 1
    double jitter() const;
    void setJitter(double fraction); // 0..1
    int healthyAfter() const;
    void setHealthyAfter(int milliseconds);

    // No bytes at all (heartbeats included) for this long forces a reconnect; 0 (the default)
    // waits forever.
    int readTimeout() const;
    void setReadTimeout(int milliseconds);
    int maxRedirects() const;
    void setMaxRedirects(int count);
    qint64 maxEventSize() const;
    void setMaxEventSize(qint64 bytes);
    // The status line and header fields of a response (interim 1xx responses included) beyond
    // this many bytes: a fatal error at once, whatever keeps arriving. At least 1.
    qint64 maxResponseHeadSize() const;
    void setMaxResponseHeadSize(qint64 bytes);

    int reconnectionTime() const;
    // The pending reconnection, for "reconnecting in N s": its delay in ms (-1 when none is
    // pending), when it fires (invalid when none), and n as above.
    int reconnectDelay() const;
    QDateTime nextReconnectAt() const;
    int reconnectAttempt() const;

    // open() starts connecting unless already connecting or open; close() stops at once:
    // after it returns no signal about the current connection is emitted. restart() drops any
    // connection or pending wait and connects again now, keeping the last event ID.
    Q_INVOKABLE void open();
    Q_INVOKABLE void close();
    Q_INVOKABLE void restart();

Q_SIGNALS:
    void opened();
    void eventReceived(const clipdeck::sse::Event &event);
    // The same event, in types QML handles without registration.
    void received(const QString &type, const QString &data, const QString &lastEventId);
    void commentReceived(const QString &text);
    // httpStatus is 0 for errors below HTTP (refused, reset, read timeout, stream ended, a
    // response that is not HTTP or whose head is too large).
    // When willReconnect, readyState is Connecting and the reconnect schedule is already set.
    void errorOccurred(const QString &message, int httpStatus, bool willReconnect);
    void readyStateChanged(clipdeck::sse::EventSource::ReadyState state);
    // Entered Closed: by close(), a 204, or a fatal error (after its errorOccurred).
    void closed();
    void lastEventIdChanged();
    void reconnectionTimeChanged();
    void reconnectScheduleChanged();
    void configurationChanged();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace clipdeck::sse
