#pragma once

// For benchmarks only (--bench-publish; off by default): POST /api/bench/jobs/{id}/publish with
// a raw body publishes that body as one event to the job's stream subscribers (and the caller's
// /api/events streams), as if the engine had emitted a snapshot of a job with that id owned by
// the caller. The first publish creates the job; its seq goes up by one per publish. This is
// the equivalent of nchan's publisher endpoint, so a load tool can measure publish -> deliver
// latency through the very fan-out path engine events take. It can never touch a real job.

#include "server/streamhub.h"

#include <QHash>
#include <QString>

#include <optional>

namespace clipdeck::server {

class JobOwners;
class Router;

class BenchRoutes
{
public:
    BenchRoutes(StreamHub &hub, const JobOwners &owners) : m_hub(hub), m_owners(owners) { }
    void install(Router &router);
    // For the stream route: a bench job the user published to.
    std::optional<Snapshot> current(const QString &user, const QString &jobId) const;

private:
    struct BenchJob
    {
        QString owner;
        qint64 seq = 0;
        QByteArray data; // the last published body
    };
    StreamHub &m_hub;
    const JobOwners &m_owners;
    QHash<QString, BenchJob> m_jobs;
};

} // namespace clipdeck::server
