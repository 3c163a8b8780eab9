#pragma once

// Prometheus text format (version 0.0.4) for GET /metrics: request latency per route (a
// histogram), responses per route and status, and the gauges and counters of the other parts,
// read when scraped.

#include "http/server.h"
#include "jobs/job.h"
#include "server/streamhub.h"

#include <QByteArray>
#include <QMap>

namespace clipdeck::server {

class Metrics
{
public:
    // A response's head went out `ms` after its request's head arrived.
    void observeRequest(const QByteArray &route, int status, double ms);
    void countUpload(bool stored, qint64 bytes);

    struct State
    {
        HubCounters hub;
        http::ServerStats http;
        QMap<jobs::Status, int> jobsByStatus;
        qint64 uptimeSeconds = 0;
    };
    QByteArray render(const State &state) const;

    static const QList<double> &bucketsSeconds();

private:
    struct Histogram
    {
        QList<quint64> counts; // per bucket, not cumulative
        quint64 count = 0;
        double sum = 0; // seconds
    };
    QMap<QByteArray, Histogram> m_latency;
    QMap<std::pair<QByteArray, int>, quint64> m_responses;
    quint64 m_uploadsStored = 0;
    quint64 m_uploadsRejected = 0;
    quint64 m_uploadBytes = 0;
};

} // namespace clipdeck::server
