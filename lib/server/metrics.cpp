#include "server/metrics.h"

namespace clipdeck::server {

namespace {

// Label values escape backslash, double quote and newline.
QByteArray label(const QByteArray &value)
{
    QByteArray out;
    for (char c : value) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

QByteArray number(double v)
{
    return QByteArray::number(v, 'g', 12);
}

void header(QByteArray &out, const char *name, const char *type, const char *help)
{
    out += "# HELP " + QByteArray(name) + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
}

void sample(QByteArray &out, const char *name, double value, const QByteArray &labels = {})
{
    out += name;
    if (!labels.isEmpty())
        out += '{' + labels + '}';
    out += ' ' + number(value) + '\n';
}

} // namespace

const QList<double> &Metrics::bucketsSeconds()
{
    static const QList<double> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    return buckets;
}

void Metrics::observeRequest(const QByteArray &route, int status, double ms)
{
    const QByteArray key = route.isEmpty() ? QByteArrayLiteral("unmatched") : route;
    Histogram &h = m_latency[key];
    const QList<double> &buckets = bucketsSeconds();
    if (h.counts.isEmpty())
        h.counts.resize(buckets.size());
    const double seconds = ms / 1000.0;
    for (qsizetype i = 0; i < buckets.size(); ++i) {
        if (seconds <= buckets.at(i)) {
            ++h.counts[i];
            break;
        }
    }
    ++h.count;
    h.sum += seconds;
    ++m_responses[{key, status}];
}

void Metrics::countUpload(bool stored, qint64 bytes)
{
    if (stored) {
        ++m_uploadsStored;
        m_uploadBytes += quint64(bytes);
    } else {
        ++m_uploadsRejected;
    }
}

QByteArray Metrics::render(const State &s) const
{
    QByteArray out;
    out.reserve(8192);

    header(out, "clipdeck_streams_open", "gauge", "Event streams open now.");
    sample(out, "clipdeck_streams_open", s.hub.openJobStreams, "kind=\"job\"");
    sample(out, "clipdeck_streams_open", s.hub.openUserStreams, "kind=\"events\"");
    header(out, "clipdeck_streams_opened_total", "counter", "Event streams opened.");
    sample(out, "clipdeck_streams_opened_total", double(s.hub.streamsOpened));
    header(out, "clipdeck_events_published_total", "counter", "Job events published to the stream hub.");
    sample(out, "clipdeck_events_published_total", double(s.hub.eventsPublished));
    header(out, "clipdeck_events_delivered_total", "counter", "Live job events written to streams.");
    sample(out, "clipdeck_events_delivered_total", double(s.hub.eventsDelivered));
    header(out, "clipdeck_events_replayed_total", "counter", "Events replayed from history after a Last-Event-ID.");
    sample(out, "clipdeck_events_replayed_total", double(s.hub.eventsReplayed));
    header(out, "clipdeck_snapshots_sent_total", "counter", "Fresh snapshots sent when a stream opened.");
    sample(out, "clipdeck_snapshots_sent_total", double(s.hub.snapshotsSent));
    header(out, "clipdeck_stream_clients_dropped_total", "counter",
           "Stream clients dropped for not keeping up (send buffer over the cap, or stalled).");
    sample(out, "clipdeck_stream_clients_dropped_total", double(s.hub.droppedSlowClients));
    header(out, "clipdeck_stream_disconnects_total", "counter", "Streams whose client went away.");
    sample(out, "clipdeck_stream_disconnects_total", double(s.hub.disconnects));
    header(out, "clipdeck_streams_idle_closed_total", "counter",
           "Streams closed for delivering no event within the idle timeout.");
    sample(out, "clipdeck_streams_idle_closed_total", double(s.hub.idleClosed));
    header(out, "clipdeck_heartbeats_total", "counter", "Heartbeat comments written.");
    sample(out, "clipdeck_heartbeats_total", double(s.hub.heartbeats));
    header(out, "clipdeck_event_history_bytes", "gauge", "Bytes of event history kept for replay.");
    sample(out, "clipdeck_event_history_bytes", double(s.hub.historyBytes));

    header(out, "clipdeck_jobs", "gauge", "Jobs by status.");
    for (jobs::Status status : {jobs::Status::Pending, jobs::Status::Running, jobs::Status::Paused,
                                jobs::Status::Complete, jobs::Status::Failed, jobs::Status::Canceled}) {
        sample(out, "clipdeck_jobs", s.jobsByStatus.value(status),
               "status=\"" + QByteArray(jobs::statusName(status).data()) + '"');
    }
    header(out, "clipdeck_queue_depth", "gauge", "Jobs waiting for a worker.");
    sample(out, "clipdeck_queue_depth", s.jobsByStatus.value(jobs::Status::Pending));

    header(out, "clipdeck_http_connections_open", "gauge", "Open HTTP connections.");
    sample(out, "clipdeck_http_connections_open", s.http.openConnections);
    header(out, "clipdeck_http_bytes_queued", "gauge", "Response bytes waiting for clients to take them.");
    sample(out, "clipdeck_http_bytes_queued", double(s.http.bytesQueued));
    header(out, "clipdeck_http_connections_accepted_total", "counter", "Connections accepted.");
    sample(out, "clipdeck_http_connections_accepted_total", double(s.http.accepted));
    header(out, "clipdeck_http_connections_rejected_total", "counter",
           "Connections refused (503) for the connection limit.");
    sample(out, "clipdeck_http_connections_rejected_total", double(s.http.rejectedOverLimit));
    header(out, "clipdeck_http_timeouts_total", "counter",
           "Connections closed by a timeout (slow or stalled clients).");
    sample(out, "clipdeck_http_timeouts_total", double(s.http.timedOut));
    header(out, "clipdeck_http_bad_requests_total", "counter",
           "Requests refused by the HTTP layer (malformed, over a limit).");
    sample(out, "clipdeck_http_bad_requests_total", double(s.http.badRequests));

    header(out, "clipdeck_uploads_total", "counter", "Uploads, stored or rejected.");
    sample(out, "clipdeck_uploads_total", double(m_uploadsStored), "result=\"stored\"");
    sample(out, "clipdeck_uploads_total", double(m_uploadsRejected), "result=\"rejected\"");
    header(out, "clipdeck_upload_bytes_total", "counter", "Bytes of stored uploads.");
    sample(out, "clipdeck_upload_bytes_total", double(m_uploadBytes));

    header(out, "clipdeck_http_request_duration_seconds", "histogram",
           "Time from a request's head to its response's head (streams: to the first bytes), per route.");
    const QList<double> &buckets = bucketsSeconds();
    for (auto it = m_latency.cbegin(); it != m_latency.cend(); ++it) {
        const QByteArray route = "route=\"" + label(it.key()) + '"';
        quint64 cumulative = 0;
        for (qsizetype i = 0; i < buckets.size(); ++i) {
            cumulative += it->counts.value(i);
            sample(out, "clipdeck_http_request_duration_seconds_bucket", double(cumulative),
                   route + ",le=\"" + number(buckets.at(i)) + '"');
        }
        sample(out, "clipdeck_http_request_duration_seconds_bucket", double(it->count), route + ",le=\"+Inf\"");
        sample(out, "clipdeck_http_request_duration_seconds_sum", it->sum, route);
        sample(out, "clipdeck_http_request_duration_seconds_count", double(it->count), route);
    }
    header(out, "clipdeck_http_responses_total", "counter", "Responses per route and status.");
    for (auto it = m_responses.cbegin(); it != m_responses.cend(); ++it) {
        sample(out, "clipdeck_http_responses_total", double(it.value()),
               "route=\"" + label(it.key().first) + "\",status=\"" + QByteArray::number(it.key().second) + '"');
    }
    header(out, "clipdeck_uptime_seconds", "gauge", "Seconds since the server started.");
    sample(out, "clipdeck_uptime_seconds", double(s.uptimeSeconds));
    return out;
}

} // namespace clipdeck::server
