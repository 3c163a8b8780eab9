#include "server/jobroutes.h"

#include "jobs/jobjson.h"
#include "server/apierror.h"
#include "media/operation.h"
#include "server/jobservice.h"
#include "server/jsonkeys.h"
#include "server/range.h"
#include "server/router.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

namespace clipdeck::server {

namespace {

constexpr qint64 MaxJsonBody = 1 << 20;

QByteArray jobLocation(const QString &id)
{
    return QByteArrayLiteral("/api/jobs/") + id.toUtf8();
}

void replyJob(const Call &call, int status, const jobs::Job &job, const http::Headers &extra = {})
{
    replyJson(call, status, jobs::encodeJob(job), extra);
}

} // namespace

void JobRoutes::install(Router &router)
{
    router.add("POST", QStringLiteral("/api/jobs"), Router::Access::Token, [this](const Call &call) {
        call.exchange->readBody(MaxJsonBody, [this, call](const QByteArray &body) {
            QJsonParseError parseError;
            const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
            if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
                return replyError(call, ApiError(400, codes::InvalidJson,
                                                 parseError.error != QJsonParseError::NoError
                                                     ? QStringLiteral("The body is not JSON: %1 at offset %2.")
                                                           .arg(parseError.errorString())
                                                           .arg(parseError.offset)
                                                     : QStringLiteral("The body must be a JSON object.")));
            }
            // A key given twice: the client meant one of them; which one is not ours to guess.
            if (const auto repeated = repeatedKey(body)) {
                if (repeated->size() >= 2 && repeated->first() == u"params")
                    return replyError(call,
                                      ApiError(422, media::errors::InvalidParams,
                                               QStringLiteral("Parameter '%1' is given twice.").arg(repeated->at(1))));
                return replyError(call,
                                  ApiError(400, codes::InvalidRequest,
                                           QStringLiteral("Field \"%1\" is given twice.").arg(repeated->join(u'.'))));
            }
            auto result = m_jobs.submit(call.user, doc.object());
            if (const auto *error = std::get_if<ApiError>(&result))
                return replyError(call, *error);
            const jobs::Job &job = std::get<jobs::Job>(result);
            replyJob(call, 202, job, {{QByteArrayLiteral("Location"), jobLocation(job.id)}});
        });
    });

    router.add("GET", QStringLiteral("/api/jobs"), Router::Access::Token, [this](const Call &call) {
        QList<jobs::Status> statuses;
        if (const auto filter = call.request().queryValue("status"); filter && !filter->isEmpty()) {
            for (const QByteArray &name : filter->split(',')) {
                const auto status = jobs::statusFromName(QString::fromUtf8(name.trimmed()));
                if (!status)
                    return replyError(
                        call,
                        ApiError(400, codes::InvalidStatus,
                                 QStringLiteral(
                                     "Unknown status \"%1\" (pending, running, paused, complete, failed, canceled).")
                                     .arg(QString::fromUtf8(name.trimmed()))));
                statuses.append(*status);
            }
        }
        QByteArray json = "{\"jobs\":[";
        const QList<jobs::Job> list = m_jobs.list(call.user, statuses);
        for (qsizetype i = 0; i < list.size(); ++i) {
            if (i)
                json += ',';
            jobs::appendJob(json, list.at(i));
        }
        json += "]}";
        replyJson(call, 200, json);
    });

    router.add("GET", QStringLiteral("/api/jobs/{id}"), Router::Access::Token, [this](const Call &call) {
        const auto job = m_jobs.find(call.user, call.params.at(0));
        if (!job)
            return replyError(
                call, ApiError(404, codes::NotFound, QStringLiteral("There is no job %1.").arg(call.params.at(0))));
        replyJob(call, 200, *job);
    });

    const std::pair<const char *, JobService::Action> actions[] = {{"cancel", JobService::Action::Cancel},
                                                                   {"pause", JobService::Action::Pause},
                                                                   {"resume", JobService::Action::Resume},
                                                                   {"retry", JobService::Action::Retry}};
    for (const auto &[name, action] : actions) {
        router.add("POST", QStringLiteral("/api/jobs/{id}/") + QLatin1StringView(name), Router::Access::Token,
                   [this, action = action](const Call &call) {
                       auto result = m_jobs.act(call.user, call.params.at(0), action);
                       if (const auto *error = std::get_if<ApiError>(&result))
                           return replyError(call, *error);
                       replyJob(call, 200, std::get<jobs::Job>(result));
                   });
    }

    router.add("DELETE", QStringLiteral("/api/jobs/{id}"), Router::Access::Token, [this](const Call &call) {
        if (const auto error = m_jobs.remove(call.user, call.params.at(0)))
            return replyError(call, *error);
        replyEmpty(call, 204);
    });

    router.add("GET", QStringLiteral("/api/jobs/{id}/outputs/{name}"), Router::Access::Token, [this](const Call &call) {
        auto found = m_jobs.output(call.user, call.params.at(0), call.params.at(1));
        if (const auto *error = std::get_if<ApiError>(&found))
            return replyError(call, *error);
        const OutputFile &output = std::get<OutputFile>(found);
        auto file = std::make_unique<QFile>(output.path);
        if (!file->open(QIODevice::ReadOnly))
            return replyError(call, ApiError(404, codes::OutputNotFound, QStringLiteral("The output file is gone.")));
        const qint64 size = file->size();
        http::Headers headers = call.cors;
        headers.append({QByteArrayLiteral("Content-Type"), output.mime.toUtf8()});
        headers.append({QByteArrayLiteral("Accept-Ranges"), QByteArrayLiteral("bytes")});
        const auto range = parseRange(call.request().header("range"), size);
        if (std::holds_alternative<Unsatisfiable>(range)) {
            return replyError(
                call, ApiError(416, codes::RangeNotSatisfiable, QStringLiteral("The file has %1 bytes.").arg(size)),
                {{QByteArrayLiteral("Content-Range"), "bytes */" + QByteArray::number(size)}});
        }
        if (const auto *r = std::get_if<ByteRange>(&range)) {
            headers.append({QByteArrayLiteral("Content-Range"), "bytes " + QByteArray::number(r->first) + '-'
                                                                    + QByteArray::number(r->last) + '/'
                                                                    + QByteArray::number(size)});
            return call.exchange->respondFile(206, headers, std::move(file), r->first, r->length());
        }
        call.exchange->respondFile(200, headers, std::move(file), 0, size);
    });

    // Here rather than with the other media routes: whether media may go depends on the jobs.
    router.add("DELETE", QStringLiteral("/api/media/{id}"), Router::Access::Token, [this](const Call &call) {
        if (const auto error = m_jobs.removeMedia(call.user, call.params.at(0)))
            return replyError(call, *error);
        replyEmpty(call, 204);
    });
}

} // namespace clipdeck::server
