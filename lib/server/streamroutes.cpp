#include "server/streamroutes.h"

#include "server/apierror.h"
#include "server/jobservice.h"
#include "server/router.h"

namespace clipdeck::server {

namespace {

std::optional<QByteArray> lastEventId(const http::Request &request)
{
    if (request.hasHeader("last-event-id"))
        return request.header("last-event-id").toByteArray();
    return request.queryValue("lastEventId");
}

void replyOpened(const Call &call, StreamHub::Opened opened)
{
    switch (opened) {
    case StreamHub::Opened::Streaming: return;
    case StreamHub::Opened::NoContent:
        // The client has the terminal event already; 204 tells a browser to stop reconnecting.
        return replyEmpty(call, 204);
    case StreamHub::Opened::TooManyStreams:
        return replyError(call,
                          ApiError(429, codes::TooManyStreams,
                                   QStringLiteral("Too many open streams for this user; close one first.")),
                          {{QByteArrayLiteral("Retry-After"), QByteArrayLiteral("5")}});
    }
}

} // namespace

void StreamRoutes::install(Router &router)
{
    router.add("GET", QStringLiteral("/api/jobs/{id}/stream"), Router::Access::StreamToken, [this](const Call &call) {
        const QString &id = call.params.at(0);
        std::optional<Snapshot> current = m_jobs.current(call.user, id);
        if (!current && m_extra)
            current = m_extra(call.user, id);
        if (!current)
            return replyError(call, ApiError(404, codes::NotFound, QStringLiteral("There is no job %1.").arg(id)));
        replyOpened(call,
                    m_hub.openJobStream(call.exchange, call.cors, call.user, lastEventId(call.request()), *current));
    });

    router.add("GET", QStringLiteral("/api/events"), Router::Access::StreamToken, [this](const Call &call) {
        const QString user = call.user;
        replyOpened(call, m_hub.openUserStream(call.exchange, call.cors, user, lastEventId(call.request()),
                                               [this, user] { return m_jobs.snapshotsFor(user); }));
    });
}

} // namespace clipdeck::server
