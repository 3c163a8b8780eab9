#include "server/benchroutes.h"

#include "server/apierror.h"
#include "server/jobowners.h"
#include "server/router.h"
#include "sse/encoder.h"

namespace clipdeck::server {

namespace {

constexpr qint64 MaxBenchBody = 1 << 20;

EventEncoder encoderFor(const QByteArray &data)
{
    return [data](QByteArrayView id) {
        QByteArray out;
        sse::appendEvent(out, {data, id, {}, std::nullopt});
        return out;
    };
}

} // namespace

std::optional<Snapshot> BenchRoutes::current(const QString &user, const QString &jobId) const
{
    const auto it = m_jobs.constFind(jobId);
    if (it == m_jobs.constEnd() || it->owner != user)
        return std::nullopt;
    return Snapshot{jobId, it->seq, false, encoderFor(it->data)};
}

void BenchRoutes::install(Router &router)
{
    router.add("POST", QStringLiteral("/api/bench/jobs/{id}/publish"), Router::Access::Token, [this](const Call &call) {
        const QString id = call.params.at(0);
        if (m_owners.find(id))
            return replyError(call,
                              ApiError(409, codes::InvalidState,
                                       QStringLiteral("%1 is a real job; bench jobs need ids of their own.").arg(id)));
        const auto it = m_jobs.constFind(id);
        if (it != m_jobs.constEnd() && it->owner != call.user)
            return replyError(call, ApiError(404, codes::NotFound, QStringLiteral("There is no job %1.").arg(id)));
        call.exchange->readBody(MaxBenchBody, [this, call, id](const QByteArray &body) {
            if (const auto again = m_jobs.constFind(id); again != m_jobs.constEnd() && again->owner != call.user)
                return replyError(call, ApiError(404, codes::NotFound, QStringLiteral("There is no job %1.").arg(id)));
            BenchJob &job = m_jobs[id];
            job.owner = call.user;
            job.data = body;
            ++job.seq;
            const int subscribers = m_hub.subscriberCount(id);
            m_hub.publish(id, call.user, job.seq, false, encoderFor(body));
            replyJson(call, 200,
                      "{\"seq\":" + QByteArray::number(job.seq) + ",\"subscribers\":" + QByteArray::number(subscribers)
                          + '}');
        });
    });
}

} // namespace clipdeck::server
