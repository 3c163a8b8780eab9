// ServerJobSource against the real clipdeck-server over 127.0.0.1: existing jobs on connect,
// uploads shown as "upload:" jobs and replaced by the server's job, actions and their errors, a
// refused token, resume without loss after the connection is cut, a server restart with a job
// deleted meanwhile (jobsReset), malformed events skipped, downloads of outputs.
//
// The source talks to the server through a small TCP proxy owned by the test, which can cut
// every connection or refuse new ones: outages without touching the server.

#include "mediafixtures.h"
#include "serverfixture.h"

#include "jobs/jobjson.h"
#include "client/serverjobsource.h"

#include <QCryptographicHash>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>

using namespace serverfixture;
using namespace clipdeck::jobs;
using namespace clipdeck::client;
using State = JobSource::ConnectionState;

namespace {

// Forwards 127.0.0.1:port() to the server, byte for byte.
class Proxy : public QObject
{
public:
    explicit Proxy(quint16 upstream) : m_upstream(upstream)
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = m_server.nextPendingConnection())
                accept(client);
        });
    }
    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(port())); }

    // Resets every connection at once, both ways.
    void cut()
    {
        const auto pairs = std::exchange(m_pairs, {});
        for (const auto &[client, server] : pairs) {
            client->disconnect(this);
            server->disconnect(this);
            client->abort();
            server->abort();
            client->deleteLater();
            server->deleteLater();
        }
    }
    // While blocked, connections are reset as soon as they arrive: the server is unreachable.
    void setBlocked(bool blocked)
    {
        m_blocked = blocked;
        if (blocked)
            cut();
    }
    // How many times the client side sent `needle` (request lines arrive whole on loopback).
    int sent(const QByteArray &needle) const { return m_sent.value(needle); }
    void count(const QByteArray &needle) { m_sent.insert(needle, 0); }

private:
    void accept(QTcpSocket *client)
    {
        client->setParent(this);
        if (m_blocked) {
            client->abort();
            client->deleteLater();
            return;
        }
        auto *server = new QTcpSocket(this);
        m_pairs.append(std::pair{client, server});
        connect(client, &QTcpSocket::readyRead, this, [this, client, server] {
            const QByteArray bytes = client->readAll();
            for (auto it = m_sent.begin(); it != m_sent.end(); ++it)
                *it += int(bytes.count(it.key()));
            server->write(bytes);
        });
        connect(server, &QTcpSocket::readyRead, this, [client, server] { client->write(server->readAll()); });
        const auto drop = [this, client, server] {
            m_pairs.removeIf([&](const auto &p) { return p.first == client; });
            client->disconnect(this);
            server->disconnect(this);
            client->disconnectFromHost();
            server->disconnectFromHost();
            client->deleteLater();
            server->deleteLater();
        };
        connect(client, &QTcpSocket::disconnected, this, drop);
        connect(server, &QTcpSocket::disconnected, this, drop);
        connect(server, &QTcpSocket::errorOccurred, this, [drop, client](QAbstractSocket::SocketError e) {
            if (e == QAbstractSocket::ConnectionRefusedError)
                client->abort();
            drop();
        });
        server->connectToHost(QHostAddress::LocalHost, m_upstream);
    }

    QTcpServer m_server;
    quint16 m_upstream;
    bool m_blocked = false;
    QList<std::pair<QTcpSocket *, QTcpSocket *>> m_pairs;
    QHash<QByteArray, int> m_sent;
};

// What a JobModel would hold, per the JobSource contract: the highest seq per job, rows dropped
// by jobsReset and jobRemoved, renamed by jobReplaced. Plus a log of everything.
struct Watch
{
    explicit Watch(ServerJobSource &source)
    {
        QObject::connect(&source, &JobSource::jobUpdated, &context, [this](const Job &job) {
            updates.append(job);
            seqs[job.id].append(job.seq);
            apply(job);
        });
        QObject::connect(&source, &JobSource::jobReplaced, &context, [this](const QString &old, const Job &job) {
            replaced.append({old, job});
            jobs.remove(old);
            apply(job);
        });
        QObject::connect(&source, &JobSource::jobsReset, &context, [this](const QList<Job> &list) {
            resets.append(list);
            QHash<QString, Job> next;
            for (const Job &job : list) {
                const Job mine = jobs.value(job.id);
                next.insert(job.id, mine.seq > job.seq ? mine : job);
            }
            jobs = next;
        });
        QObject::connect(&source, &JobSource::jobRemoved, &context, [this](const QString &id) {
            removed.append(id);
            jobs.remove(id);
        });
        QObject::connect(&source, &JobSource::submitFailed, &context, [this](const QString &token, const Error &e) {
            submitFailures.append({token, e});
        });
        QObject::connect(&source, &JobSource::actionFailed, &context,
                         [this](const QString &id, const QString &action, const Error &e) {
                             actionFailures.append({id, action, e});
                         });
        QObject::connect(&source, &JobSource::outputReady, &context,
                         [this](const QString &id, const QString &name, const QString &path) {
                             outputs.append({id, name, path});
                         });
        QObject::connect(&source, &JobSource::connectionStateChanged, &context, [this, &source] {
            if (states.isEmpty() || states.last() != source.connectionState())
                states.append(source.connectionState());
        });
    }

    void apply(const Job &job)
    {
        auto it = jobs.find(job.id);
        if (it == jobs.end() || it->seq < job.seq)
            jobs.insert(job.id, job);
    }
    Status status(const QString &id) const { return jobs.value(id).status; }
    bool has(const QString &id) const { return jobs.contains(id); }

    struct ActionFailure
    {
        QString jobId, action;
        Error error;
    };
    struct OutputReady
    {
        QString jobId, name, path;
    };

    QObject context;
    QHash<QString, Job> jobs;
    QHash<QString, QList<qint64>> seqs;
    QList<Job> updates;
    QList<std::pair<QString, Job>> replaced;
    QList<QList<Job>> resets;
    QStringList removed;
    QList<std::pair<QString, Error>> submitFailures;
    QList<ActionFailure> actionFailures;
    QList<OutputReady> outputs;
    QList<State> states;
};

bool contiguous(const QList<qint64> &seqs, qint64 from, qint64 to)
{
    QSet<qint64> seen(seqs.cbegin(), seqs.cend());
    for (qint64 s = from; s <= to; ++s) {
        if (!seen.contains(s)) {
            qWarning("seq %lld never arrived", s);
            return false;
        }
    }
    return true;
}

} // namespace

class tst_ServerJobSource : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void connectGetsExistingJobs();
    void malformedEventsSkipped();
    void submitUploadsThenReplaces();
    void submitFailures();
    void cancelUploadBeforeItStarts();
    void actions();
    void wrongTokenIsAuthFailedWithoutRetries();
    void notAServerIsOffline();
    void resumeAfterCutWithoutLoss();
    void serverRestartResetsDeletedJobs();
    void fetchOutput();

private:
    QString upload(ServerProcess &server, const User &user, const QString &path, const QByteArray &name);
    QString submitJob(ServerProcess &server, const User &user, const QString &mediaId, const QByteArray &kindAndParams);
    bool waitTerminal(ServerProcess &server, const User &user, const QString &jobId);

    QTemporaryDir m_dir;
    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<Proxy> m_proxy;
    Http m_http;
    QString m_clip;         // 4 s
    QString m_longClip;     // 30 s: a transcode that runs for a while
    QString m_completedJob; // alice's transcode from submitUploadsThenReplaces
};

QString tst_ServerJobSource::upload(ServerProcess &server, const User &user, const QString &path,
                                    const QByteArray &name)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const Reply r =
        m_http.send("POST", server.url(QStringLiteral("/api/media")), user.token, f.readAll(), {{"X-Filename", name}});
    if (r.status != 201)
        qWarning("upload: %d %s", r.status, r.body.constData());
    return r.json().value(QStringLiteral("id")).toString();
}

QString tst_ServerJobSource::submitJob(ServerProcess &server, const User &user, const QString &mediaId,
                                       const QByteArray &kindAndParams)
{
    const Reply r = m_http.postJson(server.url(QStringLiteral("/api/jobs")), user.token,
                                    "{\"mediaId\":\"" + mediaId.toUtf8() + "\"," + kindAndParams + "}");
    if (r.status != 202)
        qWarning("submit: %d %s", r.status, r.body.constData());
    return r.json().value(QStringLiteral("jobId")).toString();
}

bool tst_ServerJobSource::waitTerminal(ServerProcess &server, const User &user, const QString &jobId)
{
    return QTest::qWaitFor(
        [&] {
            const auto job =
                decodeJob(m_http.get(server.url(QStringLiteral("/api/jobs/") + jobId), user.token).body).job;
            return job && job->isTerminal();
        },
        WaitMs);
}

void tst_ServerJobSource::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    m_clip = fixtures::basicClip(4);
    m_longClip = fixtures::basicClip(30);
    QVERIFY(!m_clip.isEmpty() && !m_longClip.isEmpty());
    m_server = std::make_unique<ServerProcess>(m_dir.path() + QStringLiteral("/main"));
    QVERIFY(
        m_server->start({QStringLiteral("--heavy-workers"), QStringLiteral("2"), QStringLiteral("--bench-publish")}));
    m_proxy = std::make_unique<Proxy>(m_server->port());
}

void tst_ServerJobSource::cleanupTestCase()
{
    m_proxy.reset();
    if (m_server)
        QCOMPARE(m_server->terminate(), 0);
}

void tst_ServerJobSource::connectGetsExistingJobs()
{
    // bob has two finished jobs before the source starts.
    const QString media = upload(*m_server, bob, m_clip, "existing%20clip.mp4");
    QVERIFY(!media.isEmpty());
    const QString first = submitJob(*m_server, bob, media, "\"kind\":\"probe\"");
    const QString second = submitJob(*m_server, bob, media, "\"kind\":\"thumbnails\",\"params\":{\"count\":2}");
    QVERIFY(waitTerminal(*m_server, bob, first));
    QVERIFY(waitTerminal(*m_server, bob, second));

    ServerJobSource source(m_proxy->url(), QString::fromUtf8(bob.token));
    QCOMPARE(source.sourceId(), QStringLiteral("http://127.0.0.1:%1").arg(m_proxy->port()));
    QCOMPARE(source.displayName(), QStringLiteral("127.0.0.1:%1").arg(m_proxy->port()));
    QCOMPARE(source.connectionState(), State::Offline);
    Watch watch(source);
    source.start();
    QCOMPARE(source.connectionState(), State::Connecting);
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Connected, WaitMs);
    QVERIFY(source.errorString().isEmpty());
    QCOMPARE(source.reconnectInSeconds(), -1);
    QTRY_VERIFY_WITH_TIMEOUT(!watch.resets.isEmpty(), WaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(watch.has(first) && watch.has(second), WaitMs);
    QCOMPARE(watch.status(first), Status::Complete);
    QCOMPARE(watch.status(second), Status::Complete);
    QCOMPARE(watch.jobs.value(first).input, media);
    // The uploaded name, not the media id.
    QCOMPARE(source.clipName(watch.jobs.value(first)), QStringLiteral("existing clip.mp4"));
    // The first reset is the whole list, and nothing that is not bob's.
    QCOMPARE(watch.resets.first().size(), 2);

    // Live: a job made elsewhere arrives, every snapshot from seq 1.
    const QString third = submitJob(*m_server, bob, media, "\"kind\":\"probe\"");
    QTRY_COMPARE_WITH_TIMEOUT(watch.status(third), Status::Complete, WaitMs);
    QVERIFY(contiguous(watch.seqs.value(third), 1, watch.jobs.value(third).seq));
    QCOMPARE(source.malformedEventCount(), 0);
    QCOMPARE(watch.states, (QList<State>{State::Connecting, State::Connected}));
    source.stop();
    QCOMPARE(source.connectionState(), State::Offline);
}

void tst_ServerJobSource::malformedEventsSkipped()
{
    ServerJobSource source(m_proxy->url(), QString::fromUtf8(bob.token));
    Watch watch(source);
    source.start();
    QTRY_VERIFY_WITH_TIMEOUT(!watch.resets.isEmpty(), WaitMs);
    // The bench hook publishes raw bodies to bob's /api/events: not snapshots at all.
    const QUrl publish = m_server->url(QStringLiteral("/api/bench/jobs/junk/publish"));
    QCOMPARE(m_http.send("POST", publish, bob.token, "not json").status, 200);
    QCOMPARE(m_http.send("POST", publish, bob.token, "{\"v\":2,\"jobId\":\"junk\"}").status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(source.malformedEventCount(), 2, WaitMs);
    QCOMPARE(source.connectionState(), State::Connected);
    QVERIFY(!watch.has(QStringLiteral("junk")));
    // And the stream goes on.
    const QString media = upload(*m_server, bob, m_clip, "after-junk.mp4");
    const QString job = submitJob(*m_server, bob, media, "\"kind\":\"probe\"");
    QTRY_COMPARE_WITH_TIMEOUT(watch.status(job), Status::Complete, WaitMs);
    QCOMPARE(source.clipName(watch.jobs.value(job)), QStringLiteral("after-junk.mp4"));
}

void tst_ServerJobSource::submitUploadsThenReplaces()
{
    ServerJobSource source(m_proxy->url(), QString::fromUtf8(alice.token));
    Watch watch(source);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Connected, WaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!watch.resets.isEmpty(), WaitMs);

    const QString token = source.submit(
        {QStringLiteral("transcode"), m_clip, {{QStringLiteral("preset"), QStringLiteral("web-h264")}}, 3, {}});
    QVERIFY(!token.isEmpty());
    const QString uploadId = QStringLiteral("upload:") + token;
    // Shown at once, before any network answer.
    QCOMPARE(watch.updates.size(), 1);
    const Job shown = watch.updates.first();
    QCOMPARE(shown.id, uploadId);
    QCOMPARE(shown.seq, 1);
    QCOMPARE(shown.kind, QStringLiteral("transcode"));
    QCOMPARE(shown.status, Status::Running);
    QCOMPARE(shown.stage, QStringLiteral("uploading"));
    QCOMPARE(shown.input, m_clip);
    QCOMPARE(shown.priority, 3);
    QCOMPARE(source.clipName(shown), QFileInfo(m_clip).fileName());

    QTRY_COMPARE_WITH_TIMEOUT(watch.replaced.size(), 1, WaitMs);
    const auto [old, serverJob] = watch.replaced.first();
    QCOMPARE(old, uploadId);
    QVERIFY(!serverJob.id.startsWith(u"upload:"));
    QCOMPARE(serverJob.kind, QStringLiteral("transcode"));
    QCOMPARE(serverJob.priority, 3);
    QCOMPARE(serverJob.params.value(QStringLiteral("preset")).toString(), QStringLiteral("web-h264"));
    QVERIFY(!watch.has(uploadId));
    QVERIFY(watch.submitFailures.isEmpty());
    // The upload's snapshots: growing seq, progress never back, always "uploading".
    qint64 seq = 0;
    double progress = 0;
    for (const Job &j : std::as_const(watch.updates)) {
        if (j.id != uploadId)
            continue;
        QVERIFY(j.seq > seq);
        QVERIFY(j.progress >= progress && j.progress <= 100);
        QCOMPARE(j.stage, QStringLiteral("uploading"));
        QCOMPARE(j.status, Status::Running);
        seq = j.seq;
        progress = j.progress;
    }
    QVERIFY(seq >= 1);
    // The server job's events never came before the row was renamed (no second row).
    for (const Job &j : std::as_const(watch.updates)) {
        if (j.id == serverJob.id)
            QVERIFY(j.seq >= serverJob.seq);
    }

    QTRY_COMPARE_WITH_TIMEOUT(watch.status(serverJob.id), Status::Complete, WaitMs);
    const Job done = watch.jobs.value(serverJob.id);
    QVERIFY(!done.outputs.isEmpty());
    QCOMPARE(source.clipName(done), QFileInfo(m_clip).fileName());
    m_completedJob = done.id;
}

void tst_ServerJobSource::submitFailures()
{
    ServerJobSource source(m_proxy->url(), QString::fromUtf8(alice.token));
    Watch watch(source);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Connected, WaitMs);

    // A file that is not there: the upload's row ends failed with the reason.
    const QString missing =
        source.submit({QStringLiteral("probe"), m_dir.path() + QStringLiteral("/no such file.mp4"), {}, 0, {}});
    QTRY_COMPARE_WITH_TIMEOUT(watch.submitFailures.size(), 1, WaitMs);
    QCOMPARE(watch.submitFailures.first().first, missing);
    QCOMPARE(watch.submitFailures.first().second.code, QStringLiteral("file_not_found"));
    QVERIFY(watch.submitFailures.first().second.message.contains(u"no such file"));
    const Job failed = watch.jobs.value(QStringLiteral("upload:") + missing);
    QCOMPARE(failed.status, Status::Failed);
    QCOMPARE(failed.error->code, QStringLiteral("file_not_found"));

    // A file the server cannot read as media: its 422 code.
    const QString text = source.submit({QStringLiteral("probe"), fixtures::textFileNamedMp4(), {}, 0, {}});
    QTRY_COMPARE_WITH_TIMEOUT(watch.submitFailures.size(), 2, WaitMs);
    QCOMPARE(watch.submitFailures.last().first, text);
    QCOMPARE(watch.submitFailures.last().second.code, QStringLiteral("not_media"));
    QCOMPARE(watch.status(QStringLiteral("upload:") + text), Status::Failed);

    // A kind the server refuses: the media is up, the job is not.
    const QString kind = source.submit({QStringLiteral("juggle"), m_clip, {}, 0, {}});
    QTRY_COMPARE_WITH_TIMEOUT(watch.submitFailures.size(), 3, WaitMs);
    QCOMPARE(watch.submitFailures.last().first, kind);
    QCOMPARE(watch.submitFailures.last().second.code, QStringLiteral("unknown_kind"));
    QVERIFY(watch.replaced.isEmpty());

    // A failed upload's row goes on remove.
    source.remove(QStringLiteral("upload:") + missing);
    QVERIFY(!watch.has(QStringLiteral("upload:") + missing));
    QCOMPARE(watch.removed, QStringList{QStringLiteral("upload:") + missing});
}

void tst_ServerJobSource::cancelUploadBeforeItStarts()
{
    ServerJobSource source(m_proxy->url(), QString::fromUtf8(alice.token));
    Watch watch(source);
    const QString token = source.submit({QStringLiteral("probe"), m_clip, {}, 0, {}});
    const QString id = QStringLiteral("upload:") + token;
    source.cancel(id);
    QCOMPARE(watch.status(id), Status::Canceled);
    QCOMPARE(watch.submitFailures.size(), 1);
    QCOMPARE(watch.submitFailures.first().second.code, QStringLiteral("canceled"));
    // Nothing is uploaded afterwards, and a second cancel is refused.
    QTest::qWait(200);
    QVERIFY(watch.replaced.isEmpty());
    source.cancel(id);
    QTRY_COMPARE(watch.actionFailures.size(), 1);
    QCOMPARE(watch.actionFailures.first().error.code, QStringLiteral("invalid_state"));
}

void tst_ServerJobSource::actions()
{
    const QString media = upload(*m_server, alice, m_longClip, "long.mp4");
    QVERIFY(!media.isEmpty());
    ServerJobSource source(m_proxy->url(), QString::fromUtf8(alice.token));
    Watch watch(source);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Connected, WaitMs);
    const QString id =
        submitJob(*m_server, alice, media, "\"kind\":\"transcode\",\"params\":{\"preset\":\"web-h264\"}");
    QVERIFY(!id.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(watch.status(id), Status::Running, WaitMs);

    source.cancel(id);
    QTRY_COMPARE_WITH_TIMEOUT(watch.status(id), Status::Canceled, WaitMs);
    // An action the status does not allow: the server's 409, passed on.
    source.pause(id);
    QTRY_COMPARE_WITH_TIMEOUT(watch.actionFailures.size(), 1, WaitMs);
    QCOMPARE(watch.actionFailures.first().jobId, id);
    QCOMPARE(watch.actionFailures.first().action, QStringLiteral("pause"));
    QCOMPARE(watch.actionFailures.first().error.code, QStringLiteral("invalid_state"));
    QVERIFY(!watch.actionFailures.first().error.message.isEmpty());

    source.retry(id);
    QTRY_VERIFY_WITH_TIMEOUT(watch.jobs.value(id).attempt == 2 && !watch.jobs.value(id).isTerminal(), WaitMs);
    // A job that is not finished cannot be removed.
    source.remove(id);
    QTRY_COMPARE_WITH_TIMEOUT(watch.actionFailures.size(), 2, WaitMs);
    QCOMPARE(watch.actionFailures.last().action, QStringLiteral("remove"));
    QCOMPARE(watch.actionFailures.last().error.code, QStringLiteral("invalid_state"));
    source.cancel(id);
    QTRY_COMPARE_WITH_TIMEOUT(watch.status(id), Status::Canceled, WaitMs);
    source.remove(id);
    QTRY_COMPARE_WITH_TIMEOUT(watch.removed, QStringList{id}, WaitMs);
    QVERIFY(!watch.has(id));
    // Gone: not_found.
    source.resume(id);
    QTRY_COMPARE_WITH_TIMEOUT(watch.actionFailures.size(), 3, WaitMs);
    QCOMPARE(watch.actionFailures.last().error.code, QStringLiteral("not_found"));
    // Every seq of the job arrived, across cancel, retry and cancel.
    const QList<qint64> seqs = watch.seqs.value(id);
    QVERIFY(contiguous(seqs, 1, *std::max_element(seqs.cbegin(), seqs.cend())));
}

void tst_ServerJobSource::wrongTokenIsAuthFailedWithoutRetries()
{
    m_proxy->count("GET /api/events");
    m_proxy->count("GET /api/media");
    ServerJobSource source(m_proxy->url(), QStringLiteral("not-a-token"));
    Watch watch(source);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::AuthFailed, WaitMs);
    QVERIFY(source.errorString().contains(u"token"));
    QCOMPARE(source.reconnectInSeconds(), -1);
    const int attempts = m_proxy->sent("GET /api/events") + m_proxy->sent("GET /api/media");
    QVERIFY(attempts >= 1 && attempts <= 2);
    // Longer than the longest first reconnect delay (3 s): nothing is tried again.
    QTest::qWait(4000);
    QCOMPARE(m_proxy->sent("GET /api/events") + m_proxy->sent("GET /api/media"), attempts);
    QCOMPARE(source.connectionState(), State::AuthFailed);
    QVERIFY(!watch.states.contains(State::Reconnecting));
}

void tst_ServerJobSource::notAServerIsOffline()
{
    // A base URL where no API answers: the stream's 404 is fatal, not worth retrying.
    ServerJobSource source(m_proxy->url().resolved(QUrl(QStringLiteral("/elsewhere/"))),
                           QString::fromUtf8(alice.token));
    QCOMPARE(source.sourceId(), QStringLiteral("http://127.0.0.1:%1/elsewhere").arg(m_proxy->port()));
    Watch watch(source);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Offline, WaitMs);
    QVERIFY(source.errorString().contains(u"404"));
    QVERIFY(!watch.states.contains(State::Reconnecting));
}

void tst_ServerJobSource::resumeAfterCutWithoutLoss()
{
    const QString media = upload(*m_server, carol, m_longClip, "long.mp4");
    QVERIFY(!media.isEmpty());
    ServerJobSource source(m_proxy->url(), QString::fromUtf8(carol.token));
    Watch watch(source);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Connected, WaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(watch.resets.size(), 1, WaitMs);
    const QString id =
        submitJob(*m_server, carol, media, "\"kind\":\"transcode\",\"params\":{\"preset\":\"web-h264\"}");
    QTRY_COMPARE_WITH_TIMEOUT(watch.status(id), Status::Running, WaitMs);

    // Cut off while the job changes: the events in between come back as a replay.
    m_proxy->setBlocked(true);
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Reconnecting, WaitMs);
    QVERIFY(source.reconnectInSeconds() >= 0);
    QVERIFY(!source.errorString().isEmpty());
    const qint64 before = watch.jobs.value(id).seq;
    QCOMPARE(m_http.send("POST", m_server->url(QStringLiteral("/api/jobs/%1/pause").arg(id)), carol.token).status, 200);
    QCOMPARE(m_http.send("POST", m_server->url(QStringLiteral("/api/jobs/%1/resume").arg(id)), carol.token).status,
             200);
    QCOMPARE(watch.jobs.value(id).seq, before);
    m_proxy->setBlocked(false);
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Connected, WaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(watch.jobs.value(id).seq >= before + 2, WaitMs);

    // Two more cuts mid-stream, without blocking: straight back.
    for (int i = 0; i < 2 && !watch.jobs.value(id).isTerminal(); ++i) {
        const qint64 seen = watch.jobs.value(id).seq;
        m_proxy->cut();
        QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Reconnecting, WaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Connected, WaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(watch.jobs.value(id).seq > seen || watch.jobs.value(id).isTerminal(), WaitMs);
    }
    QTRY_COMPARE_WITH_TIMEOUT(watch.status(id), Status::Complete, WaitMs);
    QVERIFY(contiguous(watch.seqs.value(id), 1, watch.jobs.value(id).seq));
    // A short outage in the same server process is replayed: no second full fetch.
    QCOMPARE(watch.resets.size(), 1);
    QVERIFY(watch.states.count(State::Reconnecting) >= 2);
}

void tst_ServerJobSource::serverRestartResetsDeletedJobs()
{
    ServerProcess server(m_dir.path() + QStringLiteral("/restart"));
    QVERIFY(server.start());
    const quint16 port = server.port();
    Proxy proxy(port);
    const QString media = upload(server, dave, m_clip, "restart.mp4");
    const QString keep = submitJob(server, dave, media, "\"kind\":\"probe\"");
    const QString doomed = submitJob(server, dave, media, "\"kind\":\"probe\"");
    QVERIFY(waitTerminal(server, dave, keep));
    QVERIFY(waitTerminal(server, dave, doomed));

    ServerJobSource source(proxy.url(), QString::fromUtf8(dave.token));
    Watch watch(source);
    source.start();
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Connected, WaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(watch.resets.size(), 1, WaitMs);
    QVERIFY(watch.has(keep) && watch.has(doomed));

    QCOMPARE(server.terminate(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Reconnecting, WaitMs);
    proxy.setBlocked(true);
    QVERIFY(server.start({QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port)}));
    QCOMPARE(server.port(), port);
    // Deleted by another client while the source cannot see it: no event ever says so.
    QCOMPARE(m_http.send("DELETE", server.url(QStringLiteral("/api/jobs/") + doomed), dave.token).status, 204);
    const QString added = submitJob(server, dave, media, "\"kind\":\"probe\"");
    QVERIFY(waitTerminal(server, dave, added));
    QCOMPARE(source.connectionState(), State::Reconnecting);
    proxy.setBlocked(false);

    QTRY_COMPARE_WITH_TIMEOUT(source.connectionState(), State::Connected, WaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(watch.resets.size(), 2, WaitMs);
    QSet<QString> ids;
    for (const Job &j : watch.resets.last())
        ids.insert(j.id);
    QCOMPARE(ids, (QSet<QString>{keep, added}));
    QVERIFY(!watch.has(doomed));
    QTRY_COMPARE_WITH_TIMEOUT(watch.status(added), Status::Complete, WaitMs);
    QCOMPARE(watch.status(keep), Status::Complete);
    QCOMPARE(source.clipName(watch.jobs.value(added)), QStringLiteral("restart.mp4"));
    source.stop();
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerJobSource::fetchOutput()
{
    QVERIFY2(!m_completedJob.isEmpty(), "needs submitUploadsThenReplaces");
    ServerJobSource source(m_proxy->url(), QString::fromUtf8(alice.token));
    Watch watch(source);
    source.start();
    QTRY_VERIFY_WITH_TIMEOUT(watch.has(m_completedJob), WaitMs);
    const Job job = watch.jobs.value(m_completedJob);
    QVERIFY(!job.outputs.isEmpty());
    const Output output = job.outputs.first();
    QDir(source.outputCacheDir()).removeRecursively();

    m_proxy->count("/outputs/");
    source.fetchOutput(job.id, output.name);
    QTRY_COMPARE_WITH_TIMEOUT(watch.outputs.size(), 1, WaitMs);
    QCOMPARE(watch.outputs.first().jobId, job.id);
    QCOMPARE(watch.outputs.first().name, output.name);
    const QString path = watch.outputs.first().path;
    QVERIFY(path.startsWith(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)
                            + QStringLiteral("/outputs/127.0.0.1_")));
    QVERIFY(path.endsWith(QLatin1Char('/') + job.id + QLatin1Char('/') + output.name));
    QFile local(path);
    QVERIFY(local.open(QIODevice::ReadOnly));
    const Reply direct = m_http.get(m_server->url(output.path), alice.token);
    QCOMPARE(direct.status, 200);
    QCOMPARE(local.size(), output.size);
    QCOMPARE(QCryptographicHash::hash(local.readAll(), QCryptographicHash::Sha256),
             QCryptographicHash::hash(direct.body, QCryptographicHash::Sha256));
    QCOMPARE(m_proxy->sent("/outputs/"), 1);
    // No temporary file left beside it.
    QCOMPARE(QDir(QFileInfo(path).path()).entryList(QDir::Files), QStringList{output.name});

    // Once there, reused.
    source.fetchOutput(job.id, output.name);
    QTRY_COMPARE_WITH_TIMEOUT(watch.outputs.size(), 2, WaitMs);
    QCOMPARE(watch.outputs.last().path, path);
    QCOMPARE(m_proxy->sent("/outputs/"), 1);

    // No such output, and a name that would leave the cache folder.
    source.fetchOutput(job.id, QStringLiteral("nothing.mp4"));
    QTRY_COMPARE_WITH_TIMEOUT(watch.actionFailures.size(), 1, WaitMs);
    QCOMPARE(watch.actionFailures.first().action, QStringLiteral("fetch"));
    QCOMPARE(watch.actionFailures.first().error.code, QStringLiteral("output_not_found"));
    QVERIFY(!QFile::exists(QFileInfo(path).path() + QStringLiteral("/nothing.mp4")));
    source.fetchOutput(job.id, QStringLiteral("../escape"));
    QTRY_COMPARE_WITH_TIMEOUT(watch.actionFailures.size(), 2, WaitMs);
    QCOMPARE(watch.actionFailures.last().error.code, QStringLiteral("output_not_found"));
}

QTEST_GUILESS_MAIN(tst_ServerJobSource)
#include "tst_serverjobsource.moc"
