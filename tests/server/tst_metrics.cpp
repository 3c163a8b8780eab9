// The Prometheus text: every family announced once, histograms cumulative, labels escaped.

#include "server/metrics.h"

#include <QTest>

using namespace clipdeck;
using namespace clipdeck::server;

class tst_Metrics : public QObject
{
    Q_OBJECT

private slots:
    void render();
    void histogramIsCumulative();
};

void tst_Metrics::render()
{
    Metrics m;
    m.observeRequest("GET /api/jobs", 200, 0.3);
    m.observeRequest("GET /api/jobs", 401, 0.2);
    m.countUpload(true, 1000);
    m.countUpload(false, 0);
    Metrics::State s;
    s.hub.openJobStreams = 3;
    s.hub.openUserStreams = 1;
    s.hub.eventsPublished = 10;
    s.hub.eventsDelivered = 25;
    s.hub.droppedSlowClients = 2;
    s.http.openConnections = 7;
    s.jobsByStatus[jobs::Status::Running] = 2;
    s.jobsByStatus[jobs::Status::Pending] = 4;
    const QByteArray text = m.render(s);
    for (const char *line : {"clipdeck_streams_open{kind=\"job\"} 3\n", "clipdeck_streams_open{kind=\"events\"} 1\n",
                             "clipdeck_events_published_total 10\n", "clipdeck_events_delivered_total 25\n",
                             "clipdeck_stream_clients_dropped_total 2\n", "clipdeck_jobs{status=\"running\"} 2\n",
                             "clipdeck_jobs{status=\"failed\"} 0\n", "clipdeck_queue_depth 4\n",
                             "clipdeck_http_connections_open 7\n", "clipdeck_uploads_total{result=\"stored\"} 1\n",
                             "clipdeck_uploads_total{result=\"rejected\"} 1\n", "clipdeck_upload_bytes_total 1000\n",
                             "clipdeck_http_responses_total{route=\"GET /api/jobs\",status=\"401\"} 1\n",
                             "# TYPE clipdeck_http_request_duration_seconds histogram\n"}) {
        QVERIFY2(text.contains(line), line);
    }
    // Each family's TYPE once; every sample line is "name{labels} value".
    QCOMPARE(text.count("# TYPE clipdeck_jobs gauge"), 1);
    for (const QByteArray &l : text.split('\n')) {
        if (l.isEmpty() || l.startsWith('#'))
            continue;
        const QList<QByteArray> parts = l.split(' ');
        QVERIFY2(parts.size() >= 2, l.constData());
        bool ok = false;
        parts.last().toDouble(&ok);
        QVERIFY2(ok, l.constData());
    }
}

void tst_Metrics::histogramIsCumulative()
{
    Metrics m;
    m.observeRequest("POST /api/media", 201, 0.4);   // 0.0004 s: first bucket
    m.observeRequest("POST /api/media", 201, 30);    // 0.03 s
    m.observeRequest("POST /api/media", 201, 20000); // 20 s: only +Inf
    m.observeRequest("weird \"route\"\n", 200, 1);
    const QByteArray text = m.render({});
    QVERIFY(
        text.contains("clipdeck_http_request_duration_seconds_bucket{route=\"POST /api/media\",le=\"0.0005\"} 1\n"));
    QVERIFY(text.contains("clipdeck_http_request_duration_seconds_bucket{route=\"POST /api/media\",le=\"0.025\"} 1\n"));
    QVERIFY(text.contains("clipdeck_http_request_duration_seconds_bucket{route=\"POST /api/media\",le=\"0.05\"} 2\n"));
    QVERIFY(text.contains("clipdeck_http_request_duration_seconds_bucket{route=\"POST /api/media\",le=\"10\"} 2\n"));
    QVERIFY(text.contains("clipdeck_http_request_duration_seconds_bucket{route=\"POST /api/media\",le=\"+Inf\"} 3\n"));
    QVERIFY(text.contains("clipdeck_http_request_duration_seconds_count{route=\"POST /api/media\"} 3\n"));
    QVERIFY(text.contains("clipdeck_http_request_duration_seconds_sum{route=\"POST /api/media\"} 20.0304\n"));
    QVERIFY(text.contains("route=\"weird \\\"route\\\"\\n\""));
}

QTEST_APPLESS_MAIN(tst_Metrics)
#include "tst_metrics.moc"
