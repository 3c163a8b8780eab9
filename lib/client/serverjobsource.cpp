#include "client/serverjobsource.h"

#include "jobs/jobjson.h"
#include "sse/eventsource.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QSaveFile>
#include <QSet>
#include <QStandardPaths>
#include <QTimer>
#include <QUuid>

#include <cmath>
#include <memory>
#include <optional>

using namespace Qt::StringLiterals;

namespace clipdeck::client {

// The job schema's types are this library's vocabulary.
using namespace clipdeck::jobs;

namespace {

Q_LOGGING_CATEGORY(lcSource, "clipdeck.jobs.server")

constexpr QLatin1StringView UploadPrefix{"upload:"};

// The server writes a heartbeat every 15 s by default: three missed ones mean the connection is
// dead even if TCP has not noticed (a laptop that slept, a NAT that forgot us).
constexpr int StreamReadTimeoutMs = 45000;
// Beyond this the user's event history (500 events) may well not reach back, and deletions by
// other clients are never events at all: only a fresh GET /api/jobs tells what is gone.
constexpr qint64 LongOutageMs = 60000;
constexpr qint64 ProgressIntervalMs = 100; // at most 10 upload progress updates a second

QUrl normalisedBase(const QUrl &url)
{
    QUrl u = url.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::StripTrailingSlash
                          | QUrl::NormalizePathSegments);
    if (u.path() == u"/")
        u.setPath(QString());
    if (u.port() == (u.scheme() == u"https" ? 443 : 80))
        u.setPort(-1);
    return u;
}

// Job ids and output names come from the server and end up in file paths.
bool isSafePathComponent(const QString &name)
{
    return !name.isEmpty() && name != u"." && name != u".." && !name.contains(u'/') && !name.contains(u'\\')
           && !name.contains(QChar(0));
}

int httpStatus(const QNetworkReply *reply)
{
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

// The API's {"error":{"code","message"}}, or what the transport says when there is none.
Error errorOf(const QNetworkReply *reply, const QByteArray &body)
{
    const QJsonObject e = QJsonDocument::fromJson(body).object().value(u"error"_s).toObject();
    const QString code = e.value(u"code"_s).toString();
    if (!code.isEmpty())
        return {code, e.value(u"message"_s).toString()};
    const int status = httpStatus(reply);
    if (status == 0)
        return {u"network"_s, reply->errorString()};
    return {u"http_error"_s, ServerJobSource::tr("HTTP %1 %2")
                                 .arg(status)
                                 .arg(reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString())};
}

std::optional<Job> jobFromJson(const QJsonObject &object)
{
    return decodeJob(QJsonDocument(object).toJson(QJsonDocument::Compact)).job;
}

QDateTime nowUtc()
{
    return QDateTime::currentDateTimeUtc();
}

// The next snapshot of a client-side upload job: seq and updatedAt move on with every change.
void bump(Job &job)
{
    ++job.seq;
    job.updatedAt = nowUtc();
}

struct Upload
{
    QString token;
    JobSubmission submission;
    Job job; // the client-side "upload:<token>" job
    QPointer<QNetworkReply> reply;
    QElapsedTimer sinceProgress;
    bool creating = false;        // POST /api/jobs under way: the upload itself is done
    bool cancelRequested = false; // canceled while creating: cancel the server job once it exists
};

} // namespace

struct ServerJobSource::Private
{
    Private(ServerJobSource *q, const QUrl &base, const QString &token, QNetworkAccessManager *manager);

    QNetworkAccessManager *nam() { return external ? external.data() : own; }
    QNetworkReply *track(QNetworkReply *reply);
    QUrl apiUrl(const QString &encodedPath) const;
    QNetworkRequest request(const QString &encodedPath) const;

    void setState(ConnectionState state, const QString &error = {});
    void authFailed(int status);

    void onOpened();
    void onEvent(const sse::Event &event);
    void onStreamError(const QString &message, int status, bool willReconnect);

    void deliver(const Job &job);
    void deliverHeld();
    void report(const Job &job);

    void requestReset();
    void refreshMedia();
    void finishResetIfReady();

    void serverAction(const QString &jobId, const QString &action);
    void uploadAction(const QString &jobId, const QString &action);
    void startUpload(const QString &uploadId);
    void onUploadProgress(const std::shared_ptr<Upload> &u, qint64 sent, qint64 total);
    void onUploaded(const std::shared_ptr<Upload> &u, QNetworkReply *reply);
    void createJob(const std::shared_ptr<Upload> &u, const QString &mediaId);
    void failUpload(const std::shared_ptr<Upload> &u, const Error &error);

    ServerJobSource *q;
    QUrl base;
    QString id;
    QByteArray authorization;
    QPointer<QNetworkAccessManager> external;
    QNetworkAccessManager *own = nullptr;
    sse::EventSource *stream = nullptr;

    ConnectionState state = ConnectionState::Offline;
    QString error;
    int shownReconnectIn = -1;
    QTimer countdown; // "reconnecting in N s" counts down

    // Stream bookkeeping.
    bool everOpened = false;      // since start(): the first open reconciles
    bool justReconnected = false; // until the first event after a reconnect
    QString epoch;                // of the last event id seen
    QElapsedTimer lostFor;        // valid while the stream is down after having been open
    int malformed = 0;

    // Reconciliation (jobsReset).
    QPointer<QNetworkReply> jobsFetch;
    std::optional<QList<Job>> fetchedJobs;
    bool resetWanted = false;       // one failed or is still owed: try at the next open
    QHash<QString, Job> sinceFetch; // events that may be newer than the fetched list
    QSet<QString> removedSinceFetch;

    // Media names, for clipName().
    QHash<QString, QString> mediaNames;
    QPointer<QNetworkReply> mediaFetch;
    QSet<QString> mediaAskedFor; // inputs unknown when the current media fetch started
    QSet<QString> mediaGivenUp;  // not in the list even after a fetch: shown as the media id
    bool mediaLoadedOnce = false;

    // Server jobs reported so far: their newest snapshot (ids known, outputs' sizes).
    QHash<QString, Job> latest;
    // Events waiting for a media name, or for a job creation to answer, in arrival order.
    QList<Job> held;
    int creating = 0;

    QHash<QString, std::shared_ptr<Upload>> uploads; // by "upload:<token>"
    QSet<QString> fetches;                           // "<jobId>/<name>" being downloaded
    // Every request under way, so that a source going away does not leave them running on a
    // manager that outlives it.
    QList<QPointer<QNetworkReply>> replies;
};

QNetworkReply *ServerJobSource::Private::track(QNetworkReply *reply)
{
    replies.removeIf([](const QPointer<QNetworkReply> &r) { return r.isNull(); });
    replies.append(reply);
    return reply;
}

ServerJobSource::Private::Private(ServerJobSource *owner, const QUrl &baseUrl, const QString &token,
                                  QNetworkAccessManager *manager)
    : q(owner), base(normalisedBase(baseUrl)), id(base.toString(QUrl::FullyEncoded)),
      authorization("Bearer " + token.toUtf8()), external(manager)
{
    if (!manager)
        own = new QNetworkAccessManager(q);
    stream = new sse::EventSource(q);
    // The stream has its own transport (lib/sse/httpstream_p.h): it takes the manager's proxy.
    stream->setProxy(nam()->proxy());
    stream->setUrl(apiUrl(u"/api/events"_s));
    stream->setRawHeader("Authorization", authorization);
    stream->setReadTimeout(StreamReadTimeoutMs);
    QObject::connect(stream, &sse::EventSource::opened, q, [this] { onOpened(); });
    QObject::connect(stream, &sse::EventSource::eventReceived, q, [this](const sse::Event &e) { onEvent(e); });
    QObject::connect(stream, &sse::EventSource::errorOccurred, q,
                     [this](const QString &message, int status, bool willReconnect) {
                         onStreamError(message, status, willReconnect);
                     });
    QObject::connect(stream, &sse::EventSource::reconnectScheduleChanged, q, [this] {
        if (state == ConnectionState::Reconnecting)
            setState(state, error);
    });
    countdown.setInterval(1000);
    QObject::connect(&countdown, &QTimer::timeout, q, [this] { setState(state, error); });
}

QUrl ServerJobSource::Private::apiUrl(const QString &encodedPath) const
{
    QUrl url = base;
    url.setPath(base.path(QUrl::FullyEncoded) + encodedPath, QUrl::TolerantMode);
    return url;
}

QNetworkRequest ServerJobSource::Private::request(const QString &encodedPath) const
{
    QNetworkRequest r(apiUrl(encodedPath));
    r.setRawHeader("Authorization", authorization);
    // Nothing of the API is cacheable: every answer is the server's state now.
    r.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    r.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    // QNAM's default policy follows a redirect to another origin with every header and the body:
    // the token (and an upload) would go to whoever the Location names. The stream keeps to the
    // same rule in its own way (docs/protocol.md, "The Clipdeck client").
    r.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::SameOriginRedirectPolicy);
    return r;
}

void ServerJobSource::Private::setState(ConnectionState newState, const QString &newError)
{
    const QString shownError = newState == ConnectionState::Connected ? QString() : newError;
    if (newState == ConnectionState::Reconnecting)
        countdown.start();
    else
        countdown.stop();
    const int reconnectIn = q->reconnectInSeconds();
    if (newState == state && shownError == error && reconnectIn == shownReconnectIn)
        return;
    state = newState;
    error = shownError;
    shownReconnectIn = reconnectIn;
    Q_EMIT q->connectionStateChanged();
}

void ServerJobSource::Private::authFailed(int status)
{
    stream->close();
    setState(ConnectionState::AuthFailed,
             ServerJobSource::tr("The server refused the access token (HTTP %1).").arg(status));
}

void ServerJobSource::Private::onOpened()
{
    const bool first = !everOpened;
    const bool longOutage = lostFor.isValid() && lostFor.elapsed() > LongOutageMs;
    everOpened = true;
    lostFor.invalidate();
    setState(ConnectionState::Connected);
    // The first open also fetches the whole list: the snapshot burst carries only the 100 most
    // recently finished jobs, and a client starting up wants the rest of its history too. After
    // that, a short outage is replayed exactly by the server (Last-Event-ID) and costs nothing;
    // a long one may not be, and a restart never is (detected from the epoch in onEvent()).
    if (first || longOutage || resetWanted)
        requestReset();
    else
        justReconnected = true;
}

void ServerJobSource::Private::onEvent(const sse::Event &event)
{
    if (state != ConnectionState::Connected)
        setState(ConnectionState::Connected);

    // Cursor ids are "<epoch>-<counter>", or "<epoch>-<counter>.<k>" inside a snapshot burst.
    const QString &eventId = event.lastEventId;
    const qsizetype dash = eventId.indexOf(u'-');
    const QString eventEpoch = dash > 0 ? eventId.left(dash) : QString();
    const bool restarted = !epoch.isEmpty() && !eventEpoch.isEmpty() && eventEpoch != epoch;
    // A burst right after a reconnect in the same epoch: the server could not replay from our
    // cursor, so whatever was deleted meanwhile is unknown.
    const bool notReplayed = justReconnected && dash > 0 && eventId.indexOf(u'.', dash) > 0;
    justReconnected = false;
    if (!eventEpoch.isEmpty())
        epoch = eventEpoch;
    if (restarted || notReplayed) {
        qCInfo(lcSource, "%s: %s, fetching every job", qPrintable(id),
               restarted ? "the server restarted" : "the server could not replay what was missed");
        requestReset();
    }

    const JobDecodeResult decoded = decodeJob(event.data.toUtf8());
    if (!decoded.job) {
        ++malformed;
        qCWarning(lcSource, "%s: skipping an event that is not a job snapshot (%s), id %s", qPrintable(id),
                  qPrintable(decoded.error), qPrintable(eventId));
        return;
    }
    deliver(*decoded.job);
}

void ServerJobSource::Private::onStreamError(const QString &message, int status, bool willReconnect)
{
    qCInfo(lcSource, "%s: stream: %s%s", qPrintable(id), qPrintable(message), willReconnect ? " (reconnecting)" : "");
    if (status == 401 || status == 403) {
        authFailed(status);
        return;
    }
    if (willReconnect) {
        if (everOpened && !lostFor.isValid())
            lostFor.start();
        setState(ConnectionState::Reconnecting, message);
        return;
    }
    setState(ConnectionState::Offline, message);
}

void ServerJobSource::Private::deliver(const Job &job)
{
    if (jobsFetch || fetchedJobs) {
        auto it = sinceFetch.find(job.id);
        if (it == sinceFetch.end() || it->seq < job.seq)
            sinceFetch.insert(job.id, job);
    }
    held.append(job);
    deliverHeld();
}

void ServerJobSource::Private::deliverHeld()
{
    // Two reasons to hold a job's events back (its later events wait behind the first):
    // - its media name is not known yet: the row's first appearance would show a media id;
    // - a submission of ours is being created and this job is new: it may be that very job,
    //   whose row must come from jobReplaced() (the upload's row), not appear twice.
    QSet<QString> blocked;
    QList<Job> keep;
    bool needMedia = false;
    const QList<Job> queue = std::exchange(held, {});
    for (const Job &job : queue) {
        bool wait = blocked.contains(job.id);
        if (!wait && !mediaNames.contains(job.input) && !mediaGivenUp.contains(job.input)) {
            wait = true;
            needMedia = true;
        }
        if (!wait && creating > 0 && !latest.contains(job.id))
            wait = true;
        if (wait) {
            blocked.insert(job.id);
            keep.append(job);
        } else {
            report(job);
        }
    }
    held = keep + held; // report() handlers may have caused new events
    if (needMedia)
        refreshMedia();
}

void ServerJobSource::Private::report(const Job &job)
{
    auto it = latest.find(job.id);
    if (it == latest.end() || it->seq < job.seq)
        latest.insert(job.id, job);
    Q_EMIT q->jobUpdated(job);
}

void ServerJobSource::Private::requestReset()
{
    resetWanted = true;
    if (jobsFetch)
        return; // the answer to come is recent enough: it was asked for after this moment's events
    sinceFetch.clear();
    removedSinceFetch.clear();
    fetchedJobs.reset();
    // Media first in line: the reset waits for it, so the rows it brings show clip names.
    refreshMedia();
    QNetworkReply *reply = track(nam()->get(request(u"/api/jobs"_s)));
    jobsFetch = reply;
    QObject::connect(reply, &QNetworkReply::finished, q, [this, reply] {
        reply->deleteLater();
        const QByteArray body = reply->readAll();
        const int status = httpStatus(reply);
        if (status == 401 || status == 403) {
            jobsFetch = nullptr;
            authFailed(status);
            return;
        }
        if (status != 200) {
            jobsFetch = nullptr;
            qCWarning(lcSource, "%s: GET /api/jobs: %s", qPrintable(id), qPrintable(errorOf(reply, body).message));
            return; // resetWanted stays: the next open tries again
        }
        QList<Job> list;
        const QJsonArray array = QJsonDocument::fromJson(body).object().value(u"jobs"_s).toArray();
        for (const QJsonValue &value : array) {
            if (const auto job = jobFromJson(value.toObject()))
                list.append(*job);
            else
                ++malformed;
        }
        fetchedJobs = std::move(list);
        jobsFetch = nullptr;
        finishResetIfReady();
    });
}

void ServerJobSource::Private::finishResetIfReady()
{
    if (!fetchedJobs || mediaFetch)
        return;
    QList<Job> list = *std::exchange(fetchedJobs, std::nullopt);
    // Events that arrived while the list was on its way may be newer than it, or of jobs made
    // after it was read; a job we deleted meanwhile must not come back.
    QHash<QString, qsizetype> index;
    for (qsizetype i = 0; i < list.size(); ++i)
        index.insert(list.at(i).id, i);
    for (const Job &job : std::as_const(sinceFetch)) {
        const auto it = index.constFind(job.id);
        if (it == index.cend())
            list.append(job);
        else if (list.at(*it).seq < job.seq)
            list[*it] = job;
    }
    list.removeIf([this](const Job &job) { return removedSinceFetch.contains(job.id); });
    sinceFetch.clear();
    removedSinceFetch.clear();
    resetWanted = false;

    latest.clear();
    for (const Job &job : std::as_const(list))
        latest.insert(job.id, job);
    // Our uploads are jobs of this source too: a reset must not drop their rows.
    for (const auto &u : std::as_const(uploads))
        list.append(u->job);
    qCDebug(lcSource, "%s: %lld jobs", qPrintable(id), qint64(list.size()));
    Q_EMIT q->jobsReset(list);
    deliverHeld();
}

void ServerJobSource::Private::refreshMedia()
{
    if (mediaFetch)
        return;
    mediaAskedFor.clear();
    for (const Job &job : std::as_const(held)) {
        if (!mediaNames.contains(job.input))
            mediaAskedFor.insert(job.input);
    }
    QNetworkReply *reply = track(nam()->get(request(u"/api/media"_s)));
    mediaFetch = reply;
    QObject::connect(reply, &QNetworkReply::finished, q, [this, reply] {
        reply->deleteLater();
        const QByteArray body = reply->readAll();
        const int status = httpStatus(reply);
        mediaFetch = nullptr;
        if (status == 200) {
            const QJsonArray media = QJsonDocument::fromJson(body).object().value(u"media"_s).toArray();
            for (const QJsonValue &value : media) {
                const QJsonObject m = value.toObject();
                const QString mediaId = m.value(u"id"_s).toString();
                if (!mediaId.isEmpty())
                    mediaNames.insert(mediaId, m.value(u"name"_s).toString());
            }
            mediaLoadedOnce = true;
        } else {
            qCWarning(lcSource, "%s: GET /api/media: %s", qPrintable(id), qPrintable(errorOf(reply, body).message));
            if (status == 401 || status == 403) {
                authFailed(status);
                return;
            }
        }
        // Inputs still unknown after a fetch that started after they were seen are not going
        // to be found: the rows show the media id rather than waiting forever.
        for (const QString &input : std::as_const(mediaAskedFor)) {
            if (!mediaNames.contains(input))
                mediaGivenUp.insert(input);
        }
        mediaAskedFor.clear();
        if (status != 200) {
            // Without the list nothing is known: show ids rather than hold every event.
            for (const Job &job : std::as_const(held))
                mediaGivenUp.insert(job.input);
        }
        finishResetIfReady();
        deliverHeld();
    });
}

void ServerJobSource::Private::serverAction(const QString &jobId, const QString &action)
{
    const QString path = u"/api/jobs/"_s + QString::fromLatin1(QUrl::toPercentEncoding(jobId));
    QNetworkReply *reply = track(action == u"remove" ? nam()->deleteResource(request(path))
                                                     : nam()->sendCustomRequest(request(path + u'/' + action), "POST"));
    QObject::connect(reply, &QNetworkReply::finished, q, [this, reply, jobId, action] {
        reply->deleteLater();
        const QByteArray body = reply->readAll();
        const int status = httpStatus(reply);
        if (status >= 200 && status < 300) {
            if (action == u"remove") {
                latest.remove(jobId);
                sinceFetch.remove(jobId);
                if (jobsFetch || fetchedJobs)
                    removedSinceFetch.insert(jobId);
                held.removeIf([&](const Job &job) { return job.id == jobId; });
                Q_EMIT q->jobRemoved(jobId);
            } else if (const auto job = decodeJob(body).job) {
                // The answer is the snapshot after the action: the row changes at once, and the
                // stream's copy of it is a duplicate the model ignores.
                deliver(*job);
            }
            return;
        }
        if (status == 401 || status == 403)
            authFailed(status);
        Q_EMIT q->actionFailed(jobId, action, errorOf(reply, body));
    });
}

void ServerJobSource::Private::uploadAction(const QString &jobId, const QString &action)
{
    const std::shared_ptr<Upload> u = uploads.value(jobId);
    if (!u) {
        Q_EMIT q->actionFailed(jobId, action,
                               {errors::NotFound, ServerJobSource::tr("There is no upload %1.").arg(jobId)});
        return;
    }
    Job &job = u->job;
    const auto refuse = [&] {
        Q_EMIT q->actionFailed(
            jobId, action,
            {errors::InvalidState,
             ServerJobSource::tr("An upload that is %1 cannot be %2.").arg(QString(statusName(job.status)), action)});
    };
    if (action == u"cancel") {
        if (job.status != Status::Running)
            return refuse();
        if (u->creating) {
            // The bytes are on the server and the job is being made: cancel that job once it
            // exists (jobReplaced), rather than leave a job nobody sees being canceled.
            u->cancelRequested = true;
            return;
        }
        job.status = Status::Canceled;
        job.finishedAt = nowUtc();
        bump(job);
        if (u->reply)
            u->reply->abort();
        Q_EMIT q->jobUpdated(job);
        Q_EMIT q->submitFailed(u->token, {u"canceled"_s, ServerJobSource::tr("The upload was canceled.")});
    } else if (action == u"retry") {
        if (job.status != Status::Failed && job.status != Status::Canceled)
            return refuse();
        job.status = Status::Running;
        job.stage = u"uploading"_s;
        job.progress = 0;
        job.error.reset();
        ++job.attempt;
        job.startedAt = nowUtc();
        job.finishedAt = {};
        bump(job);
        Q_EMIT q->jobUpdated(job);
        startUpload(jobId);
    } else if (action == u"remove") {
        if (!job.isTerminal())
            return refuse();
        uploads.remove(jobId);
        Q_EMIT q->jobRemoved(jobId);
    } else {
        refuse();
    }
}

void ServerJobSource::Private::startUpload(const QString &uploadId)
{
    const std::shared_ptr<Upload> u = uploads.value(uploadId);
    if (!u || u->job.status != Status::Running)
        return;
    const QString path = u->submission.inputPath;
    auto file = std::make_unique<QFile>(path);
    if (path.isEmpty() || !QFileInfo(path).isFile() || !file->open(QIODevice::ReadOnly)) {
        const QString why = path.isEmpty()              ? ServerJobSource::tr("no file given")
                            : !QFileInfo::exists(path)  ? ServerJobSource::tr("no such file")
                            : !QFileInfo(path).isFile() ? ServerJobSource::tr("not a file")
                                                        : file->errorString();
        failUpload(u, {u"file_not_found"_s, ServerJobSource::tr("Cannot read \"%1\": %2").arg(path, why)});
        return;
    }
    QNetworkRequest r = request(u"/api/media"_s);
    r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/octet-stream"));
    r.setHeader(QNetworkRequest::ContentLengthHeader, file->size());
    r.setRawHeader("X-Filename", QUrl::toPercentEncoding(QFileInfo(path).fileName()));
    // QNAM reads the body from the file as it sends: never the whole file in memory.
    QNetworkReply *reply = track(nam()->post(r, file.get()));
    file.release()->setParent(reply);
    u->reply = reply;
    u->sinceProgress.invalidate();
    QObject::connect(reply, &QNetworkReply::uploadProgress, q,
                     [this, u](qint64 sent, qint64 total) { onUploadProgress(u, sent, total); });
    QObject::connect(reply, &QNetworkReply::finished, q, [this, u, reply] { onUploaded(u, reply); });
}

void ServerJobSource::Private::onUploadProgress(const std::shared_ptr<Upload> &u, qint64 sent, qint64 total)
{
    if (total <= 0 || u->job.status != Status::Running || u->creating)
        return;
    if (u->sinceProgress.isValid() && u->sinceProgress.elapsed() < ProgressIntervalMs && sent < total)
        return;
    const double progress = std::floor(double(sent) * 10000.0 / double(total)) / 100.0;
    if (progress <= u->job.progress)
        return;
    u->sinceProgress.start();
    u->job.progress = progress;
    bump(u->job);
    Q_EMIT q->jobUpdated(u->job);
}

void ServerJobSource::Private::onUploaded(const std::shared_ptr<Upload> &u, QNetworkReply *reply)
{
    reply->deleteLater();
    if (u->reply == reply)
        u->reply = nullptr;
    if (u->job.status != Status::Running || !uploads.contains(u->job.id))
        return; // canceled: already reported
    const QByteArray body = reply->readAll();
    const int status = httpStatus(reply);
    if (status != 201) {
        if (status == 401 || status == 403)
            authFailed(status);
        failUpload(u, errorOf(reply, body));
        return;
    }
    const QJsonObject media = QJsonDocument::fromJson(body).object();
    const QString mediaId = media.value(u"id"_s).toString();
    if (mediaId.isEmpty()) {
        failUpload(u,
                   {u"invalid_response"_s, ServerJobSource::tr("The server's answer to the upload has no media id.")});
        return;
    }
    mediaNames.insert(mediaId, media.value(u"name"_s).toString());
    createJob(u, mediaId);
}

void ServerJobSource::Private::createJob(const std::shared_ptr<Upload> &u, const QString &mediaId)
{
    const QJsonObject submit{
        {u"kind"_s, u->submission.kind},
        {u"mediaId"_s, mediaId},
        {u"params"_s, QJsonObject::fromVariantMap(u->submission.params)},
        {u"priority"_s, u->submission.priority},
    };
    QNetworkRequest r = request(u"/api/jobs"_s);
    r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply = track(nam()->post(r, QJsonDocument(submit).toJson(QJsonDocument::Compact)));
    u->reply = reply;
    u->creating = true;
    ++creating;
    QObject::connect(reply, &QNetworkReply::finished, q, [this, u, reply] {
        reply->deleteLater();
        u->reply = nullptr;
        u->creating = false;
        --creating;
        const QByteArray body = reply->readAll();
        const int status = httpStatus(reply);
        const auto job = status == 202 ? decodeJob(body).job : std::nullopt;
        if (!job) {
            if (status == 401 || status == 403)
                authFailed(status);
            failUpload(u, status == 202
                              ? Error{u"invalid_response"_s,
                                      ServerJobSource::tr("The server's answer to the submission is not a job.")}
                              : errorOf(reply, body));
            deliverHeld();
            return;
        }
        uploads.remove(u->job.id);
        auto it = latest.find(job->id);
        if (it == latest.end() || it->seq < job->seq)
            latest.insert(job->id, *job);
        if (jobsFetch || fetchedJobs)
            sinceFetch.insert(job->id, latest.value(job->id));
        Q_EMIT q->jobReplaced(u->job.id, *job);
        if (u->cancelRequested)
            serverAction(job->id, u"cancel"_s);
        deliverHeld();
    });
}

void ServerJobSource::Private::failUpload(const std::shared_ptr<Upload> &u, const Error &failure)
{
    qCInfo(lcSource, "%s: upload of %s failed: %s %s", qPrintable(id), qPrintable(u->submission.inputPath),
           qPrintable(failure.code), qPrintable(failure.message));
    Job &job = u->job;
    job.status = Status::Failed;
    job.error = failure;
    job.etaSeconds.reset();
    job.speed.reset();
    job.finishedAt = nowUtc();
    bump(job);
    Q_EMIT q->jobUpdated(job);
    Q_EMIT q->submitFailed(u->token, failure);
}

// ---------------------------------------------------------------------------------------------

ServerJobSource::ServerJobSource(const QUrl &baseUrl, const QString &token, QNetworkAccessManager *manager,
                                 QObject *parent)
    : JobSource(parent), d(std::make_unique<Private>(this, baseUrl, token, manager))
{ }

ServerJobSource::~ServerJobSource()
{
    // The stream and our replies must not call back into a half-destroyed source.
    d->stream->close();
    for (const QPointer<QNetworkReply> &reply : std::as_const(d->replies)) {
        if (!reply)
            continue;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
}

QString ServerJobSource::sourceId() const
{
    return d->id;
}

QString ServerJobSource::displayName() const
{
    return d->base.port() < 0 ? d->base.host() : u"%1:%2"_s.arg(d->base.host()).arg(d->base.port());
}

JobSource::ConnectionState ServerJobSource::connectionState() const
{
    return d->state;
}

int ServerJobSource::reconnectInSeconds() const
{
    if (d->state != ConnectionState::Reconnecting)
        return -1;
    const QDateTime at = d->stream->nextReconnectAt();
    if (!at.isValid())
        return 0; // an attempt is under way
    const qint64 ms = QDateTime::currentDateTimeUtc().msecsTo(at);
    return ms <= 0 ? 0 : int((ms + 999) / 1000);
}

QString ServerJobSource::errorString() const
{
    return d->error;
}

void ServerJobSource::start()
{
    if (d->stream->readyState() != sse::EventSource::Closed)
        return;
    d->everOpened = false;
    d->justReconnected = false;
    d->lostFor.invalidate();
    d->setState(ConnectionState::Connecting);
    // Names first: the first events wait for them (deliverHeld), so rows never show a media id
    // for a moment.
    d->refreshMedia();
    d->stream->open();
}

void ServerJobSource::stop()
{
    d->stream->close();
    if (d->jobsFetch)
        d->jobsFetch->abort();
    d->setState(ConnectionState::Offline, tr("Disconnected."));
}

QString ServerJobSource::submit(const JobSubmission &submission)
{
    auto u = std::make_shared<Upload>();
    u->token = QUuid::createUuid().toString(QUuid::WithoutBraces);
    u->submission = submission;
    Job &job = u->job;
    job.id = UploadPrefix + u->token;
    job.seq = 1;
    job.kind = submission.kind;
    job.input = submission.inputPath;
    job.params = submission.params;
    job.status = Status::Running;
    job.stage = u"uploading"_s;
    job.priority = submission.priority;
    job.createdAt = job.startedAt = job.updatedAt = nowUtc();
    d->uploads.insert(job.id, u);
    Q_EMIT jobUpdated(job);
    // Failures come later, so that a caller has the token before submitFailed names it.
    QTimer::singleShot(0, this, [this, id = job.id] { d->startUpload(id); });
    return u->token;
}

void ServerJobSource::cancel(const QString &jobId)
{
    jobId.startsWith(UploadPrefix) ? d->uploadAction(jobId, u"cancel"_s) : d->serverAction(jobId, u"cancel"_s);
}

void ServerJobSource::pause(const QString &jobId)
{
    jobId.startsWith(UploadPrefix) ? d->uploadAction(jobId, u"pause"_s) : d->serverAction(jobId, u"pause"_s);
}

void ServerJobSource::resume(const QString &jobId)
{
    jobId.startsWith(UploadPrefix) ? d->uploadAction(jobId, u"resume"_s) : d->serverAction(jobId, u"resume"_s);
}

void ServerJobSource::retry(const QString &jobId)
{
    jobId.startsWith(UploadPrefix) ? d->uploadAction(jobId, u"retry"_s) : d->serverAction(jobId, u"retry"_s);
}

void ServerJobSource::remove(const QString &jobId)
{
    jobId.startsWith(UploadPrefix) ? d->uploadAction(jobId, u"remove"_s) : d->serverAction(jobId, u"remove"_s);
}

QString ServerJobSource::clipName(const Job &job) const
{
    if (job.id.startsWith(UploadPrefix))
        return QFileInfo(job.input).fileName();
    const QString name = d->mediaNames.value(job.input);
    return name.isEmpty() ? job.input : name;
}

QString ServerJobSource::outputCacheDir() const
{
    const QString server = d->base.port() < 0 ? d->base.host() : u"%1_%2"_s.arg(d->base.host()).arg(d->base.port());
    return QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + u"/outputs/"_s + server;
}

void ServerJobSource::fetchOutput(const QString &jobId, const QString &outputName)
{
    const auto fail = [this, jobId](const QString &code, const QString &message) {
        // Asynchronous like a download's end, so callers see one order whatever happens.
        QTimer::singleShot(0, this, [this, jobId, code, message] {
            Q_EMIT actionFailed(jobId, u"fetch"_s, {code, message});
        });
    };
    if (!isSafePathComponent(jobId) || jobId.startsWith(UploadPrefix) || !isSafePathComponent(outputName))
        return fail(u"output_not_found"_s, tr("There is no output \"%1\" of job %2.").arg(outputName, jobId));

    const QString dir = outputCacheDir() + u'/' + jobId;
    const QString path = dir + u'/' + outputName;
    qint64 expectedSize = -1;
    for (const Output &o : d->latest.value(jobId).outputs) {
        if (o.name == outputName)
            expectedSize = o.size;
    }
    const QFileInfo cached(path);
    if (cached.isFile() && (expectedSize < 0 || cached.size() == expectedSize)) {
        QTimer::singleShot(0, this, [this, jobId, outputName, path] { Q_EMIT outputReady(jobId, outputName, path); });
        return;
    }
    const QString key = jobId + u'/' + outputName;
    if (d->fetches.contains(key))
        return; // the download under way reports for both
    if (!QDir().mkpath(dir))
        return fail(u"output_unwritable"_s, tr("Cannot create the folder \"%1\".").arg(dir));
    // QSaveFile writes a temporary file beside the target and renames it on commit: a crash or
    // a broken download never leaves a half file that the next call would take as done.
    auto out = std::make_unique<QSaveFile>(path);
    if (!out->open(QIODevice::WriteOnly))
        return fail(u"output_unwritable"_s, tr("Cannot write \"%1\": %2").arg(path, out->errorString()));

    const QString encoded = u"/api/jobs/%1/outputs/%2"_s.arg(QString::fromLatin1(QUrl::toPercentEncoding(jobId)),
                                                             QString::fromLatin1(QUrl::toPercentEncoding(outputName)));
    QNetworkReply *reply = d->track(d->nam()->get(d->request(encoded)));
    QSaveFile *file = out.release();
    file->setParent(reply);
    d->fetches.insert(key);
    connect(reply, &QIODevice::readyRead, this, [reply, file] {
        if (httpStatus(reply) == 200)
            file->write(reply->readAll());
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, file, jobId, outputName, path, key] {
        reply->deleteLater();
        d->fetches.remove(key);
        const int status = httpStatus(reply);
        if (status == 200 && reply->error() == QNetworkReply::NoError) {
            file->write(reply->readAll());
            if (file->commit()) {
                Q_EMIT outputReady(jobId, outputName, path);
                return;
            }
            Q_EMIT actionFailed(jobId, u"fetch"_s,
                                {u"output_unwritable"_s, tr("Cannot write \"%1\": %2").arg(path, file->errorString())});
            return;
        }
        file->cancelWriting();
        if (status == 401 || status == 403)
            d->authFailed(status);
        Q_EMIT actionFailed(jobId, u"fetch"_s, errorOf(reply, reply->readAll()));
    });
}

int ServerJobSource::malformedEventCount() const
{
    return d->malformed;
}

} // namespace clipdeck::client
