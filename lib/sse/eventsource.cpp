#include "sse/eventsource.h"

#include "sse/httpstream_p.h"
#include "sse/parser.h"

#include <QMetaMethod>
#include <QNetworkProxy>
#include <QRandomGenerator>
#include <QTimer>

#ifndef QT_NO_SSL
#include <QSslConfiguration>
#endif

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

namespace clipdeck::sse {

namespace {

using HeaderList = HttpHeaderList;

// Always dropped on a redirect to another origin, on top of EventSource::sensitiveHeaders.
constexpr const char *CredentialHeaders[] = {"Authorization", "Cookie", "Proxy-Authorization"};

bool isEventStream(const QByteArray &contentType)
{
    const qsizetype semicolon = contentType.indexOf(';');
    const QByteArray mediaType = (semicolon < 0 ? contentType : contentType.left(semicolon)).trimmed();
    return mediaType.compare("text/event-stream", Qt::CaseInsensitive) == 0;
}

bool isRedirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool isRetriable(int status)
{
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

bool isHttpUrl(const QUrl &url)
{
    const QString scheme = url.scheme();
    return url.isValid() && !url.host().isEmpty() && (scheme == u"http" || scheme == u"https");
}

bool sameOrigin(const QUrl &a, const QUrl &b)
{
    const auto defaultPort = [](const QUrl &url) { return url.scheme() == u"https" ? 443 : 80; };
    return a.scheme() == b.scheme() && a.host() == b.host() && a.port(defaultPort(a)) == b.port(defaultPort(b));
}

bool isContentEncodingIdentity(QByteArrayView contentEncoding)
{
    const QByteArrayView coding = QByteArrayView(contentEncoding).trimmed();
    return coding.isEmpty() || coding.compare("identity", Qt::CaseInsensitive) == 0;
}

bool containsLineBreakOrNul(QByteArrayView bytes)
{
    return bytes.contains('\r') || bytes.contains('\n') || bytes.contains('\0');
}

qsizetype findHeader(const HeaderList &headers, QByteArrayView name)
{
    for (qsizetype i = 0; i < headers.size(); ++i) {
        if (headers.at(i).first.compare(name, Qt::CaseInsensitive) == 0)
            return i;
    }
    return -1;
}

void removeHeader(HeaderList &headers, QByteArrayView name)
{
    headers.removeIf([name](const auto &h) { return h.first.compare(name, Qt::CaseInsensitive) == 0; });
}

QString describeStatus(int status, const QByteArray &reason)
{
    return reason.isEmpty() ? QString::number(status) : QString::number(status) + u' ' + QString::fromLatin1(reason);
}

} // namespace

struct EventSource::Private
{
    explicit Private(EventSource *q);

    void setState(ReadyState newState);

    void startAttempt();
    void sendRequest();
    void onHead();
    void onBody(QByteArrayView bytes);
    void onFinished();
    void onFailed(const QString &message, HttpStream::Failure failure);
    void feed(QByteArrayView chunk);
    void followRedirect(int status);
    bool isSensitive(QByteArrayView name) const;
    void open();
    void teardownConnection();
    void resetParser();
    void clearSchedule(bool resetAttempt);
    void scheduleReconnect(const QString &message, int httpStatus, int minimumDelay = 0);
    void fail(const QString &message, int httpStatus);
    void closeForGood();
    int computeDelay() const;
    void restartReadTimer();
    void commitLastEventId(const QString &id);

    EventSource *q;

    // Configuration.
    QUrl url;
    QByteArray method = QByteArrayLiteral("GET");
    QByteArray body;
    HeaderList headers;
    int initialDelay = DefaultInitialReconnectDelay;
    int maxDelay = DefaultMaxReconnectDelay;
    double multiplier = DefaultBackoffMultiplier;
    double jitter = DefaultJitter;
    int healthyAfter = DefaultHealthyAfter;
    int readTimeout = 0;
    int maxRedirects = DefaultMaxRedirects;
    qint64 maxEventSize = Parser::DefaultMaxEventSize;
    QStringList sensitiveHeaders;
    HttpStreamOptions transport{qsizetype(DefaultMaxResponseHeadSize)}; // head limit, proxy, TLS

    // State.
    ReadyState state = Closed;
    QString lastEventId;
    std::optional<int> serverRetry;
    int attempt = 0;
    int pendingDelay = -1;
    QDateTime nextAttemptAt;

    // Every open/close/restart and every end of a connection bumps the generation; code that
    // emits several signals in a row checks it after each one, so a handler that closes or
    // restarts the source silences the rest of the sequence.
    quint64 generation = 0;

    // The current attempt: where redirects have taken it so far.
    HttpStream *connection = nullptr;
    QUrl requestUrl;
    QByteArray requestMethod;
    QByteArray requestBody;
    HeaderList requestHeaders;
    int redirects = 0;
    bool streaming = false;

    // The parser must not be reset from inside its own feed() (a handler may call close() or
    // restart()); such a reset waits until feed() returns.
    Parser parser;
    bool feeding = false;
    bool parserResetPending = false;
    QByteArray deferredBody; // arrived while feeding (see onBody())
    quint64 deferredGeneration = 0;
    bool lastEventIdSetDuringFeed = false;
    quint64 feedGeneration = 0;

    QTimer reconnectTimer;
    QTimer readTimer;
    QTimer healthyTimer;
};

EventSource::Private::Private(EventSource *owner) : q(owner)
{
    reconnectTimer.setSingleShot(true);
    readTimer.setSingleShot(true);
    healthyTimer.setSingleShot(true);
    // Reconnect delays and read timeouts are short enough for coarse timers to distort them.
    reconnectTimer.setTimerType(Qt::PreciseTimer);
    readTimer.setTimerType(Qt::PreciseTimer);

    parser.setCallbacks({
        .event =
            [this](const Event &event) {
                if (generation != feedGeneration)
                    return; // a handler closed or restarted: the rest of this chunk is stale
                const quint64 gen = generation;
                commitLastEventId(event.lastEventId);
                if (gen != generation)
                    return;
                Q_EMIT this->q->eventReceived(event);
                if (gen != generation)
                    return;
                Q_EMIT this->q->received(event.type, event.data, event.lastEventId);
            },
        .comment =
            [this](QStringView text) {
                if (generation != feedGeneration)
                    return;
                // Heartbeats are frequent; skip the copy when nobody listens.
                static const QMetaMethod signal = QMetaMethod::fromSignal(&EventSource::commentReceived);
                if (this->q->isSignalConnected(signal))
                    Q_EMIT this->q->commentReceived(text.toString());
            },
        .retry =
            [this](int milliseconds) {
                if (generation != feedGeneration)
                    return;
                const bool changed = serverRetry != milliseconds;
                serverRetry = milliseconds;
                if (changed)
                    Q_EMIT this->q->reconnectionTimeChanged();
            },
    });

    QObject::connect(&reconnectTimer, &QTimer::timeout, q, [this] {
        if (state != Connecting || connection)
            return;
        const quint64 gen = generation;
        clearSchedule(false);
        if (gen == generation)
            startAttempt();
    });
    QObject::connect(&readTimer, &QTimer::timeout, q, [this] {
        if (!connection)
            return;
        scheduleReconnect(EventSource::tr("no data received for %1 ms").arg(readTimeout), 0);
    });
    QObject::connect(&healthyTimer, &QTimer::timeout, q, [this] {
        if (state != Open || attempt == 0)
            return;
        attempt = 0;
        Q_EMIT this->q->reconnectScheduleChanged();
    });
}

void EventSource::Private::setState(ReadyState newState)
{
    if (state == newState)
        return;
    state = newState;
    Q_EMIT q->readyStateChanged(state);
}

void EventSource::Private::open()
{
    const quint64 gen = ++generation;
    clearSchedule(true);
    if (gen != generation)
        return;
    if (serverRetry) {
        serverRetry.reset();
        Q_EMIT q->reconnectionTimeChanged();
        if (gen != generation)
            return;
    }
    setState(Connecting);
    if (gen == generation)
        startAttempt();
}

void EventSource::Private::startAttempt()
{
    if (!isHttpUrl(url)) {
        fail(url.isValid() && !url.isEmpty()
                 ? EventSource::tr("unsupported URL \"%1\" (expected http or https)").arg(url.toDisplayString())
                 : EventSource::tr("invalid URL \"%1\"").arg(url.toDisplayString()),
             0);
        return;
    }
    requestUrl = url.adjusted(QUrl::RemoveUserInfo);
    requestMethod = method.isEmpty() ? QByteArrayLiteral("GET") : method;
    requestBody = body;
    requestHeaders = headers;
    // Credentials in the URL go out as Basic authorization (like curl, without waiting for a
    // challenge), and so are dropped with it on a redirect to another origin.
    if (!url.userName().isEmpty() && findHeader(requestHeaders, "Authorization") < 0) {
        const QByteArray credentials = url.userName().toUtf8() + ':' + url.password().toUtf8();
        requestHeaders.append({QByteArrayLiteral("Authorization"), "Basic " + credentials.toBase64()});
    }
    redirects = 0;
    resetParser();
    sendRequest();
}

void EventSource::Private::sendRequest()
{
    HttpRequest request;
    request.url = requestUrl;
    request.method = requestMethod;
    request.body = requestBody;
    // The caller's headers override these defaults; Last-Event-ID is ours.
    request.headers = {{QByteArrayLiteral("Accept"), QByteArrayLiteral("text/event-stream")},
                       {QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache")}};
    for (const auto &[name, value] : std::as_const(requestHeaders)) {
        removeHeader(request.headers, name);
        request.headers.append({name, value});
    }
    const QByteArray id = lastEventId.toUtf8();
    removeHeader(request.headers, "Last-Event-ID");
    if (!id.isEmpty() && !containsLineBreakOrNul(id))
        request.headers.append({QByteArrayLiteral("Last-Event-ID"), id});
    if (!requestBody.isEmpty() && findHeader(request.headers, "Content-Type") < 0)
        request.headers.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/octet-stream")});

    streaming = false;
    connection = new HttpStream(q);
    QObject::connect(connection, &HttpStream::activity, q, [this] { restartReadTimer(); });
    QObject::connect(connection, &HttpStream::headReceived, q, [this] { onHead(); });
    QObject::connect(connection, &HttpStream::bodyReceived, q, [this](QByteArrayView bytes) { onBody(bytes); });
    QObject::connect(connection, &HttpStream::finished, q, [this] { onFinished(); });
    QObject::connect(connection, &HttpStream::failed, q,
                     [this](const QString &message, HttpStream::Failure failure) { onFailed(message, failure); });
    connection->start(request, transport);
    restartReadTimer();
}

void EventSource::Private::restartReadTimer()
{
    if (readTimeout > 0)
        readTimer.start(readTimeout);
}

void EventSource::Private::onHead()
{
    if (!connection)
        return;
    const HttpResponseParser &response = connection->response();
    const int status = response.status();
    const QByteArray reason = response.reason();

    if (isRedirect(status)) {
        followRedirect(status);
        return;
    }
    if (status == 204) {
        closeForGood();
        return;
    }
    if (isRetriable(status)) {
        int retryAfter = 0;
        bool ok = false;
        const qint64 seconds = response.header("Retry-After").trimmed().toLongLong(&ok);
        if (ok && seconds > 0)
            retryAfter = int(std::min<qint64>(seconds * 1000, maxDelay));
        scheduleReconnect(EventSource::tr("HTTP %1").arg(describeStatus(status, reason)), status, retryAfter);
        return;
    }
    if (status != 200) {
        fail(status >= 200 && status < 300
                 ? EventSource::tr("unexpected HTTP %1 (expected 200)").arg(describeStatus(status, reason))
                 : EventSource::tr("HTTP %1").arg(describeStatus(status, reason)),
             status);
        return;
    }
    const QByteArray contentType = response.header("Content-Type");
    if (!isEventStream(contentType)) {
        fail(contentType.isEmpty() ? EventSource::tr("the response has no content type (expected text/event-stream)")
                                   : EventSource::tr("unexpected content type \"%1\" (expected text/event-stream)")
                                         .arg(QString::fromLatin1(contentType)),
             status);
        return;
    }
    // We ask for no content coding; a compressed stream would reach the parser as garbage.
    const QByteArray contentEncoding = response.header("Content-Encoding");
    if (!isContentEncodingIdentity(contentEncoding)) {
        fail(EventSource::tr("unsupported content encoding \"%1\" (the stream must not be compressed)")
                 .arg(QString::fromLatin1(contentEncoding)),
             status);
        return;
    }

    streaming = true;
    healthyTimer.start(healthyAfter);
    const quint64 gen = generation;
    setState(Open);
    if (gen == generation)
        Q_EMIT q->opened();
}

void EventSource::Private::followRedirect(int status)
{
    const QByteArray location = connection->response().header("Location").trimmed();
    // Credentials are never taken from a Location: they are the server's words, not the user's.
    const QUrl target = location.isEmpty()
                            ? QUrl()
                            : requestUrl.resolved(QUrl(QString::fromUtf8(location))).adjusted(QUrl::RemoveUserInfo);
    if (!isHttpUrl(target)) {
        fail(EventSource::tr("HTTP %1 redirect without a usable Location").arg(status), status);
        return;
    }
    if (requestUrl.scheme() == u"https" && target.scheme() == u"http") {
        fail(EventSource::tr("refusing to follow a redirect from https to http (%1)").arg(target.toDisplayString()),
             status);
        return;
    }
    if (redirects >= maxRedirects) {
        fail(EventSource::tr("too many redirects (more than %1)").arg(maxRedirects), status);
        return;
    }
    const bool crossOrigin = !sameOrigin(requestUrl, target);
    // Fetch's rules: 303 turns anything but GET/HEAD into a bodiless GET, and browsers have
    // always done the same for POST on 301/302; 307/308 repeat the request as it was.
    const bool toGet = (status == 303 && requestMethod != "GET" && requestMethod != "HEAD")
                       || ((status == 301 || status == 302) && requestMethod == "POST");
    if (toGet) {
        requestMethod = QByteArrayLiteral("GET");
        requestBody.clear();
        removeHeader(requestHeaders, "Content-Type");
    }
    // A body may have side effects or secrets: it is repeated only where the server promised the
    // same request may be repeated (307/308) and only to the origin it was meant for.
    if (!requestBody.isEmpty() && (crossOrigin || (status != 307 && status != 308))) {
        fail(crossOrigin ? EventSource::tr("refusing to send the request body to another origin (HTTP %1 to %2)")
                               .arg(status)
                               .arg(target.toDisplayString())
                         : EventSource::tr("refusing to repeat a %1 with its body after HTTP %2 (only 307 and 308 "
                                           "repeat a request as it was)")
                               .arg(QString::fromLatin1(requestMethod))
                               .arg(status),
             status);
        return;
    }
    ++redirects;
    // Credentials meant for one origin are not handed to another.
    if (crossOrigin)
        requestHeaders.removeIf([this](const auto &h) { return isSensitive(h.first); });
    requestUrl = target;
    teardownConnection();
    sendRequest();
}

bool EventSource::Private::isSensitive(QByteArrayView name) const
{
    for (const char *credential : CredentialHeaders) {
        if (name.compare(credential, Qt::CaseInsensitive) == 0)
            return true;
    }
    const QString n = QString::fromLatin1(name);
    return std::any_of(sensitiveHeaders.cbegin(), sensitiveHeaders.cend(),
                       [&n](const QString &s) { return s.compare(n, Qt::CaseInsensitive) == 0; });
}

void EventSource::Private::onBody(QByteArrayView bytes)
{
    if (!connection || !streaming)
        return; // not a stream: nothing to parse
    if (feeding) {
        // A handler restarted the source and spun a nested event loop, in which the new
        // connection delivered: the parser is still inside the old chunk. These bytes wait for it.
        deferredBody += bytes;
        deferredGeneration = generation;
        return;
    }
    feed(bytes);
    while (!deferredBody.isEmpty() && deferredGeneration == generation && connection && streaming)
        feed(std::exchange(deferredBody, {}));
    deferredBody.clear();
}

void EventSource::Private::feed(QByteArrayView chunk)
{
    if (chunk.isEmpty())
        return;
    const quint64 gen = generation;
    feedGeneration = gen;
    feeding = true;
    lastEventIdSetDuringFeed = false;
    const bool ok = parser.feed(chunk);
    feeding = false;
    if (parserResetPending) {
        parserResetPending = false;
        resetParser();
    }
    if (gen != generation)
        return;
    if (lastEventIdSetDuringFeed)
        parser.setLastEventId(lastEventId);
    else
        commitLastEventId(parser.lastEventId()); // an id committed by a blank line without data
    if (gen != generation)
        return;
    if (!ok)
        fail(parser.errorString(), 200);
}

void EventSource::Private::commitLastEventId(const QString &id)
{
    if (id == lastEventId)
        return;
    lastEventId = id;
    Q_EMIT q->lastEventIdChanged();
}

void EventSource::Private::onFinished()
{
    if (!connection)
        return;
    // A stream that ended: reconnect and resume. Any other response was settled at its head.
    scheduleReconnect(EventSource::tr("the server ended the stream"), 0);
}

void EventSource::Private::onFailed(const QString &message, HttpStream::Failure failure)
{
    if (!connection)
        return;
    const int status = connection->response().isHeadComplete() ? connection->response().status() : 0;
    if (failure == HttpStream::Failure::Protocol)
        fail(message, status); // a server breaking HTTP or a limit breaks it the next time too
    else
        scheduleReconnect(message, 0);
}

void EventSource::Private::teardownConnection()
{
    readTimer.stop();
    healthyTimer.stop();
    streaming = false;
    if (HttpStream *r = std::exchange(connection, nullptr)) {
        QObject::disconnect(r, nullptr, q, nullptr);
        r->dispose(); // this may run inside one of its signals
    }
    deferredBody.clear();
    resetParser(); // a partial event dies with its connection
}

void EventSource::Private::resetParser()
{
    if (feeding) {
        parserResetPending = true;
        return;
    }
    parser.reset();
    parser.setLastEventId(lastEventId);
    parser.setMaxEventSize(maxEventSize);
}

void EventSource::Private::clearSchedule(bool resetAttempt)
{
    reconnectTimer.stop();
    const bool changed = pendingDelay >= 0 || (resetAttempt && attempt != 0);
    pendingDelay = -1;
    nextAttemptAt = {};
    if (resetAttempt)
        attempt = 0;
    if (changed)
        Q_EMIT q->reconnectScheduleChanged();
}

int EventSource::Private::computeDelay() const
{
    // A server may ask for an immediate reconnect ("retry: 0") and the first attempt honours it;
    // but when attempts keep failing the delay must grow from something, or 0 × multiplier^n
    // hammers a server that is down.
    constexpr double GrowthFloorMs = 10;
    const double requested = serverRetry.value_or(initialDelay);
    const double base = attempt == 0 ? requested : std::max(requested, GrowthFloorMs);
    const double growth = std::pow(multiplier, attempt);
    const double nominal = std::isfinite(growth) ? std::min(double(maxDelay), base * growth) : double(maxDelay);
    const double factor = 1.0 - jitter * QRandomGenerator::global()->generateDouble();
    return int(std::lround(nominal * factor));
}

void EventSource::Private::scheduleReconnect(const QString &message, int httpStatus, int minimumDelay)
{
    teardownConnection();
    const quint64 gen = ++generation;
    pendingDelay = std::max(computeDelay(), minimumDelay);
    // Past this the delay is pinned at the cap anyway; stopping keeps pow() finite.
    attempt = std::min(attempt + 1, 1000);
    nextAttemptAt = QDateTime::currentDateTimeUtc().addMSecs(pendingDelay);
    reconnectTimer.start(pendingDelay);

    setState(Connecting);
    if (gen != generation)
        return;
    Q_EMIT q->reconnectScheduleChanged();
    if (gen != generation)
        return;
    Q_EMIT q->errorOccurred(message, httpStatus, true);
}

void EventSource::Private::fail(const QString &message, int httpStatus)
{
    teardownConnection();
    const quint64 gen = ++generation;
    clearSchedule(false);
    if (gen != generation)
        return;
    setState(Closed);
    if (gen != generation)
        return;
    Q_EMIT q->errorOccurred(message, httpStatus, false);
    if (gen != generation)
        return;
    Q_EMIT q->closed();
}

void EventSource::Private::closeForGood()
{
    teardownConnection();
    const quint64 gen = ++generation;
    clearSchedule(false);
    if (gen != generation)
        return;
    setState(Closed);
    if (gen == generation)
        Q_EMIT q->closed();
}

// ---------------------------------------------------------------------------------------------

EventSource::EventSource(QObject *parent) : QObject(parent), d(std::make_unique<Private>(this)) { }

EventSource::EventSource(const QUrl &url, QObject *parent) : EventSource(parent)
{
    d->url = url;
}

EventSource::~EventSource()
{
    // No signals from a half-destroyed object: cut the connection loose before members go.
    ++d->generation;
    d->reconnectTimer.stop();
    d->teardownConnection();
}

void EventSource::setProxy(const QNetworkProxy &proxy)
{
    if (d->transport.proxy == proxy)
        return;
    d->transport.proxy = proxy;
    Q_EMIT configurationChanged();
}

QNetworkProxy EventSource::proxy() const
{
    return d->transport.proxy;
}

void EventSource::setSslConfiguration(const QSslConfiguration &configuration)
{
#ifndef QT_NO_SSL
    if (d->transport.sslConfiguration == configuration)
        return;
    d->transport.sslConfiguration = configuration;
    Q_EMIT configurationChanged();
#else
    Q_UNUSED(configuration);
#endif
}

QSslConfiguration EventSource::sslConfiguration() const
{
#ifndef QT_NO_SSL
    return d->transport.sslConfiguration;
#else
    return {};
#endif
}

QUrl EventSource::url() const
{
    return d->url;
}

void EventSource::setUrl(const QUrl &url)
{
    if (d->url == url)
        return;
    d->url = url;
    Q_EMIT configurationChanged();
}

EventSource::ReadyState EventSource::readyState() const
{
    return d->state;
}

QByteArray EventSource::method() const
{
    return d->method;
}

void EventSource::setMethod(const QByteArray &method)
{
    const QByteArray m = method.isEmpty() ? QByteArrayLiteral("GET") : method;
    if (d->method == m)
        return;
    d->method = m;
    Q_EMIT configurationChanged();
}

QByteArray EventSource::body() const
{
    return d->body;
}

void EventSource::setBody(const QByteArray &body)
{
    if (d->body == body)
        return;
    d->body = body;
    Q_EMIT configurationChanged();
}

QVariantMap EventSource::headers() const
{
    QVariantMap map;
    for (const auto &[name, value] : std::as_const(d->headers))
        map.insert(QString::fromLatin1(name), QString::fromLatin1(value));
    return map;
}

void EventSource::setHeaders(const QVariantMap &headers)
{
    HeaderList list;
    for (auto it = headers.cbegin(); it != headers.cend(); ++it) {
        const QByteArray name = it.key().toLatin1();
        const QByteArray value = it.value().toString().toLatin1();
        if (name.isEmpty() || containsLineBreakOrNul(name) || containsLineBreakOrNul(value)) {
            qWarning("EventSource: ignoring invalid header %s", qPrintable(it.key()));
            continue;
        }
        list.append({name, value});
    }
    if (list == d->headers)
        return;
    d->headers = std::move(list);
    Q_EMIT configurationChanged();
}

void EventSource::setRawHeader(const QByteArray &name, const QByteArray &value)
{
    if (name.isEmpty() || containsLineBreakOrNul(name) || containsLineBreakOrNul(value)) {
        qWarning("EventSource: ignoring invalid header %s", name.constData());
        return;
    }
    const qsizetype index = findHeader(d->headers, name);
    if (value.isEmpty()) {
        if (index < 0)
            return;
        d->headers.removeAt(index);
    } else if (index >= 0) {
        if (d->headers.at(index).second == value)
            return;
        d->headers[index].second = value;
    } else {
        d->headers.append({name, value});
    }
    Q_EMIT configurationChanged();
}

QStringList EventSource::sensitiveHeaders() const
{
    return d->sensitiveHeaders;
}

void EventSource::setSensitiveHeaders(const QStringList &names)
{
    if (d->sensitiveHeaders == names)
        return;
    d->sensitiveHeaders = names;
    Q_EMIT configurationChanged();
}

QString EventSource::lastEventId() const
{
    return d->lastEventId;
}

void EventSource::setLastEventId(const QString &id)
{
    if (d->feeding)
        d->lastEventIdSetDuringFeed = true;
    else
        d->parser.setLastEventId(id);
    d->commitLastEventId(id);
}

int EventSource::initialReconnectDelay() const
{
    return d->initialDelay;
}

void EventSource::setInitialReconnectDelay(int milliseconds)
{
    milliseconds = std::max(milliseconds, 0);
    if (d->initialDelay == milliseconds)
        return;
    d->initialDelay = milliseconds;
    Q_EMIT configurationChanged();
    if (!d->serverRetry)
        Q_EMIT reconnectionTimeChanged();
}

int EventSource::maxReconnectDelay() const
{
    return d->maxDelay;
}

void EventSource::setMaxReconnectDelay(int milliseconds)
{
    milliseconds = std::max(milliseconds, 0);
    if (d->maxDelay == milliseconds)
        return;
    d->maxDelay = milliseconds;
    Q_EMIT configurationChanged();
}

double EventSource::backoffMultiplier() const
{
    return d->multiplier;
}

void EventSource::setBackoffMultiplier(double multiplier)
{
    multiplier = std::isfinite(multiplier) ? std::max(multiplier, 1.0) : 1.0;
    if (d->multiplier == multiplier)
        return;
    d->multiplier = multiplier;
    Q_EMIT configurationChanged();
}

double EventSource::jitter() const
{
    return d->jitter;
}

void EventSource::setJitter(double fraction)
{
    fraction = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : 0.0;
    if (d->jitter == fraction)
        return;
    d->jitter = fraction;
    Q_EMIT configurationChanged();
}

int EventSource::healthyAfter() const
{
    return d->healthyAfter;
}

void EventSource::setHealthyAfter(int milliseconds)
{
    milliseconds = std::max(milliseconds, 0);
    if (d->healthyAfter == milliseconds)
        return;
    d->healthyAfter = milliseconds;
    Q_EMIT configurationChanged();
}

int EventSource::readTimeout() const
{
    return d->readTimeout;
}

void EventSource::setReadTimeout(int milliseconds)
{
    milliseconds = std::max(milliseconds, 0);
    if (d->readTimeout == milliseconds)
        return;
    d->readTimeout = milliseconds;
    Q_EMIT configurationChanged();
}

int EventSource::maxRedirects() const
{
    return d->maxRedirects;
}

void EventSource::setMaxRedirects(int count)
{
    count = std::max(count, 0);
    if (d->maxRedirects == count)
        return;
    d->maxRedirects = count;
    Q_EMIT configurationChanged();
}

qint64 EventSource::maxEventSize() const
{
    return d->maxEventSize;
}

void EventSource::setMaxEventSize(qint64 bytes)
{
    bytes = std::max<qint64>(bytes, 1);
    if (d->maxEventSize == bytes)
        return;
    d->maxEventSize = bytes;
    Q_EMIT configurationChanged();
}

qint64 EventSource::maxResponseHeadSize() const
{
    return d->transport.maxHeadSize;
}

void EventSource::setMaxResponseHeadSize(qint64 bytes)
{
    bytes = std::max<qint64>(bytes, 1);
    if (d->transport.maxHeadSize == bytes)
        return;
    d->transport.maxHeadSize = qsizetype(bytes);
    Q_EMIT configurationChanged();
}

int EventSource::reconnectionTime() const
{
    return d->serverRetry.value_or(d->initialDelay);
}

int EventSource::reconnectDelay() const
{
    return d->pendingDelay;
}

QDateTime EventSource::nextReconnectAt() const
{
    return d->nextAttemptAt;
}

int EventSource::reconnectAttempt() const
{
    return d->attempt;
}

void EventSource::open()
{
    if (d->state != Closed)
        return;
    d->open();
}

void EventSource::close()
{
    const quint64 gen = ++d->generation;
    d->teardownConnection();
    d->clearSchedule(false);
    if (gen != d->generation || d->state == Closed)
        return;
    d->setState(Closed);
    if (gen == d->generation)
        Q_EMIT closed();
}

void EventSource::restart()
{
    const quint64 gen = ++d->generation;
    d->teardownConnection();
    d->clearSchedule(true);
    if (gen != d->generation)
        return;
    d->setState(Connecting);
    if (gen == d->generation)
        d->startAttempt();
}

} // namespace clipdeck::sse
