#pragma once

// The event streams: GET /api/jobs/{id}/stream (one job; ends after its terminal event) and
// GET /api/events (all of the caller's jobs; never ends by itself). A browser's EventSource
// sends no headers, so both take the token as ?access_token= or the clipdeck_token cookie too,
// and the resume point as Last-Event-ID or ?lastEventId=. See docs/protocol.md, "Streams".

#include "server/streamhub.h"

#include <QString>

#include <functional>
#include <optional>

namespace clipdeck::server {

class JobService;
class Router;

class StreamRoutes
{
public:
    // Finds a job the caller may stream that the job service does not know (the bench hook's).
    using ExtraLookup = std::function<std::optional<Snapshot>(const QString &user, const QString &jobId)>;

    StreamRoutes(StreamHub &hub, const JobService &jobs, ExtraLookup extra = {})
        : m_hub(hub), m_jobs(jobs), m_extra(std::move(extra))
    { }
    void install(Router &router);

private:
    StreamHub &m_hub;
    const JobService &m_jobs;
    ExtraLookup m_extra;
};

} // namespace clipdeck::server
