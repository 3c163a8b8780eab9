#include "sse/eventsource.h"

#include "sse/parser.h"

#include <QMetaMethod>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QRandomGenerator>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

namespace clipdeck::sse {

namespace {

using HeaderList = QList<std::pair<QByteArray, QByteArray>>;

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

    QNetworkAccessManager *manager();
    void setState(ReadyState newState);

    void startAttempt();
    void sendRequest();
    void onMetaDataChanged();
    void onReadyRead();
    void onFinished();
    void feed(const QByteArray &chunk);
    void followRedirect(int status);
    void open();
    void teardownReply(bool letFinish = false);
    void resetParser();
    void clearSchedule(bool resetAttempt);
    void scheduleReconnect(const QString &message, int httpStatus, int minimumDelay = 0);
    void fail(const QString &message, int httpStatus);
    void endConnection(); // the current response is settled and no longer wanted
    void closeForGood();
    int computeDelay() const;
    void restartReadTimer();
    void commitLastEventId(const QString &id);

    EventSource *q;
    QPointer<QNetworkAccessManager> externalManager;
    QNetworkAccessManager *ownManager = nullptr;

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
    QNetworkReply *reply = nullptr;
    QUrl requestUrl;
    QByteArray requestMethod;
    QByteArray requestBody;
    HeaderList requestHeaders;
    int redirects = 0;
    bool responseHandled = false;
    bool streaming = false;

    // The parser must not be reset from inside its own feed() (a handler may call close() or
    // restart()); such a reset waits until feed() returns.
    Parser parser;
    bool feeding = false;
    bool parserResetPending = false;
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
        if (state != Connecting || reply)
            return;
        const quint64 gen = generation;
        clearSchedule(false);
        if (gen == generation)
            startAttempt();
    });
    QObject::connect(&readTimer, &QTimer::timeout, q, [this] {
        if (!reply)
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

QNetworkAccessManager *EventSource::Private::manager()
{
    if (externalManager)
        return externalManager;
    if (!ownManager)
        ownManager = new QNetworkAccessManager(q);
    return ownManager;
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
    requestUrl = url;
    requestMethod = method.isEmpty() ? QByteArrayLiteral("GET") : method;
    requestBody = body;
    requestHeaders = headers;
    redirects = 0;
    resetParser();
    sendRequest();
}

void EventSource::Private::sendRequest()
{
    QNetworkRequest request(requestUrl);
    // Redirects are ours to follow: QNAM's own policies neither let us cap them per attempt
    // nor apply the 303 (and POST 301/302) switch to GET the way fetch does.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    // An external manager may carry a cache; a stream must never come from it or go into it.
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    // HTTP/1.1 gives the stream a TCP connection of its own: abort() and the read timeout then
    // act on exactly this stream, and a stalled stream cannot hold up requests multiplexed
    // beside it.
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);

    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Cache-Control", "no-cache");
    for (const auto &[name, value] : std::as_const(requestHeaders))
        request.setRawHeader(name, value);
    const QByteArray id = lastEventId.toUtf8();
    if (!id.isEmpty() && !containsLineBreakOrNul(id))
        request.setRawHeader("Last-Event-ID", id);
    if (!requestBody.isEmpty() && findHeader(requestHeaders, "Content-Type") < 0)
        request.setRawHeader("Content-Type", "application/octet-stream");

    responseHandled = false;
    streaming = false;
    if (requestMethod == "GET" && requestBody.isEmpty())
        reply = manager()->get(request);
    else
        reply = manager()->sendCustomRequest(request, requestMethod, requestBody);

    QObject::connect(reply, &QNetworkReply::metaDataChanged, q, [this] { onMetaDataChanged(); });
    QObject::connect(reply, &QIODevice::readyRead, q, [this] { onReadyRead(); });
    QObject::connect(reply, &QNetworkReply::finished, q, [this] { onFinished(); });
    // An external manager deletes its replies when it goes; carry on with our own.
    QObject::connect(reply, &QObject::destroyed, q, [this](QObject *gone) {
        if (gone != reply)
            return;
        reply = nullptr;
        scheduleReconnect(EventSource::tr("the network access manager was destroyed"), 0);
    });
    restartReadTimer();
}

void EventSource::Private::restartReadTimer()
{
    if (readTimeout > 0)
        readTimer.start(readTimeout);
}

void EventSource::Private::onMetaDataChanged()
{
    if (!reply || responseHandled)
        return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 0)
        return; // no status line yet
    responseHandled = true;
    restartReadTimer();
    const QByteArray reason = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray();

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
        const qint64 seconds = reply->rawHeader("Retry-After").trimmed().toLongLong(&ok);
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
    const QByteArray contentType = reply->rawHeader("Content-Type");
    if (!isEventStream(contentType)) {
        fail(contentType.isEmpty() ? EventSource::tr("the response has no content type (expected text/event-stream)")
                                   : EventSource::tr("unexpected content type \"%1\" (expected text/event-stream)")
                                         .arg(QString::fromLatin1(contentType)),
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
    const QByteArray location = reply->rawHeader("Location").trimmed();
    const QUrl target = location.isEmpty() ? QUrl() : requestUrl.resolved(QUrl(QString::fromUtf8(location)));
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
    ++redirects;
    // Fetch's rules: 303 turns anything but GET/HEAD into a bodiless GET, and browsers have
    // always done the same for POST on 301/302; 307/308 repeat the request as it was.
    const bool toGet = (status == 303 && requestMethod != "GET" && requestMethod != "HEAD")
                       || ((status == 301 || status == 302) && requestMethod == "POST");
    if (toGet) {
        requestMethod = QByteArrayLiteral("GET");
        requestBody.clear();
        removeHeader(requestHeaders, "Content-Type");
    }
    // Credentials meant for one origin are not handed to another.
    if (!sameOrigin(requestUrl, target))
        removeHeader(requestHeaders, "Authorization");
    requestUrl = target;
    teardownReply();
    sendRequest();
}

void EventSource::Private::onReadyRead()
{
    // A handler spinning a nested event loop must not re-enter the parser; the outer loop
    // below picks up whatever arrived meanwhile.
    if (!reply || feeding)
        return;
    restartReadTimer();
    if (!streaming) {
        reply->readAll(); // not a stream (yet): nothing to parse
        return;
    }
    const quint64 gen = generation;
    while (reply && gen == generation && reply->bytesAvailable() > 0)
        feed(reply->readAll());
}

void EventSource::Private::feed(const QByteArray &chunk)
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
    if (!reply)
        return;
    if (feeding) {
        // Finished inside a nested event loop of one of our handlers: handle it afterwards.
        const quint64 gen = generation;
        QMetaObject::invokeMethod(
            q,
            [this, gen] {
                if (gen == generation)
                    onFinished();
            },
            Qt::QueuedConnection);
        return;
    }
    if (streaming) {
        const quint64 gen = generation;
        while (reply && gen == generation && reply->bytesAvailable() > 0)
            feed(reply->readAll());
        if (gen != generation || !reply)
            return;
        const QString message = reply->error() == QNetworkReply::NoError
                                    ? EventSource::tr("the server ended the stream")
                                    : reply->errorString();
        scheduleReconnect(message, 0);
        return;
    }
    // Ended before any usable response: a network error (refused, reset, TLS, DNS, ...).
    const auto error = reply->error();
    if (error == QNetworkReply::ProtocolUnknownError || error == QNetworkReply::ProtocolInvalidOperationError)
        fail(reply->errorString(), 0);
    else
        scheduleReconnect(error == QNetworkReply::NoError ? EventSource::tr("the connection closed without a response")
                                                          : reply->errorString(),
                          0);
}

void EventSource::Private::teardownReply(bool letFinish)
{
    readTimer.stop();
    healthyTimer.stop();
    streaming = false;
    if (reply) {
        QNetworkReply *r = std::exchange(reply, nullptr);
        QObject::disconnect(r, nullptr, q, nullptr);
        if (letFinish && !r->isFinished()) {
            // QNAM queues its own error for a >= 400 reply right behind the headers; aborting
            // in between makes it warn about a second error. Such a body is normally complete
            // already, so let it end by itself, detached from us, and abort only a stuck one.
            QObject::connect(r, &QNetworkReply::finished, r, &QObject::deleteLater);
            QTimer::singleShot(1000, r, [r] { r->abort(); });
        } else {
            r->abort();
            r->deleteLater();
        }
    }
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

void EventSource::Private::endConnection()
{
    const int status = reply ? reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() : 0;
    teardownReply(!streaming && status >= 400);
}

void EventSource::Private::scheduleReconnect(const QString &message, int httpStatus, int minimumDelay)
{
    endConnection();
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
    endConnection();
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
    teardownReply();
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
    // No signals from a half-destroyed object: cut the reply loose before members go.
    ++d->generation;
    d->reconnectTimer.stop();
    d->teardownReply();
}

void EventSource::setNetworkAccessManager(QNetworkAccessManager *manager)
{
    d->externalManager = manager;
}

QNetworkAccessManager *EventSource::networkAccessManager() const
{
    return d->manager();
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
    d->teardownReply();
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
    d->teardownReply();
    d->clearSchedule(true);
    if (gen != d->generation)
        return;
    d->setState(Connecting);
    if (gen == d->generation)
        d->startAttempt();
}

} // namespace clipdeck::sse
