// clipdeck-server's event streams, the real process over 127.0.0.1: the snapshot first, the end
// after the terminal event, exact resume with Last-Event-ID after drops at random points, the
// multiplexed /api/events, stream credentials, heartbeats and idle close, slow clients dropped
// without hurting others, slow uploads timed out, the per-user stream limit, the bench hook.

#include "mediafixtures.h"
#include "serverfixture.h"

#include "jobs/jobstream.h"

#include <QDirIterator>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QTemporaryDir>

using namespace serverfixture;
using clipdeck::jobs::Job;
using clipdeck::jobs::Status;

class tst_ServerStreams : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void firstEventIsSnapshotThenEndsAfterTerminal();
    void finishedJobStream();
    void liveActions();
    void resumeJobStreamAfterRandomDrops_data();
    void resumeJobStreamAfterRandomDrops();
    void resumeUserStreamAfterRandomDrops_data();
    void resumeUserStreamAfterRandomDrops();
    void multiplexedStream();
    void streamCredentials();
    void heartbeatAndIdleClose();
    void slowStreamClientDropped();
    void slowUploadTimedOut();
    void streamsPerUserLimit();
    void streamSlotsReleasedWhateverTheEnd();
    void benchHook();

private:
    QString submit(ServerProcess &server, const User &user, const QByteArray &json);
    QString longJob(ServerProcess &server, const User &user);

    QTemporaryDir m_dir;
    std::unique_ptr<ServerProcess> m_server;
    Http m_http;
    QHash<QByteArray, QString> m_media; // user -> a media id on m_server
    QString m_clip;
    QString m_longClip;
};

QString tst_ServerStreams::submit(ServerProcess &server, const User &user, const QByteArray &json)
{
    const Reply r = m_http.postJson(server.url(QStringLiteral("/api/jobs")), user.token, json);
    if (r.status != 202) {
        qWarning("submit: %d %s", r.status, r.body.constData());
        return {};
    }
    return r.json().value(QStringLiteral("jobId")).toString();
}

// A transcode of a 30 s clip: seconds of work, an event every 100 ms.
QString tst_ServerStreams::longJob(ServerProcess &server, const User &user)
{
    QFile f(m_longClip);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const Reply up = m_http.send("POST", server.url(QStringLiteral("/api/media")), user.token, f.readAll(),
                                 {{"X-Filename", "long.mp4"}});
    if (up.status != 201)
        return {};
    return submit(server, user,
                  "{\"kind\":\"transcode\",\"mediaId\":\"" + up.json().value(QStringLiteral("id")).toString().toUtf8()
                      + "\",\"params\":{\"preset\":\"web-h264\"}}");
}

void tst_ServerStreams::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_clip = fixtures::basicClip(4);
    m_longClip = fixtures::basicClip(30);
    QVERIFY(!m_clip.isEmpty() && !m_longClip.isEmpty());
    m_server = std::make_unique<ServerProcess>(m_dir.path() + QStringLiteral("/main"));
    // Two heavy workers: the resume tests run a long job while others may still be finishing.
    QVERIFY(m_server->start({QStringLiteral("--heavy-workers"), QStringLiteral("2")}));
    QFile f(m_clip);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    for (const User &u : {alice, bob, carol, dave}) {
        const Reply r = m_http.send("POST", m_server->url(QStringLiteral("/api/media")), u.token, bytes,
                                    {{"X-Filename", "clip.mp4"}});
        QCOMPARE(r.status, 201);
        m_media.insert(u.name, r.json().value(QStringLiteral("id")).toString());
    }
}

void tst_ServerStreams::cleanupTestCase()
{
    if (m_server)
        QCOMPARE(m_server->terminate(), 0);
}

void tst_ServerStreams::firstEventIsSnapshotThenEndsAfterTerminal()
{
    const QString id = longJob(*m_server, alice);
    QVERIFY(!id.isEmpty());
    // Wait until it is well under way, watching with a first stream.
    SseClient watcher(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(alice));
    QVERIFY(QTest::qWaitFor([&] { return !watcher.events.isEmpty() && jobOf(watcher.events.last())->progress > 0; },
                            WaitMs));
    const Job before =
        clipdeck::jobs::decodeJob(m_http.get(m_server->url(QStringLiteral("/api/jobs/") + id), alice.token).body)
            .job.value();

    SseClient stream(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(alice));
    QVERIFY(stream.waitEvents(1));
    QCOMPARE(stream.status, 200);
    QCOMPARE(stream.header("Content-Type"), QByteArray("text/event-stream"));
    QCOMPARE(stream.header("Cache-Control"), QByteArray("no-cache"));
    QCOMPARE(stream.header("X-Accel-Buffering"), QByteArray("no"));
    QVERIFY(stream.header("Content-Length").isEmpty());
    QVERIFY(stream.body.startsWith("retry: 2000\n\n"));
    // The first event is the current snapshot: nothing older than what GET said a moment ago.
    const Job first = jobOf(stream.events.first()).value();
    QCOMPARE(stream.events.first().type, QStringLiteral("message"));
    QCOMPARE(stream.events.first().lastEventId, QString::number(first.seq));
    QVERIFY(first.seq >= before.seq);
    QVERIFY(!first.isTerminal());
    QCOMPARE(first.input, before.input);

    QVERIFY(stream.waitClosed());
    QVERIFY(watcher.waitClosed());
    qint64 seq = first.seq;
    for (const auto &e : std::as_const(stream.events)) {
        const Job j = jobOf(e).value();
        QCOMPARE(j.seq, seq++);
        QCOMPARE(e.lastEventId, QString::number(j.seq));
    }
    const Job last = jobOf(stream.events.last()).value();
    QCOMPARE(last.status, Status::Complete);
    QCOMPARE(last.progress, 100.0);
    // Byte for byte the job stream encoding (lib/jobs/jobstream.h) that `clipdeck-cli render
    // --events` writes: the preamble, then jobs::jobEvent() of each snapshot.
    QByteArray expected = clipdeck::jobs::streamPreamble();
    for (const auto &e : std::as_const(stream.events))
        expected += clipdeck::jobs::jobEvent(jobOf(e).value());
    QCOMPARE(stream.body, expected);
    // Both watchers saw the same bytes for the events they share.
    QCOMPARE(jobOf(watcher.events.last())->seq, last.seq);
    QVERIFY(watcher.body.endsWith(stream.body.mid(stream.body.lastIndexOf("id: "))));
}

void tst_ServerStreams::finishedJobStream()
{
    const QString id =
        submit(*m_server, bob, "{\"kind\":\"probe\",\"mediaId\":\"" + m_media.value(bob.name).toUtf8() + "\"}");
    SseClient live(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(bob));
    QVERIFY(live.waitClosed());
    const Job done = jobOf(live.events.last()).value();
    QCOMPARE(done.status, Status::Complete);

    // A finished job: the preamble, its one terminal snapshot, the end.
    SseClient after(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(bob));
    QVERIFY(after.waitClosed());
    QCOMPARE(after.events.size(), 1);
    QCOMPARE(jobOf(after.events.first()).value(), done);
    // A client that already has the terminal event gets 204 (a browser stops reconnecting).
    SseClient again(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream",
                    bearer(bob)
                        + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", QByteArray::number(done.seq)}});
    QVERIFY(again.waitClosed());
    QCOMPARE(again.status, 204);
    // One that missed the end gets exactly what it missed.
    SseClient behind(
        m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream",
        bearer(bob) + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", QByteArray::number(done.seq - 2)}});
    QVERIFY(behind.waitClosed());
    QCOMPARE(behind.events.size(), 2);
    QCOMPARE(jobOf(behind.events.at(0))->seq, done.seq - 1);
    QCOMPARE(jobOf(behind.events.at(1))->seq, done.seq);
    // An id this job never had: a fresh snapshot.
    SseClient odd(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream",
                  bearer(bob) + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", "not-a-seq"}});
    QVERIFY(odd.waitClosed());
    QCOMPARE(odd.events.size(), 1);
    QCOMPARE(jobOf(odd.events.first())->seq, done.seq);
    // Unknown job: 404.
    SseClient none(m_server->port(), "/api/jobs/nope/stream", bearer(bob));
    QVERIFY(none.waitClosed());
    QCOMPARE(none.status, 404);
}

void tst_ServerStreams::liveActions()
{
    const QString id = longJob(*m_server, dave);
    SseClient stream(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(dave));
    QVERIFY(QTest::qWaitFor(
        [&] { return !stream.events.isEmpty() && jobOf(stream.events.last())->status == Status::Running; }, WaitMs));
    auto act = [&](const char *action) {
        return m_http
            .send("POST", m_server->url(QStringLiteral("/api/jobs/%1/%2").arg(id, QLatin1StringView(action))),
                  dave.token)
            .status;
    };
    QCOMPARE(act("pause"), 200);
    QVERIFY(QTest::qWaitFor([&] { return jobOf(stream.events.last())->status == Status::Paused; }, WaitMs));
    QCOMPARE(act("resume"), 200);
    QVERIFY(QTest::qWaitFor([&] { return jobOf(stream.events.last())->status == Status::Running; }, WaitMs));
    QCOMPARE(act("cancel"), 200);
    QVERIFY(stream.waitClosed());
    QCOMPARE(jobOf(stream.events.last())->status, Status::Canceled);
    QList<Status> seen;
    for (const auto &e : std::as_const(stream.events)) {
        const Status s = jobOf(e)->status;
        if (seen.isEmpty() || seen.last() != s)
            seen.append(s);
    }
    QVERIFY(seen.contains(Status::Paused));
    QCOMPARE(seen.last(), Status::Canceled);
}

void tst_ServerStreams::resumeJobStreamAfterRandomDrops_data()
{
    QTest::addColumn<quint32>("seed");
    QTest::newRow("seed 1") << 1u;
    QTest::newRow("seed 42") << 42u;
}

void tst_ServerStreams::resumeJobStreamAfterRandomDrops()
{
    QFETCH(quint32, seed);
    QRandomGenerator rng(seed);
    const QString id = longJob(*m_server, alice);
    QVERIFY(!id.isEmpty());
    QList<qint64> seqs;
    QString lastId;
    int connections = 0;
    int cuts = 0;
    for (;;) {
        auto stream = std::make_unique<SseClient>(
            m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream",
            bearer(alice)
                + (lastId.isEmpty() ? QList<std::pair<QByteArray, QByteArray>>{}
                                    : QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", lastId.toUtf8()}}),
            lastId);
        ++connections;
        // Anywhere: in the preamble, between events, in the middle of one.
        stream->cutAfter(rng.bounded(1, 2500));
        QVERIFY(stream->waitClosed());
        cuts += stream->cut;
        if (stream->status == 204)
            break;
        QCOMPARE(stream->status, 200);
        for (const auto &e : std::as_const(stream->events))
            seqs.append(jobOf(e)->seq);
        lastId = stream->lastEventId();
        if (!stream->events.isEmpty() && jobOf(stream->events.last())->isTerminal())
            break;
        QVERIFY2(connections < 2000, "the job never ended");
    }
    QVERIFY(cuts >= 3);
    // Every seq exactly once, in order, from the first snapshot to the terminal event.
    QVERIFY(!seqs.isEmpty());
    for (qsizetype i = 1; i < seqs.size(); ++i)
        QVERIFY2(seqs.at(i) == seqs.at(i - 1) + 1,
                 qPrintable(QStringLiteral("at %1: %2 after %3").arg(i).arg(seqs.at(i)).arg(seqs.at(i - 1))));
    const Job end =
        clipdeck::jobs::decodeJob(m_http.get(m_server->url(QStringLiteral("/api/jobs/") + id), alice.token).body)
            .job.value();
    QCOMPARE(end.status, Status::Complete);
    QCOMPARE(seqs.last(), end.seq);
    qInfo("seed %u: %d connections, %d cut mid-stream, %lld events", seed, connections, cuts, qint64(seqs.size()));
}

void tst_ServerStreams::resumeUserStreamAfterRandomDrops_data()
{
    QTest::addColumn<quint32>("seed");
    QTest::newRow("seed 7") << 7u;
    QTest::newRow("seed 2024") << 2024u;
}

void tst_ServerStreams::resumeUserStreamAfterRandomDrops()
{
    QFETCH(quint32, seed);
    QRandomGenerator rng(seed);
    // Connected before the job exists, so every one of its events is owed, from seq 1.
    auto first = std::make_unique<SseClient>(m_server->port(), "/api/events", bearer(carol));
    QVERIFY(first->waitOpen());
    QCOMPARE(first->status, 200);
    QVERIFY(QTest::qWaitFor([&] { return first->body.startsWith("retry: 2000\n\n"); }, WaitMs));
    const QString id = longJob(*m_server, carol);
    QVERIFY(!id.isEmpty());

    QList<qint64> seqs;
    QStringList ids;
    int connections = 1;
    int cuts = 0;
    bool ended = false;
    auto sawEnd = [&](const SseClient &s) {
        for (const auto &e : std::as_const(s.events)) {
            const Job j = jobOf(e).value();
            if (j.id == id && j.isTerminal())
                return true;
        }
        return false;
    };
    std::unique_ptr<SseClient> stream = std::move(first);
    stream->cutAfter(stream->body.size() + rng.bounded(1, 2500));
    for (;;) {
        // A user stream does not end with the job: stop at the cut, or at the job's last event.
        QVERIFY(QTest::qWaitFor([&] { return stream->closed || sawEnd(*stream); }, WaitMs));
        cuts += stream->cut;
        for (const auto &e : std::as_const(stream->events)) {
            const Job j = jobOf(e).value();
            if (j.id != id)
                continue;
            seqs.append(j.seq);
            ids.append(e.lastEventId);
            ended = ended || j.isTerminal();
        }
        if (ended)
            break;
        const QString lastId = stream->lastEventId();
        stream = std::make_unique<SseClient>(
            m_server->port(), "/api/events",
            bearer(carol) + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", lastId.toUtf8()}}, lastId);
        ++connections;
        stream->cutAfter(rng.bounded(1, 2500));
        QVERIFY2(connections < 2000, "the job never ended");
    }
    QVERIFY(cuts >= 3);
    QCOMPARE(seqs.first(), 1);
    for (qsizetype i = 1; i < seqs.size(); ++i)
        QVERIFY2(seqs.at(i) == seqs.at(i - 1) + 1,
                 qPrintable(QStringLiteral("at %1: %2 after %3").arg(i).arg(seqs.at(i)).arg(seqs.at(i - 1))));
    // The ids are the server's cursor, "<epoch>-<counter>", increasing.
    static const QRegularExpression cursor(QStringLiteral("^([0-9a-z]+)-(\\d+)$"));
    qint64 previous = 0;
    for (const QString &eventId : std::as_const(ids)) {
        const auto m = cursor.match(eventId);
        QVERIFY2(m.hasMatch(), qPrintable(eventId));
        QVERIFY(m.captured(2).toLongLong() > previous);
        previous = m.captured(2).toLongLong();
    }
    qInfo("seed %u: %d connections, %d cut mid-stream, %lld events", seed, connections, cuts, qint64(seqs.size()));
}

void tst_ServerStreams::multiplexedStream()
{
    // bob: one stream for all his jobs; alice's never show up in it.
    SseClient events(m_server->port(), "/api/events", bearer(bob));
    QVERIFY(events.waitOpen());
    const int before = int(events.events.size());
    const QByteArray media = m_media.value(bob.name).toUtf8();
    const QString a = submit(*m_server, bob, "{\"kind\":\"probe\",\"mediaId\":\"" + media + "\"}");
    const QString b =
        submit(*m_server, bob, "{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"count\":2}}");
    const QString other =
        submit(*m_server, alice, "{\"kind\":\"probe\",\"mediaId\":\"" + m_media.value(alice.name).toUtf8() + "\"}");
    QHash<QString, QList<qint64>> seqs;
    QVERIFY(QTest::qWaitFor(
        [&] {
            seqs.clear();
            bool aDone = false, bDone = false;
            for (qsizetype i = before; i < events.events.size(); ++i) {
                const Job j = jobOf(events.events.at(i)).value();
                seqs[j.id].append(j.seq);
                aDone = aDone || (j.id == a && j.isTerminal());
                bDone = bDone || (j.id == b && j.isTerminal());
            }
            return aDone && bDone;
        },
        WaitMs));
    QVERIFY(!seqs.contains(other));
    for (const QString &id : {a, b}) {
        const QList<qint64> &list = seqs.value(id);
        QCOMPARE(list.first(), 1);
        for (qsizetype i = 1; i < list.size(); ++i)
            QCOMPARE(list.at(i), list.at(i - 1) + 1);
    }
    // It does not end with the jobs.
    QVERIFY(!events.closed);

    // A new connection without Last-Event-ID starts with a snapshot of each of bob's jobs; the
    // last of them carries the resume cursor, the ones before it a partial-burst id.
    SseClient fresh(m_server->port(), "/api/events", bearer(bob));
    QVERIFY(fresh.waitEvents(2));
    QVERIFY(QTest::qWaitFor(
        [&] {
            QSet<QString> jobs;
            for (const auto &e : std::as_const(fresh.events))
                jobs.insert(jobOf(e)->id);
            return jobs.contains(a) && jobs.contains(b);
        },
        WaitMs));
    QVERIFY(QRegularExpression(QStringLiteral("^[0-9a-z]+-\\d+$")).match(fresh.events.last().lastEventId).hasMatch());
    QVERIFY(
        QRegularExpression(QStringLiteral("^[0-9a-z]+-\\d+\\.1$")).match(fresh.events.first().lastEventId).hasMatch());
    for (const auto &e : std::as_const(fresh.events))
        QVERIFY(jobOf(e)->id != other);

    // An unknown epoch (a cursor from before a restart) gets the same fresh snapshots.
    SseClient stale(m_server->port(), "/api/events",
                    bearer(bob) + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", "zzzz-5"}});
    QVERIFY(stale.waitEvents(fresh.events.size()));
}

void tst_ServerStreams::streamCredentials()
{
    const QString id =
        submit(*m_server, dave, "{\"kind\":\"probe\",\"mediaId\":\"" + m_media.value(dave.name).toUtf8() + "\"}");
    SseClient query(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream?access_token=" + dave.token, {});
    QVERIFY(query.waitClosed());
    QCOMPARE(query.status, 200);
    QVERIFY(!query.events.isEmpty());
    const qint64 last = jobOf(query.events.last())->seq;

    SseClient cookie(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream",
                     {{"Cookie", "theme=dark; clipdeck_token=" + dave.token}});
    QVERIFY(cookie.waitClosed());
    QCOMPARE(cookie.status, 200);

    // The resume point as a query parameter, for clients that cannot set Last-Event-ID.
    SseClient resumed(m_server->port(),
                      "/api/jobs/" + id.toUtf8() + "/stream?access_token=" + dave.token
                          + "&lastEventId=" + QByteArray::number(last - 1),
                      {});
    QVERIFY(resumed.waitClosed());
    QCOMPARE(resumed.events.size(), 1);
    QCOMPARE(jobOf(resumed.events.first())->seq, last);

    SseClient events(m_server->port(), "/api/events?access_token=" + dave.token, {});
    QVERIFY(events.waitOpen());
    QCOMPARE(events.status, 200);

    SseClient wrong(m_server->port(), "/api/events?access_token=nope-nope-nope-nope", {});
    QVERIFY(wrong.waitClosed());
    QCOMPARE(wrong.status, 401);
    QVERIFY(wrong.header("WWW-Authenticate").contains("invalid_token"));
    SseClient none(m_server->port(), "/api/events", {});
    QVERIFY(none.waitClosed());
    QCOMPARE(none.status, 401);
    // Another user's job stream does not exist for them.
    SseClient foreign(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream?access_token=" + alice.token, {});
    QVERIFY(foreign.waitClosed());
    QCOMPARE(foreign.status, 404);
}

void tst_ServerStreams::heartbeatAndIdleClose()
{
    ServerProcess server(m_dir.path() + QStringLiteral("/idle"));
    QVERIFY(server.start({QStringLiteral("--heartbeat"), QStringLiteral("0.2"), QStringLiteral("--idle-timeout"),
                          QStringLiteral("1.5")}));
    SseClient events(server.port(), "/api/events", bearer(alice));
    QVERIFY(events.waitClosed());
    QCOMPARE(events.status, 200);
    // Heartbeats (empty comments) while nothing happened, then the idle notice, then the end.
    QVERIFY(events.comments.count(QString()) >= 2);
    QVERIFY(events.comments.last().startsWith(QStringLiteral("idle timeout")));
    QVERIFY(events.events.isEmpty());
    const QByteArray metrics = m_http.get(server.url(QStringLiteral("/metrics"))).body;
    QVERIFY(metrics.contains("clipdeck_streams_idle_closed_total 1"));
    QVERIFY(metrics.contains("clipdeck_streams_open{kind=\"events\"} 0"));
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerStreams::slowStreamClientDropped()
{
    ServerProcess server(m_dir.path() + QStringLiteral("/slow"));
    QVERIFY(server.start(
        {QStringLiteral("--bench-publish"), QStringLiteral("--max-stream-buffer"), QStringLiteral("65536")}));
    const QUrl publish = server.url(QStringLiteral("/api/bench/jobs/bench-1/publish"));
    QCOMPARE(m_http.send("POST", publish, alice.token, "hello").status, 200);

    SseClient good(server.port(), "/api/jobs/bench-1/stream", bearer(alice));
    QVERIFY(good.waitEvents(1));
    // Reads 1 KiB, then nothing more: the kernel buffers fill, then the server's queue.
    RawClient slow(server.port(), 1024);
    QVERIFY(slow.waitConnected());
    slow.reading = false;
    slow.socket.write("GET /api/jobs/bench-1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice.token
                      + "\r\n\r\n");
    QVERIFY(QTest::qWaitFor(
        [&] {
            return m_http.get(server.url(QStringLiteral("/metrics")))
                .body.contains("clipdeck_streams_open{kind=\"job\"} 2");
        },
        WaitMs));

    const QByteArray payload(64 * 1024, 'p');
    int published = 1;
    bool dropped = false;
    while (!dropped && published < 3000) {
        const Reply r = m_http.send("POST", publish, alice.token, payload);
        QCOMPARE(r.status, 200);
        ++published;
        if (published % 10 == 0)
            dropped = m_http.get(server.url(QStringLiteral("/metrics")))
                          .body.contains("clipdeck_stream_clients_dropped_total 1");
    }
    QVERIFY2(dropped, "the slow client was never dropped");
    // The good client got every event, in order, whole.
    QVERIFY(good.waitEvents(published));
    for (qsizetype i = 0; i < good.events.size(); ++i) {
        QCOMPARE(good.events.at(i).lastEventId, QString::number(i + 1));
        QCOMPARE(good.events.at(i).data.size(), i == 0 ? 5 : payload.size());
    }
    QVERIFY(!good.closed);
    // The slow one finds its connection closed once it reads again.
    slow.reading = true;
    slow.socket.setReadBufferSize(0);
    slow.received += slow.socket.readAll();
    QVERIFY(slow.waitClosed());
    QCOMPARE(m_http.get(server.url(QStringLiteral("/healthz"))).status, 200);
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerStreams::slowUploadTimedOut()
{
    ServerProcess server(m_dir.path() + QStringLiteral("/slowupload"));
    QVERIFY(server.start({QStringLiteral("--body-timeout"), QStringLiteral("0.5"), QStringLiteral("--header-timeout"),
                          QStringLiteral("0.5")}));
    RawClient upload(server.port());
    QVERIFY(upload.waitConnected());
    upload.socket.write("POST /api/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice.token
                        + "\r\nX-Filename: slow.mp4\r\nContent-Length: 1000000\r\n\r\n" + QByteArray(1000, 'z'));
    // A slowloris: the head never completes.
    RawClient slowHead(server.port());
    QVERIFY(slowHead.waitConnected());
    slowHead.socket.write("GET /api/jobs HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    // Others are served meanwhile.
    QCOMPARE(m_http.get(server.url(QStringLiteral("/healthz"))).status, 200);
    QCOMPARE(m_http.get(server.url(QStringLiteral("/api/jobs")), alice.token).status, 200);

    QVERIFY(upload.waitClosed());
    QCOMPARE(upload.status(), 408);
    QVERIFY(upload.body().contains("\"code\":\"request_timeout\""));
    QVERIFY(slowHead.waitClosed());
    QCOMPARE(slowHead.status(), 408);
    // Nothing of the upload was kept.
    QCOMPARE(m_http.get(server.url(QStringLiteral("/api/media")), alice.token)
                 .json()
                 .value(QStringLiteral("media"))
                 .toArray()
                 .size(),
             0);
    QDirIterator files(m_dir.path() + QStringLiteral("/slowupload/media"), QDir::Files);
    QVERIFY(!files.hasNext());
    QVERIFY(m_http.get(server.url(QStringLiteral("/metrics"))).body.contains("clipdeck_http_timeouts_total 2"));
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerStreams::streamsPerUserLimit()
{
    ServerProcess server(m_dir.path() + QStringLiteral("/limit"));
    QVERIFY(server.start({QStringLiteral("--max-streams-per-user"), QStringLiteral("2")}));
    auto one = std::make_unique<SseClient>(server.port(), "/api/events", bearer(alice));
    SseClient two(server.port(), "/api/events", bearer(alice));
    QVERIFY(one->waitOpen());
    QVERIFY(two.waitOpen());
    SseClient three(server.port(), "/api/events", bearer(alice));
    QVERIFY(three.waitClosed());
    QCOMPARE(three.status, 429);
    QVERIFY(three.body.contains("too_many_streams"));
    // Another user is not affected.
    SseClient bobs(server.port(), "/api/events", bearer(bob));
    QVERIFY(bobs.waitOpen());
    QCOMPARE(bobs.status, 200);
    // Closing one frees its place.
    one.reset();
    QVERIFY(QTest::qWaitFor(
        [&] {
            return m_http.get(server.url(QStringLiteral("/metrics")))
                .body.contains("clipdeck_streams_open{kind=\"events\"} 2");
        },
        WaitMs));
    SseClient four(server.port(), "/api/events", bearer(alice));
    QVERIFY(four.waitOpen());
    QCOMPARE(four.status, 200);
    QCOMPARE(server.terminate(), 0);
}

// A stream's slot (of --max-streams-per-user, and clipdeck_streams_open) is given back however
// its exchange ends: HEAD requests on both kinds of stream (answered with the head alone), clients
// that leave before the first byte, right after the head, mid-event, or with a FIN instead of a
// reset. Then every slot is free: the metric says 0 and the user opens the full number of streams.
void tst_ServerStreams::streamSlotsReleasedWhateverTheEnd()
{
    constexpr int Limit = 10;
    ServerProcess server(m_dir.path() + QStringLiteral("/slots"));
    QVERIFY(server.start(
        {QStringLiteral("--bench-publish"), QStringLiteral("--max-streams-per-user"), QString::number(Limit)}));
    QCOMPARE(m_http
                 .send("POST", server.url(QStringLiteral("/api/bench/jobs/slot-job/publish")), alice.token,
                       QByteArray(300, 'e'))
                 .status,
             200);
    const QByteArray auth = "\r\nAuthorization: Bearer " + alice.token + "\r\n\r\n";
    const auto openMetric = [&](const char *kind, int n) {
        const QByteArray line = "clipdeck_streams_open{kind=\"" + QByteArray(kind) + "\"} " + QByteArray::number(n);
        return QTest::qWaitFor([&] { return m_http.get(server.url(QStringLiteral("/metrics"))).body.contains(line); },
                               WaitMs);
    };

    // curl -I, many times over: ten times the limit, on both kinds of stream.
    for (int i = 0; i < 10 * Limit; ++i) {
        RawClient head(server.port());
        QVERIFY(head.waitConnected());
        head.socket.write(
            (i % 2 ? "HEAD /api/events HTTP/1.1\r\nHost: x" : "HEAD /api/jobs/slot-job/stream HTTP/1.1\r\nHost: x")
            + auth);
        QVERIFY(head.waitClosed());
        QCOMPARE(head.status(), 200);
        QVERIFY2(head.body().isEmpty(), head.body().constData());
    }
    QVERIFY(openMetric("events", 0));
    QVERIFY(openMetric("job", 0));
    {
        SseClient get(server.port(), "/api/events", bearer(alice));
        QVERIFY(get.waitOpen());
        QCOMPARE(get.status, 200);
    }

    // GET streams whose clients go in every state.
    for (const char *path : {"/api/events", "/api/jobs/slot-job/stream"}) {
        const QByteArray target(path);
        // Gone before the first write: the request and the close arrive together.
        for (const bool reset : {true, false}) {
            RawClient gone(server.port());
            QVERIFY(gone.waitConnected());
            gone.socket.write("GET " + target + " HTTP/1.1\r\nHost: x" + auth);
            QVERIFY(gone.socket.flush());
            if (reset)
                gone.socket.abort();
            else
                gone.socket.disconnectFromHost();
        }
        // Right after the head and the first events, with a reset and with a FIN.
        for (const bool reset : {true, false}) {
            SseClient opened(server.port(), target, bearer(alice));
            QVERIFY(opened.waitOpen());
            QCOMPARE(opened.status, 200);
            if (reset)
                opened.socket.abort();
            else
                opened.socket.disconnectFromHost();
        }
        // Mid-response: in the job's event, in the preamble of the user stream (which has no
        // snapshot here: bench jobs are not the user's jobs).
        SseClient cut(server.port(), target, bearer(alice));
        cut.cutAfter(target.contains("slot-job") ? 40 : 5);
        QVERIFY(cut.waitClosed());
        QVERIFY(cut.cut);
    }
    QVERIFY(openMetric("events", 0));
    QVERIFY(openMetric("job", 0));

    // Every slot is free: the whole allowance opens, and the next one is refused.
    std::vector<std::unique_ptr<SseClient>> all;
    for (int i = 0; i < Limit; ++i) {
        all.push_back(std::make_unique<SseClient>(server.port(), i % 2 ? "/api/events" : "/api/jobs/slot-job/stream",
                                                  bearer(alice)));
        QVERIFY(all.back()->waitOpen());
        QCOMPARE(all.back()->status, 200);
    }
    SseClient over(server.port(), "/api/events", bearer(alice));
    QVERIFY(over.waitClosed());
    QCOMPARE(over.status, 429);
    // A refused HEAD takes nothing either.
    RawClient refusedHead(server.port());
    QVERIFY(refusedHead.waitConnected());
    refusedHead.socket.write("HEAD /api/events HTTP/1.1\r\nHost: x" + auth);
    QVERIFY(refusedHead.waitReceived("\r\n\r\n"));
    QCOMPARE(refusedHead.status(), 429);
    all.clear();
    QVERIFY(openMetric("events", 0));
    QVERIFY(openMetric("job", 0));
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerStreams::benchHook()
{
    // Off by default.
    QCOMPARE(m_http.send("POST", m_server->url(QStringLiteral("/api/bench/jobs/b/publish")), alice.token, "x").status,
             404);

    ServerProcess server(m_dir.path() + QStringLiteral("/bench"));
    QVERIFY(server.start({QStringLiteral("--bench-publish")}));
    QVERIFY(server.output().contains("for benchmarks only"));
    const QUrl publish = server.url(QStringLiteral("/api/bench/jobs/b1/publish"));
    // Not streamable before its first publish.
    SseClient early(server.port(), "/api/jobs/b1/stream", bearer(alice));
    QVERIFY(early.waitClosed());
    QCOMPARE(early.status, 404);
    Reply r = m_http.send("POST", publish, alice.token, "{\"n\":1}");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("seq")).toInt(), 1);
    SseClient stream(server.port(), "/api/jobs/b1/stream", bearer(alice));
    SseClient events(server.port(), "/api/events", bearer(alice));
    QVERIFY(stream.waitEvents(1));
    QVERIFY(events.waitOpen());
    r = m_http.send("POST", publish, alice.token, "line one\nline two");
    QCOMPARE(r.json().value(QStringLiteral("subscribers")).toInt(), 1);
    QVERIFY(stream.waitEvents(2));
    QCOMPARE(stream.events.at(0).data, QStringLiteral("{\"n\":1}"));
    QCOMPARE(stream.events.at(1).data, QStringLiteral("line one\nline two"));
    QCOMPARE(stream.events.at(1).lastEventId, QStringLiteral("2"));
    QVERIFY(events.waitEvents(1));
    QCOMPARE(events.events.last().data, QStringLiteral("line one\nline two"));
    // Someone else's bench job, and a real job's id, are off limits.
    QCOMPARE(m_http.send("POST", publish, bob.token, "x").status, 404);
    SseClient foreign(server.port(), "/api/jobs/b1/stream", bearer(bob));
    QVERIFY(foreign.waitClosed());
    QCOMPARE(foreign.status, 404);
    QCOMPARE(server.terminate(), 0);
}

QTEST_GUILESS_MAIN(tst_ServerStreams)
#include "tst_server_streams.moc"
