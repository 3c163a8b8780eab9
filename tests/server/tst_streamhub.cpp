// StreamHub over a real http::Server on 127.0.0.1: fan-out encodes each event once per kind of
// stream, replay from history (or a fresh snapshot when history no longer reaches back), dedupe
// by seq, terminal end, user-stream cursors and snapshot bursts, the history budget, the
// per-user limit, slow clients dropped, disconnects cleaned up, heartbeats, idle close, shutdown.

#include "http/server.h"
#include "server/streamhub.h"
#include "sse/encoder.h"
#include "sse/parser.h"

#include <QSet>
#include <QTcpSocket>
#include <QTest>

using namespace clipdeck;
using namespace clipdeck::server;

namespace {

class Client
{
public:
    Client(quint16 port, const QByteArray &target, qint64 readBufferSize = 0)
    {
        parser.setCallbacks({[this](const sse::Event &e) { events.append(e); },
                             [this](QStringView c) { comments.append(c.toString()); },
                             {}});
        if (readBufferSize > 0)
            socket.setReadBufferSize(readBufferSize);
        QObject::connect(&socket, &QTcpSocket::readyRead, [this] {
            if (!reading)
                return;
            QByteArray bytes = socket.readAll();
            if (status == 0) {
                pending += bytes;
                const qsizetype end = pending.indexOf("\r\n\r\n");
                if (end < 0)
                    return;
                status = pending.mid(9, 3).toInt();
                bytes = pending.mid(end + 4);
            }
            body += bytes;
            parser.feed(bytes);
        });
        QObject::connect(&socket, &QTcpSocket::disconnected, [this] { closed = true; });
        QObject::connect(&socket, &QTcpSocket::connected,
                         [this, target] { socket.write("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n"); });
        socket.connectToHost(QHostAddress::LocalHost, port);
    }
    ~Client() { socket.disconnect(); }
    bool waitOpen()
    {
        return QTest::qWaitFor([&] { return status != 0 || closed; }, 10000);
    }
    bool waitEvents(qsizetype n)
    {
        return QTest::qWaitFor([&] { return events.size() >= n; }, 10000);
    }
    bool waitClosed()
    {
        return QTest::qWaitFor([&] { return closed; }, 10000);
    }
    QList<QString> ids() const
    {
        QList<QString> out;
        for (const auto &e : events)
            out.append(e.lastEventId);
        return out;
    }
    QList<QString> data() const
    {
        QList<QString> out;
        for (const auto &e : events)
            out.append(e.data);
        return out;
    }

    QTcpSocket socket;
    sse::Parser parser;
    int status = 0;
    QByteArray pending;
    QByteArray body;
    QList<sse::Event> events;
    QStringList comments;
    bool closed = false;
    bool reading = true;
};

// What the routes would be: /job/<id>[?last=N] and /user/<name>[?last=ID], with the jobs' current
// state kept here (as the engine would).
class Harness
{
public:
    explicit Harness(HubSettings settings) : hub(settings)
    {
        server.setHandler([this](const http::ExchangePtr &ex) {
            const QList<QString> path = ex->request().pathSegments();
            const std::optional<QByteArray> last = ex->request().queryValue("last");
            StreamHub::Opened opened;
            if (path.value(0) == u"job") {
                const QString id = path.value(1);
                opened = hub.openJobStream(ex, {{"X-Test", "1"}}, owners.value(id, QStringLiteral("alice")), last,
                                           snapshot(id));
            } else {
                const QString user = path.value(1);
                opened = hub.openUserStream(ex, {}, user, last, [this, user] {
                    ++snapshotReads;
                    QList<Snapshot> list;
                    for (const QString &id : std::as_const(order)) {
                        if (owners.value(id) == user)
                            list.append(snapshot(id));
                    }
                    return list;
                });
            }
            if (opened == StreamHub::Opened::NoContent)
                ex->respond(204, {});
            else if (opened == StreamHub::Opened::TooManyStreams)
                ex->respond(429, {});
        });
        if (!server.listen(QHostAddress::LocalHost, 0))
            qWarning("cannot listen");
    }

    EventEncoder encoder(const QByteArray &data)
    {
        return [this, data](QByteArrayView id) {
            ++encodes;
            QByteArray out;
            sse::appendEvent(out, {data, id, {}, std::nullopt});
            return out;
        };
    }
    Snapshot snapshot(const QString &id)
    {
        const auto &s = state.value(id);
        return Snapshot{id, s.first, s.second,
                        encoder(id.toUtf8() + ':' + QByteArray::number(s.first) + padding.value(id))};
    }
    // The engine's part: the new state first, then the event.
    void publish(const QString &id, qint64 seq, bool terminal = false, const QByteArray &extra = {})
    {
        if (!owners.contains(id)) {
            owners.insert(id, QStringLiteral("alice"));
            order.append(id);
        }
        state[id] = {seq, terminal};
        hub.publish(id, owners.value(id), seq, terminal, encoder(id.toUtf8() + ':' + QByteArray::number(seq) + extra));
    }

    http::Server server;
    StreamHub hub;
    QHash<QString, std::pair<qint64, bool>> state;
    QHash<QString, QString> owners;
    QStringList order;
    QHash<QString, QByteArray> padding; // added to a job's snapshot data
    int encodes = 0;
    int snapshotReads = 0;
};

HubSettings quiet()
{
    HubSettings s;
    s.heartbeatMs = 60000;
    s.idleTimeoutMs = 600000;
    return s;
}

} // namespace

class tst_StreamHub : public QObject
{
    Q_OBJECT

private slots:
    void fanOutEncodesOncePerKind();
    void jobStreamStartsWithSnapshot();
    void jobStreamReplay();
    void jobStreamFreshWhenHistoryIsGone();
    void dedupeBySeq();
    void terminalEndsJobStreams();
    void userStreamCursor();
    void userStreamFreshSnapshots();
    void epochsNeverRepeat();
    void historyBudget();
    void streamsPerUser();
    void slowClientDropped();
    void burstDoesNotTripTheCap();
    void disconnectsCleanedUp();
    void heartbeatAndIdle();
    void shutdownSaysGoodbye();
};

void tst_StreamHub::fanOutEncodesOncePerKind()
{
    Harness h(quiet());
    h.publish(QStringLiteral("j"), 1);
    std::vector<std::unique_ptr<Client>> jobClients, userClients;
    for (int i = 0; i < 40; ++i)
        jobClients.push_back(std::make_unique<Client>(h.server.serverPort(), "/job/j"));
    for (int i = 0; i < 5; ++i)
        userClients.push_back(std::make_unique<Client>(h.server.serverPort(), "/user/alice?last=" + h.hub.cursor()));
    QVERIFY(QTest::qWaitFor(
        [&] { return h.hub.counters().openJobStreams == 40 && h.hub.counters().openUserStreams == 5; }, 10000));
    const quint64 deliveredBefore = h.hub.counters().eventsDelivered;
    h.encodes = 0;
    for (qint64 seq = 2; seq <= 4; ++seq)
        h.publish(QStringLiteral("j"), seq);
    QCOMPARE(h.encodes, 3 * 2); // once for job streams, once for the user stream, per event
    QCOMPARE(h.hub.counters().eventsDelivered - deliveredBefore, 3u * 45);
    for (const auto &c : jobClients) {
        QVERIFY(c->waitEvents(4));
        QCOMPARE(c->ids(),
                 (QList<QString>{QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("3"), QStringLiteral("4")}));
        QCOMPARE(c->body, jobClients.front()->body);
    }
    for (const auto &c : userClients) {
        QVERIFY(c->waitEvents(3));
        QCOMPARE(c->data(), (QList<QString>{QStringLiteral("j:2"), QStringLiteral("j:3"), QStringLiteral("j:4")}));
        QCOMPARE(c->body, userClients.front()->body);
    }
}

void tst_StreamHub::jobStreamStartsWithSnapshot()
{
    Harness h(quiet());
    h.publish(QStringLiteral("j"), 1);
    h.publish(QStringLiteral("j"), 2);
    Client c(h.server.serverPort(), "/job/j");
    QVERIFY(c.waitEvents(1));
    QCOMPARE(c.status, 200);
    QVERIFY(c.body.startsWith("retry: 2000\n\nid: 2\ndata: j:2\n\n"));
    h.publish(QStringLiteral("j"), 3);
    QVERIFY(c.waitEvents(2));
    QCOMPARE(c.ids(), (QList<QString>{QStringLiteral("2"), QStringLiteral("3")}));
    QCOMPARE(h.hub.subscriberCount(QStringLiteral("j")), 1);
    QCOMPARE(h.hub.counters().snapshotsSent, 1u);
}

void tst_StreamHub::jobStreamReplay()
{
    HubSettings s = quiet();
    s.history = 5;
    Harness h(s);
    for (qint64 seq = 1; seq <= 10; ++seq)
        h.publish(QStringLiteral("j"), seq);
    Client behind(h.server.serverPort(), "/job/j?last=7");
    QVERIFY(behind.waitEvents(3));
    QCOMPARE(behind.data(), (QList<QString>{QStringLiteral("j:8"), QStringLiteral("j:9"), QStringLiteral("j:10")}));
    Client upToDate(h.server.serverPort(), "/job/j?last=10");
    QVERIFY(upToDate.waitOpen());
    QCOMPARE(upToDate.status, 200);
    h.publish(QStringLiteral("j"), 11);
    QVERIFY(upToDate.waitEvents(1));
    QCOMPARE(upToDate.ids(), QList<QString>{QStringLiteral("11")});
    QVERIFY(behind.waitEvents(4));
    QCOMPARE(h.hub.counters().eventsReplayed, 3u);
}

void tst_StreamHub::jobStreamFreshWhenHistoryIsGone()
{
    HubSettings s = quiet();
    s.history = 5;
    Harness h(s);
    for (qint64 seq = 1; seq <= 10; ++seq)
        h.publish(QStringLiteral("j"), seq);
    // 5 is the last one evicted: a client that saw 4 missed it.
    Client old(h.server.serverPort(), "/job/j?last=4");
    QVERIFY(old.waitEvents(1));
    QCOMPARE(old.data(), QList<QString>{QStringLiteral("j:10")});
    // A job this process never published (after a restart): only its snapshot is known.
    h.state[QStringLiteral("k")] = {20, false};
    h.owners[QStringLiteral("k")] = QStringLiteral("alice");
    Client restarted(h.server.serverPort(), "/job/k?last=17");
    QVERIFY(restarted.waitEvents(1));
    QCOMPARE(restarted.data(), QList<QString>{QStringLiteral("k:20")});
    h.publish(QStringLiteral("k"), 21);
    QVERIFY(restarted.waitEvents(2));
    // ... and its history covers only what came after: still no replay from before 20.
    Client again(h.server.serverPort(), "/job/k?last=18");
    QVERIFY(again.waitEvents(1));
    QCOMPARE(again.data(), QList<QString>{QStringLiteral("k:21")});
    Client justBefore(h.server.serverPort(), "/job/k?last=20");
    QVERIFY(justBefore.waitEvents(1));
    QCOMPARE(justBefore.data(), QList<QString>{QStringLiteral("k:21")});
    QCOMPARE(justBefore.body.count("data:"), 1);
}

void tst_StreamHub::dedupeBySeq()
{
    Harness h(quiet());
    h.publish(QStringLiteral("j"), 5);
    Client c(h.server.serverPort(), "/job/j");
    QVERIFY(c.waitEvents(1));
    // An event the stream already has (its snapshot) is never sent again.
    h.hub.publish(QStringLiteral("j"), QStringLiteral("alice"), 5, false, h.encoder("duplicate"));
    h.publish(QStringLiteral("j"), 6);
    QVERIFY(c.waitEvents(2));
    QCOMPARE(c.data(), (QList<QString>{QStringLiteral("j:5"), QStringLiteral("j:6")}));
}

void tst_StreamHub::terminalEndsJobStreams()
{
    Harness h(quiet());
    h.publish(QStringLiteral("j"), 1);
    Client job(h.server.serverPort(), "/job/j");
    Client user(h.server.serverPort(), "/user/alice?last=" + h.hub.cursor());
    QVERIFY(job.waitEvents(1));
    QVERIFY(user.waitOpen());
    h.publish(QStringLiteral("j"), 2, true);
    QVERIFY(job.waitClosed());
    QCOMPARE(job.data(), (QList<QString>{QStringLiteral("j:1"), QStringLiteral("j:2")}));
    QVERIFY(user.waitEvents(1));
    QVERIFY(!user.closed);
    QCOMPARE(h.hub.counters().openJobStreams, 0);
    QCOMPARE(h.hub.counters().openUserStreams, 1);
    // A terminal job: the snapshot, then the end; a client that has it: 204.
    Client after(h.server.serverPort(), "/job/j");
    QVERIFY(after.waitClosed());
    QCOMPARE(after.data(), QList<QString>{QStringLiteral("j:2")});
    Client done(h.server.serverPort(), "/job/j?last=2");
    QVERIFY(done.waitOpen());
    QCOMPARE(done.status, 204);
}

void tst_StreamHub::userStreamCursor()
{
    Harness h(quiet());
    h.owners[QStringLiteral("b")] = QStringLiteral("bob");
    h.order.append(QStringLiteral("b"));
    h.publish(QStringLiteral("a"), 1);
    const QByteArray cursor = h.hub.cursor();
    QVERIFY(cursor.startsWith(h.hub.epoch() + '-'));
    h.publish(QStringLiteral("b"), 1); // bob's
    h.publish(QStringLiteral("a"), 2);
    h.publish(QStringLiteral("a"), 3);
    Client resumed(h.server.serverPort(), "/user/alice?last=" + cursor);
    QVERIFY(resumed.waitEvents(2));
    QCOMPARE(resumed.data(), (QList<QString>{QStringLiteral("a:2"), QStringLiteral("a:3")}));
    QCOMPARE(h.snapshotReads, 0);
    // Ids are the cursor; resuming from the last one misses nothing and repeats nothing.
    const QString last = resumed.events.last().lastEventId;
    QCOMPARE(last.toUtf8(), h.hub.cursor());
    h.publish(QStringLiteral("a"), 4);
    QVERIFY(resumed.waitEvents(3));
    Client fromLast(h.server.serverPort(), "/user/alice?last=" + last.toUtf8());
    QVERIFY(fromLast.waitEvents(1));
    QCOMPARE(fromLast.data(), QList<QString>{QStringLiteral("a:4")});
}

void tst_StreamHub::userStreamFreshSnapshots()
{
    HubSettings s = quiet();
    s.history = 3;
    Harness h(s);
    const QByteArray early = h.hub.cursor();
    for (const char *id : {"a", "b", "c"})
        h.publish(QString::fromLatin1(id), 1);
    h.publish(QStringLiteral("a"), 2);
    // The user's history (3) no longer reaches back to `early`: fresh snapshots of every job,
    // the last with the cursor, the ones before with a partial-burst id.
    Client stale(h.server.serverPort(), "/user/alice?last=" + early);
    QVERIFY(stale.waitEvents(3));
    QCOMPARE(stale.data(), (QList<QString>{QStringLiteral("a:2"), QStringLiteral("b:1"), QStringLiteral("c:1")}));
    const QString cursor = QString::fromUtf8(h.hub.cursor());
    QCOMPARE(stale.ids(), (QList<QString>{cursor + QStringLiteral(".1"), cursor + QStringLiteral(".2"), cursor}));
    // A client cut off in the middle of a burst starts over.
    Client partial(h.server.serverPort(), "/user/alice?last=" + (cursor + QStringLiteral(".1")).toUtf8());
    QVERIFY(partial.waitEvents(3));
    QCOMPARE(partial.data(), stale.data());
    // So does one from another epoch (a restart), or with nonsense.
    Client other(h.server.serverPort(), "/user/alice?last=abc-1");
    QVERIFY(other.waitEvents(3));
    Client nonsense(h.server.serverPort(), "/user/alice?last=" + h.hub.epoch() + "-99999");
    QVERIFY(nonsense.waitEvents(3));
    QCOMPARE(h.snapshotReads, 4);
}

// A cursor of one process must never resume in another (a restart, a second node): the hub
// replays from the counter alone once the epoch matches. Hubs made in the same millisecond
// (most of these) still get epochs of their own.
void tst_StreamHub::epochsNeverRepeat()
{
    QSet<QByteArray> epochs;
    for (int i = 0; i < 200; ++i) {
        StreamHub hub(quiet());
        QVERIFY(!hub.epoch().contains('-') && !hub.epoch().contains('.'));
        epochs.insert(hub.epoch());
    }
    QCOMPARE(epochs.size(), 200);
}

void tst_StreamHub::historyBudget()
{
    HubSettings s = quiet();
    s.historyBudgetBytes = 1000;
    Harness h(s);
    const QByteArray padding(300, 'p');
    h.publish(QStringLiteral("j1"), 1, false, padding);
    h.publish(QStringLiteral("j1"), 2, false, padding);
    h.publish(QStringLiteral("j2"), 1, false, padding);
    h.publish(QStringLiteral("j3"), 1, false, padding);
    QVERIFY(h.hub.counters().historyBytes <= 1000 + 3 * 400); // job histories under the budget, plus users'
    // j1, the least recently published, lost its history: a fresh snapshot instead of a replay.
    Client j1(h.server.serverPort(), "/job/j1?last=1");
    QVERIFY(j1.waitEvents(1));
    QCOMPARE(h.hub.counters().eventsReplayed, 0u);
    QCOMPARE(h.hub.counters().snapshotsSent, 1u);
    // j3's is whole.
    Client j3(h.server.serverPort(), "/job/j3?last=0");
    QVERIFY(j3.waitEvents(1));
    QCOMPARE(h.hub.counters().eventsReplayed, 1u);
}

void tst_StreamHub::streamsPerUser()
{
    HubSettings s = quiet();
    s.maxStreamsPerUser = 2;
    Harness h(s);
    h.publish(QStringLiteral("j"), 1);
    auto one = std::make_unique<Client>(h.server.serverPort(), "/job/j");
    Client two(h.server.serverPort(), "/user/alice");
    QVERIFY(one->waitOpen());
    QVERIFY(two.waitOpen());
    Client three(h.server.serverPort(), "/user/alice");
    QVERIFY(three.waitOpen());
    QCOMPARE(three.status, 429);
    Client bobs(h.server.serverPort(), "/user/bob");
    QVERIFY(bobs.waitOpen());
    QCOMPARE(bobs.status, 200);
    one.reset();
    QVERIFY(QTest::qWaitFor([&] { return h.hub.counters().openJobStreams == 0; }, 10000));
    Client four(h.server.serverPort(), "/user/alice");
    QVERIFY(four.waitOpen());
    QCOMPARE(four.status, 200);
}

void tst_StreamHub::slowClientDropped()
{
    HubSettings s = quiet();
    s.maxQueuedBytes = 64 * 1024;
    Harness h(s);
    h.publish(QStringLiteral("j"), 1);
    Client slow(h.server.serverPort(), "/job/j", 1024);
    Client fast(h.server.serverPort(), "/job/j");
    QVERIFY(slow.waitOpen());
    QVERIFY(fast.waitEvents(1));
    slow.reading = false;
    const QByteArray big(32 * 1024, 'b');
    qint64 seq = 1;
    while (h.hub.subscriberCount(QStringLiteral("j")) == 2 && seq < 100000) {
        h.publish(QStringLiteral("j"), ++seq, false, big);
        QCoreApplication::processEvents(); // the fast client reads, the dropped one is removed
    }
    QCOMPARE(h.hub.counters().droppedSlowClients, 1u);
    QCOMPARE(h.hub.subscriberCount(QStringLiteral("j")), 1);
    QVERIFY(fast.waitEvents(seq));
    QCOMPARE(fast.events.last().lastEventId, QString::number(seq));
    QVERIFY(!fast.closed);
}

void tst_StreamHub::burstDoesNotTripTheCap()
{
    HubSettings s = quiet();
    s.maxQueuedBytes = 64 * 1024;
    Harness h(s);
    // A user with many big jobs: the snapshot burst alone is far more than the cap, and more
    // than the kernel's buffers take from a client that does not read.
    for (int i = 0; i < 100; ++i) {
        const QString id = QStringLiteral("big%1").arg(i);
        h.publish(id, 1);
        h.padding.insert(id, QByteArray(200 * 1024, 'x'));
    }
    Client slow(h.server.serverPort(), "/user/alice", 1024);
    slow.reading = false;
    QVERIFY(QTest::qWaitFor([&] { return h.hub.counters().openUserStreams == 1; }, 10000));
    QVERIFY(h.server.stats().bytesQueued > s.maxQueuedBytes);
    QCoreApplication::processEvents();
    QCOMPARE(h.hub.counters().droppedSlowClients, 0u);
    // What comes after the burst is capped as usual.
    for (qint64 seq = 2; h.hub.counters().openUserStreams == 1 && seq < 1000; ++seq) {
        h.publish(QStringLiteral("big0"), seq, false, QByteArray(32 * 1024, 'y'));
        QCoreApplication::processEvents();
    }
    QCOMPARE(h.hub.counters().droppedSlowClients, 1u);
}

void tst_StreamHub::disconnectsCleanedUp()
{
    Harness h(quiet());
    h.publish(QStringLiteral("j"), 1);
    {
        Client a(h.server.serverPort(), "/job/j");
        Client b(h.server.serverPort(), "/user/alice");
        QVERIFY(a.waitEvents(1));
        QVERIFY(b.waitOpen());
        QCOMPARE(h.hub.counters().openJobStreams + h.hub.counters().openUserStreams, 2);
        a.socket.abort();
        b.socket.abort();
    }
    QVERIFY(QTest::qWaitFor([&] { return h.hub.counters().disconnects == 2; }, 10000));
    QCOMPARE(h.hub.counters().openJobStreams, 0);
    QCOMPARE(h.hub.counters().openUserStreams, 0);
    QCOMPARE(h.hub.subscriberCount(QStringLiteral("j")), 0);
    h.publish(QStringLiteral("j"), 2); // nobody left to write to
    QCOMPARE(h.hub.counters().eventsDelivered, 0u);
}

void tst_StreamHub::heartbeatAndIdle()
{
    HubSettings s;
    s.heartbeatMs = 100;
    s.idleTimeoutMs = 3000;
    Harness h(s);
    h.publish(QStringLiteral("j"), 1);
    Client quietOne(h.server.serverPort(), "/user/carol"); // carol has no jobs: nothing to send
    Client busy(h.server.serverPort(), "/job/j");
    QVERIFY(busy.waitEvents(1));
    QVERIFY(quietOne.waitOpen());
    // An event every 100 ms keeps the job stream from being idle; the quiet one gets heartbeats,
    // then is closed as idle (no event for 3 s).
    QTimer ticker;
    qint64 seq = 1;
    QObject::connect(&ticker, &QTimer::timeout, [&] { h.publish(QStringLiteral("j"), ++seq); });
    ticker.start(100);
    QVERIFY(quietOne.waitClosed());
    ticker.stop();
    QVERIFY(quietOne.comments.count(QString()) >= 2);
    QVERIFY(quietOne.comments.last().startsWith(QStringLiteral("idle timeout")));
    QVERIFY(quietOne.events.isEmpty());
    QCOMPARE(h.hub.counters().idleClosed, 1u);
    QVERIFY(!busy.closed);
    // Silence: now it idles out too.
    QVERIFY(busy.waitClosed());
    QCOMPARE(h.hub.counters().idleClosed, 2u);
    QCOMPARE(busy.events.size(), seq);
}

void tst_StreamHub::shutdownSaysGoodbye()
{
    Harness h(quiet());
    h.publish(QStringLiteral("j"), 1);
    Client job(h.server.serverPort(), "/job/j");
    Client user(h.server.serverPort(), "/user/alice");
    QVERIFY(job.waitEvents(1));
    QVERIFY(user.waitEvents(1));
    h.hub.shutdown();
    QVERIFY(job.waitClosed());
    QVERIFY(user.waitClosed());
    QVERIFY(job.comments.last().startsWith(QStringLiteral("server shutting down")));
    QVERIFY(user.comments.last().startsWith(QStringLiteral("server shutting down")));
    QCOMPARE(h.hub.counters().openJobStreams, 0);
    QCOMPARE(h.hub.counters().openUserStreams, 0);
    QCOMPARE(h.hub.counters().disconnects, 0u);
}

QTEST_GUILESS_MAIN(tst_StreamHub)
#include "tst_streamhub.moc"
