#include "server/jobservice.h"

#include "engine/engine.h"
#include "jobs/jobstream.h"
#include "server/jobowners.h"
#include "server/jobview.h"
#include "server/mediastore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSet>
#include <QUuid>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace clipdeck::server {

namespace {

ApiError fromJobError(const jobs::Error &e)
{
    if (e.code == jobs::errors::NotFound)
        return ApiError(404, codes::NotFound, e.message);
    if (e.code == jobs::errors::InvalidState)
        return ApiError(409, codes::InvalidState, e.message);
    // unknown_kind, invalid_params, unknown_preset, ...: the request was understood and refused.
    return ApiError(422, e.code, e.message);
}

} // namespace

JobService::JobService(engine::Engine &engine, JobOwners &owners, MediaStore &media, const JobView &view,
                       QString outputRoot)
    : m_engine(engine), m_owners(owners), m_media(media), m_view(view), m_outputRoot(std::move(outputRoot))
{ }

bool JobService::owns(const QString &user, const QString &id) const
{
    const auto entry = m_owners.find(id);
    return entry && entry->owner == user;
}

EventEncoder JobService::encoderFor(const jobs::Job &clientJob)
{
    return [clientJob](QByteArrayView id) {
        QByteArray out;
        jobs::appendJobEvent(out, clientJob, id);
        return out;
    };
}

Snapshot JobService::snapshotOf(const jobs::Job &clientJob)
{
    return Snapshot{clientJob.id, clientJob.seq, clientJob.isTerminal(), encoderFor(clientJob)};
}

std::variant<jobs::Job, ApiError> JobService::submit(const QString &user, const QJsonObject &body)
{
    static const QSet<QString> known{QStringLiteral("kind"), QStringLiteral("mediaId"), QStringLiteral("params"),
                                     QStringLiteral("priority")};
    for (auto it = body.begin(); it != body.end(); ++it) {
        if (!known.contains(it.key()))
            return ApiError(
                400, codes::InvalidRequest,
                QStringLiteral("Unknown field \"%1\" (a job is {kind, mediaId, params, priority}).").arg(it.key()));
    }
    const QJsonValue kind = body.value(QStringLiteral("kind"));
    if (!kind.isString() || kind.toString().isEmpty())
        return ApiError(
            400, codes::InvalidRequest,
            QStringLiteral(
                "\"kind\" must be a non-empty string (probe, transcode, proxy, thumbnails, scenes, waveform)."));
    const QJsonValue mediaId = body.value(QStringLiteral("mediaId"));
    if (!mediaId.isString() || mediaId.toString().isEmpty())
        return ApiError(400, codes::InvalidRequest,
                        QStringLiteral("\"mediaId\" must be the id of uploaded media (POST /api/media)."));
    const QJsonValue params = body.value(QStringLiteral("params"));
    if (!params.isUndefined() && !params.isNull() && !params.isObject())
        return ApiError(400, codes::InvalidRequest, QStringLiteral("\"params\" must be an object."));
    int priority = 0;
    const QJsonValue p = body.value(QStringLiteral("priority"));
    if (!p.isUndefined()) {
        const double d = p.toDouble(std::nan(""));
        if (!p.isDouble() || d != std::floor(d) || std::abs(d) > 1000000)
            return ApiError(400, codes::InvalidRequest,
                            QStringLiteral("\"priority\" must be a whole number between -1000000 and 1000000."));
        priority = int(d);
    }
    const auto media = m_media.find(user, mediaId.toString());
    if (!media)
        return ApiError(422, codes::UnknownMedia, QStringLiteral("There is no media %1.").arg(mediaId.toString()));

    // Each job writes into a folder of its own: two jobs of one clip never share file names.
    const QString outputDir = m_outputRoot + u'/' + QUuid::createUuid().toString(QUuid::WithoutBraces);
    engine::SubmitResult result;
    QString claimed;
    {
        const auto claim = m_owners.claimNext(user, outputDir);
        result = m_engine.submit(kind.toString(), m_media.pathOf(*media), params.toObject().toVariantMap(), priority,
                                 outputDir);
        claimed = claim->jobId();
    }
    if (result.error)
        return fromJobError(*result.error);
    if (claimed != result.job->id && !m_owners.assign(result.job->id, user, outputDir)) {
        // Without an owner nobody could ever see the job: take it back.
        m_engine.cancel(result.job->id);
        m_engine.remove(result.job->id);
        return ApiError(500, codes::Internal, QStringLiteral("The job could not be recorded."));
    }
    // The newest snapshot (scheduling may already have moved on from the first one).
    return m_view.forClient(m_engine.job(result.job->id).value_or(*result.job));
}

std::optional<jobs::Job> JobService::find(const QString &user, const QString &id) const
{
    if (!owns(user, id))
        return std::nullopt;
    const auto job = m_engine.job(id);
    if (!job)
        return std::nullopt;
    return m_view.forClient(*job);
}

QList<jobs::Job> JobService::list(const QString &user, const QList<jobs::Status> &statuses) const
{
    QList<jobs::Job> out;
    for (const jobs::Job &job : m_engine.jobs()) {
        if (!owns(user, job.id))
            continue;
        if (!statuses.isEmpty() && !statuses.contains(job.status))
            continue;
        out.append(m_view.forClient(job));
    }
    return out;
}

std::variant<jobs::Job, ApiError> JobService::act(const QString &user, const QString &id, Action action)
{
    if (!owns(user, id) || !m_engine.job(id))
        return ApiError(404, codes::NotFound, QStringLiteral("There is no job %1.").arg(id));
    std::optional<jobs::Error> error;
    switch (action) {
    case Action::Cancel: error = m_engine.cancel(id); break;
    case Action::Pause: error = m_engine.pause(id); break;
    case Action::Resume: error = m_engine.resume(id); break;
    case Action::Retry: error = m_engine.retry(id); break;
    }
    if (error)
        return fromJobError(*error);
    const auto job = m_engine.job(id);
    if (!job)
        return ApiError(404, codes::NotFound, QStringLiteral("There is no job %1.").arg(id));
    return m_view.forClient(*job);
}

std::optional<ApiError> JobService::remove(const QString &user, const QString &id)
{
    if (!owns(user, id) || !m_engine.job(id))
        return ApiError(404, codes::NotFound, QStringLiteral("There is no job %1.").arg(id));
    const auto entry = m_owners.find(id);
    if (const auto error = m_engine.remove(id))
        return fromJobError(*error);
    // The job's own output folder goes with it (downloads of a removed job are gone anyway);
    // only ever a folder under the outputs root.
    const QString root = QFileInfo(m_outputRoot).absoluteFilePath() + u'/';
    if (entry && QFileInfo(entry->outputDir).absoluteFilePath().startsWith(root))
        QDir(entry->outputDir).removeRecursively();
    m_owners.forget(id);
    return std::nullopt;
}

std::variant<OutputFile, ApiError> JobService::output(const QString &user, const QString &id, const QString &name) const
{
    if (!owns(user, id))
        return ApiError(404, codes::NotFound, QStringLiteral("There is no job %1.").arg(id));
    const auto job = m_engine.job(id);
    if (!job)
        return ApiError(404, codes::NotFound, QStringLiteral("There is no job %1.").arg(id));
    for (const jobs::Output &o : job->outputs) {
        if (o.name != name)
            continue;
        // The path comes from the engine, never from the request.
        const QFileInfo info(o.path);
        if (!info.isFile())
            break;
        return OutputFile{o.path, o.mime.isEmpty() ? QStringLiteral("application/octet-stream") : o.mime, info.size()};
    }
    return ApiError(404, codes::OutputNotFound, QStringLiteral("Job %1 has no output %2.").arg(id, name));
}

std::optional<ApiError> JobService::removeMedia(const QString &user, const QString &mediaId)
{
    const auto media = m_media.find(user, mediaId);
    if (!media)
        return ApiError(404, codes::NotFound, u"There is no media %1."_s.arg(mediaId));
    // A job not finished would fail on a missing input (a paused or queued one, later). Finished
    // ones keep their outputs; a retry of one fails with file_not_found.
    for (const jobs::Job &job : m_engine.jobs()) {
        if (!job.isTerminal() && m_media.idForPath(job.input) == mediaId)
            return ApiError(409, MediaInUse,
                            u"Media %1 is used by job %2 (%3): cancel the job or let it finish first."_s.arg(
                                mediaId, job.id, jobs::statusName(job.status)));
    }
    return m_media.remove(*media);
}

std::optional<Snapshot> JobService::current(const QString &user, const QString &id) const
{
    const auto job = find(user, id);
    if (!job)
        return std::nullopt;
    return snapshotOf(*job);
}

QList<Snapshot> JobService::snapshotsFor(const QString &user) const
{
    QList<jobs::Job> mine = list(user, {});
    // Every job still going, and the most recently finished ones: a client wants what is
    // happening, and GET /api/jobs has the whole history.
    QList<QDateTime> finished;
    for (const jobs::Job &j : std::as_const(mine)) {
        if (j.isTerminal())
            finished.append(j.updatedAt);
    }
    QDateTime cutoff;
    if (finished.size() > RecentFinishedInSnapshots) {
        std::sort(finished.begin(), finished.end(), std::greater<>());
        cutoff = finished.at(RecentFinishedInSnapshots - 1);
    }
    QList<Snapshot> out;
    for (const jobs::Job &j : std::as_const(mine)) {
        if (j.isTerminal() && cutoff.isValid() && j.updatedAt < cutoff)
            continue;
        out.append(snapshotOf(j));
    }
    return out;
}

QMap<jobs::Status, int> JobService::countByStatus() const
{
    QMap<jobs::Status, int> counts;
    for (const jobs::Job &job : m_engine.jobs())
        ++counts[job.status];
    return counts;
}

} // namespace clipdeck::server
