#include "server/mediaroutes.h"

#include "media/probe.h"
#include "server/apierror.h"
#include "server/mediastore.h"
#include "server/metrics.h"
#include "server/router.h"

#include <QFuture>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QtConcurrent/QtConcurrentRun>

#include <memory>

Q_LOGGING_CATEGORY(lcMedia, "clipdeck.server.media")

namespace clipdeck::server {

namespace {

// One upload in progress, shared by the body callbacks and the probe's continuation.
struct UploadState
{
    Call call;
    std::unique_ptr<Upload> upload;
    bool answered = false;
};

ApiError storageError(const Upload &upload)
{
    return ApiError(507, codes::StorageFull,
                    QStringLiteral("The upload could not be stored: %1").arg(upload.errorString()));
}

} // namespace

MediaRoutes::MediaRoutes(MediaStore &store, Metrics &metrics, qint64 maxUploadBytes, const media::Limits &limits,
                         QObject *parent)
    : QObject(parent), m_store(store), m_metrics(metrics), m_maxUpload(maxUploadBytes), m_limits(limits)
{ }

void MediaRoutes::install(Router &router)
{
    router.add("POST", QStringLiteral("/api/media"), Router::Access::Token, [this](const Call &call) {
        const http::Request &request = call.request();
        QByteArray rawName = http::decodeQueryComponent(request.header("x-filename"));
        if (rawName.isEmpty())
            rawName = request.queryValue("name").value_or(QByteArray());
        QString why;
        const auto name = MediaStore::cleanName(rawName, &why);
        if (!name) {
            m_metrics.countUpload(false, 0);
            return replyError(call, ApiError(400, codes::InvalidName, why));
        }
        if (!request.hasHeader("transfer-encoding") && !request.hasHeader("content-length")) {
            m_metrics.countUpload(false, 0);
            return replyError(
                call, ApiError(411, codes::InvalidRequest,
                               QStringLiteral("An upload needs a Content-Length (or chunked transfer coding).")));
        }
        // Refused before a byte of the body is read (and before 100 Continue is sent).
        if (request.header("content-length").toLongLong() > m_maxUpload) {
            m_metrics.countUpload(false, 0);
            return replyError(call, ApiError(413, codes::PayloadTooLarge,
                                             QStringLiteral("Uploads are limited to %1 bytes.").arg(m_maxUpload)));
        }
        QString error;
        auto state = std::make_shared<UploadState>();
        state->call = call;
        state->upload = m_store.beginUpload(call.user, *name, &error);
        if (!state->upload) {
            qCWarning(lcMedia, "%s", qPrintable(error));
            return replyError(call, ApiError(500, codes::Internal, QStringLiteral("The upload could not be started.")));
        }
        http::BodyReader reader;
        reader.data = [this, state](QByteArrayView chunk) {
            if (state->upload->write(chunk))
                return true;
            state->answered = true;
            m_metrics.countUpload(false, 0);
            replyError(state->call, storageError(*state->upload));
            state->upload.reset(); // removes the partial file
            return false;
        };
        reader.failed = [this, state](int) {
            // Over the limit (the server answered 413), stalled (408) or the client left.
            m_metrics.countUpload(false, 0);
            state->upload.reset();
        };
        reader.end = [this, state] {
            if (!state->upload->finish()) {
                m_metrics.countUpload(false, 0);
                replyError(state->call, storageError(*state->upload));
                state->upload.reset();
                return;
            }
            // Probing reads the file's headers and first packets: off the event loop, so streams
            // never wait for it.
            const QString path = state->upload->partPath();
            QtConcurrent::run([path, limits = m_limits] {
                return media::probe(path, limits);
            }).then(this, [this, state](const std::variant<media::MediaInfo, media::Error> &result) {
                if (!state->call.exchange->isConnected()) {
                    state->upload.reset(); // the client left: nothing is kept
                    m_metrics.countUpload(false, 0);
                    return;
                }
                if (const auto *failure = std::get_if<media::Error>(&result)) {
                    m_metrics.countUpload(false, 0);
                    // FFmpeg's message names the file it read, the server's <id>.part: the
                    // client knows the file by the name it sent.
                    const QString message =
                        m_store.withoutServerPath(failure->message, state->upload->partPath(), state->upload->name());
                    state->upload.reset();
                    return replyError(state->call, ApiError(422, failure->code, message));
                }
                auto committed = m_store.commit(*state->upload, media::toJson(std::get<media::MediaInfo>(result)));
                if (const auto *e = std::get_if<ApiError>(&committed)) {
                    m_metrics.countUpload(false, 0);
                    state->upload.reset();
                    return replyError(state->call, *e);
                }
                const MediaRecord &record = std::get<MediaRecord>(committed);
                m_metrics.countUpload(true, record.size);
                replyJson(state->call, 201, mediaJson(record),
                          {{QByteArrayLiteral("Location"), QByteArrayLiteral("/api/media/") + record.id.toUtf8()}});
            });
        };
        call.exchange->streamBody(m_maxUpload, std::move(reader));
    });

    router.add("GET", QStringLiteral("/api/media"), Router::Access::Token, [this](const Call &call) {
        QByteArray json = "{\"media\":[";
        const QList<MediaRecord> all = m_store.list(call.user);
        for (qsizetype i = 0; i < all.size(); ++i) {
            if (i)
                json += ',';
            json += mediaJson(all.at(i));
        }
        json += "]}";
        replyJson(call, 200, json);
    });

    router.add("GET", QStringLiteral("/api/media/{id}"), Router::Access::Token, [this](const Call &call) {
        const auto record = m_store.find(call.user, call.params.at(0));
        if (!record)
            return replyError(
                call, ApiError(404, codes::NotFound, QStringLiteral("There is no media %1.").arg(call.params.at(0))));
        replyJson(call, 200, mediaJson(*record));
    });
}

} // namespace clipdeck::server
