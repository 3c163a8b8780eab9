// clipdeck-server's life: first start (token file), configuration errors, restarts keeping jobs,
// media and outputs, kill -9 in the middle of a job, and a clean SIGTERM shutdown with streams
// open and a job running.

#include "mediafixtures.h"
#include "serverfixture.h"

#include <QJsonArray>
#include <QTemporaryDir>

using namespace serverfixture;
using clipdeck::jobs::Job;
using clipdeck::jobs::Status;

class tst_ServerLifecycle : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void firstStartCreatesToken();
    void configErrors();
    void configFileAndEnvironment();
    void restartKeepsJobsMediaAndOutputs();
    void killedMidJobComesBackInterrupted();
    void sigtermShutsDownCleanly();

private:
    QString uploadClip(ServerProcess &server, const User &user, const QString &path);
    Job fetch(ServerProcess &server, const User &user, const QString &id);
    struct Run
    {
        int exitCode = -1;
        QByteArray output;
    };
    Run runServer(const QStringList &args, const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());

    QTemporaryDir m_dir;
    Http m_http;
    QString m_clip;
    QString m_longClip;
};

QString tst_ServerLifecycle::uploadClip(ServerProcess &server, const User &user, const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const Reply r = m_http.send("POST", server.url(QStringLiteral("/api/media")), user.token, f.readAll(),
                                {{"X-Filename", "clip.mp4"}});
    return r.status == 201 ? r.json().value(QStringLiteral("id")).toString() : QString();
}

Job tst_ServerLifecycle::fetch(ServerProcess &server, const User &user, const QString &id)
{
    return clipdeck::jobs::decodeJob(m_http.get(server.url(QStringLiteral("/api/jobs/") + id), user.token).body)
        .job.value_or(Job());
}

tst_ServerLifecycle::Run tst_ServerLifecycle::runServer(const QStringList &args, const QProcessEnvironment &env)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(serverPath(), args);
    Run r;
    if (!p.waitForStarted(10000))
        return r;
    if (!QTest::qWaitFor([&] { return p.state() == QProcess::NotRunning; }, WaitMs)) {
        p.kill();
        p.waitForFinished();
    }
    r.output = p.readAll();
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return r;
}

void tst_ServerLifecycle::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_clip = fixtures::basicClip(4);
    m_longClip = fixtures::basicClip(30);
    QVERIFY(!m_clip.isEmpty() && !m_longClip.isEmpty());
}

void tst_ServerLifecycle::firstStartCreatesToken()
{
    const QString data = m_dir.path() + QStringLiteral("/first");
    ServerProcess server(data);
    QVERIFY(server.start({}, false));
    const QString tokens = data + QStringLiteral("/tokens");
    QVERIFY2(server.output().contains("access token written to " + tokens.toUtf8()), server.output().constData());
    QFile file(tokens);
    QCOMPARE(
        file.permissions()
            & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther),
        QFileDevice::Permissions());
    QVERIFY(file.open(QIODevice::ReadOnly));
    QByteArray token;
    for (const QByteArray &line : file.readAll().split('\n')) {
        if (!line.startsWith('#') && !line.isEmpty()) {
            const QList<QByteArray> parts = line.split(' ');
            QCOMPARE(parts.value(1), QByteArray("local"));
            token = parts.value(0);
        }
    }
    QVERIFY(token.size() >= 40);
    QVERIFY(!server.output().contains(token)); // the token itself is never printed
    QCOMPARE(m_http.get(server.url(QStringLiteral("/api/jobs")), token).status, 200);
    QCOMPARE(server.terminate(), 0);

    // The second start keeps it.
    QVERIFY(server.start({}, false));
    QVERIFY(!server.output().contains("access token written"));
    QCOMPARE(m_http.get(server.url(QStringLiteral("/api/jobs")), token).status, 200);
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerLifecycle::configErrors()
{
    const QString data = m_dir.path() + QStringLiteral("/errors");
    Run r = runServer({QStringLiteral("--no-such-flag")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.output.contains("unknown option --no-such-flag"));
    r = runServer({QStringLiteral("--data-dir"), data, QStringLiteral("--listen"), QStringLiteral("nowhere")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.output.contains("listen must be HOST:PORT"));
    r = runServer({QStringLiteral("--heartbeat"), QStringLiteral("soon")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.output.contains("heartbeat"));
    QFile config(m_dir.path() + QStringLiteral("/bad.conf"));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write("# comment\nheartbeat = 5\nheartbaet = 5\n");
    config.close();
    r = runServer({QStringLiteral("--config"), config.fileName()});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.output.contains("bad.conf:3: unknown key \"heartbaet\""), r.output.constData());
    r = runServer({QStringLiteral("--data-dir"), data, QStringLiteral("--tokens"),
                   m_dir.path() + QStringLiteral("/missing-tokens")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.output.contains("cannot read the token file"));
    r = runServer({QStringLiteral("--help")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.output.contains("--max-streams-per-user"));
    QVERIFY(r.output.contains("--bench-publish"));
}

void tst_ServerLifecycle::configFileAndEnvironment()
{
    // max-upload from the config file, overridden by the environment, overridden by a flag.
    QFile config(m_dir.path() + QStringLiteral("/server.conf"));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write("max-upload = 10\ncors-origin = https://a.example\n");
    config.close();
    const QString data = m_dir.path() + QStringLiteral("/configured");
    {
        ServerProcess server(data);
        QVERIFY(server.start({QStringLiteral("--config"), config.fileName()}));
        const Reply r = m_http.send("POST", server.url(QStringLiteral("/api/media")), alice.token, QByteArray(11, 'x'),
                                    {{"X-Filename", "a.mp4"}});
        QCOMPARE(r.status, 413);
        QCOMPARE(m_http.get(server.url(QStringLiteral("/healthz")), {}, {{"Origin", "https://a.example"}})
                     .header("Access-Control-Allow-Origin"),
                 QByteArray("https://a.example"));
        QCOMPARE(server.terminate(), 0);
    }
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("CLIPDECK_MAX_UPLOAD"), QStringLiteral("20M"));
        ServerProcess server(data);
        server.process().setProcessEnvironment(env);
        QVERIFY(server.start({QStringLiteral("--config"), config.fileName()}));
        QCOMPARE(uploadClip(server, alice, m_clip).isEmpty(), false); // ~400 kB passes 20M
        QCOMPARE(server.terminate(), 0);
        QVERIFY(server.start({QStringLiteral("--config"), config.fileName(), QStringLiteral("--max-upload=100")}));
        const Reply r = m_http.send("POST", server.url(QStringLiteral("/api/media")), alice.token, QByteArray(101, 'x'),
                                    {{"X-Filename", "a.mp4"}});
        QCOMPARE(r.status, 413);
        QCOMPARE(server.terminate(), 0);
    }
}

void tst_ServerLifecycle::restartKeepsJobsMediaAndOutputs()
{
    const QString data = m_dir.path() + QStringLiteral("/restart");
    ServerProcess server(data);
    QVERIFY(server.start());
    const QString media = uploadClip(server, alice, m_clip);
    QVERIFY(!media.isEmpty());
    SseClient events(server.port(), "/api/events", bearer(alice));
    QVERIFY(events.waitOpen());
    const Reply submitted =
        m_http.postJson(server.url(QStringLiteral("/api/jobs")), alice.token,
                        "{\"kind\":\"thumbnails\",\"mediaId\":\"" + media.toUtf8() + "\",\"params\":{\"count\":2}}");
    QCOMPARE(submitted.status, 202);
    const QString id = submitted.json().value(QStringLiteral("jobId")).toString();
    QVERIFY(
        QTest::qWaitFor([&] { return !events.events.isEmpty() && jobOf(events.events.last())->isTerminal(); }, WaitMs));
    const Job done = jobOf(events.events.last()).value();
    QCOMPARE(done.status, Status::Complete);
    const QString oldCursor = events.lastEventId();
    const QByteArray output = m_http.get(server.url(done.outputs.first().path), alice.token).body;
    QVERIFY(!output.isEmpty());
    QCOMPARE(server.terminate(), 0);
    QVERIFY(events.waitClosed());
    QVERIFY(events.comments.last().startsWith(QStringLiteral("server shutting down")));

    QVERIFY(server.start());
    // The job, its snapshot, its outputs, the media: all still there.
    QCOMPARE(fetch(server, alice, id), done);
    QCOMPARE(m_http.get(server.url(done.outputs.first().path), alice.token).body, output);
    QCOMPARE(m_http.get(server.url(QStringLiteral("/api/media/") + media), alice.token).status, 200);
    const QJsonArray jobs = m_http.get(server.url(QStringLiteral("/api/jobs?status=complete")), alice.token)
                                .json()
                                .value(QStringLiteral("jobs"))
                                .toArray();
    QCOMPARE(jobs.size(), 1);
    // Ownership survived too.
    QCOMPARE(m_http.get(server.url(QStringLiteral("/api/jobs/") + id), bob.token).status, 404);

    // The old cursor is of another epoch: fresh snapshots, the finished job among them.
    SseClient resumed(server.port(), "/api/events",
                      bearer(alice) + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", oldCursor.toUtf8()}});
    QVERIFY(resumed.waitEvents(1));
    QCOMPARE(jobOf(resumed.events.last()).value(), done);
    QVERIFY(!resumed.lastEventId().startsWith(oldCursor.section(u'-', 0, 0) + u'-'));
    // A job stream resumed at the end: 204. Behind it, with no history from before the
    // restart: the current snapshot.
    SseClient atEnd(server.port(), "/api/jobs/" + id.toUtf8() + "/stream",
                    bearer(alice)
                        + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", QByteArray::number(done.seq)}});
    QVERIFY(atEnd.waitClosed());
    QCOMPARE(atEnd.status, 204);
    SseClient behind(
        server.port(), "/api/jobs/" + id.toUtf8() + "/stream",
        bearer(alice) + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", QByteArray::number(done.seq - 3)}});
    QVERIFY(behind.waitClosed());
    QCOMPARE(behind.events.size(), 1);
    QCOMPARE(jobOf(behind.events.first()).value(), done);

    // And it goes on working.
    const Reply again = m_http.postJson(server.url(QStringLiteral("/api/jobs")), alice.token,
                                        "{\"kind\":\"probe\",\"mediaId\":\"" + media.toUtf8() + "\"}");
    QCOMPARE(again.status, 202);
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerLifecycle::killedMidJobComesBackInterrupted()
{
    const QString data = m_dir.path() + QStringLiteral("/kill");
    ServerProcess server(data);
    QVERIFY(server.start());
    const QString media = uploadClip(server, alice, m_longClip);
    const Reply submitted = m_http.postJson(server.url(QStringLiteral("/api/jobs")), alice.token,
                                            "{\"kind\":\"transcode\",\"mediaId\":\"" + media.toUtf8() + "\"}");
    const QString id = submitted.json().value(QStringLiteral("jobId")).toString();
    {
        SseClient stream(server.port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(alice));
        QVERIFY(QTest::qWaitFor([&] { return !stream.events.isEmpty() && jobOf(stream.events.last())->progress > 0; },
                                WaitMs));
        QCOMPARE(jobOf(stream.events.last())->status, Status::Running);
        server.killHard();
        QVERIFY(stream.waitClosed());
    }
    QVERIFY(server.start());
    const Job back = fetch(server, alice, id);
    QCOMPARE(back.status, Status::Failed);
    QVERIFY(back.error.has_value());
    QCOMPARE(back.error->code, QStringLiteral("interrupted"));
    SseClient stream(server.port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(alice));
    QVERIFY(stream.waitClosed());
    QCOMPARE(jobOf(stream.events.last()).value(), back);
    const Reply retried = m_http.send("POST", server.url(QStringLiteral("/api/jobs/%1/retry").arg(id)), alice.token);
    QCOMPARE(retried.status, 200);
    QCOMPARE(clipdeck::jobs::decodeJob(retried.body).job->attempt, 2);
    QCOMPARE(m_http.send("POST", server.url(QStringLiteral("/api/jobs/%1/cancel").arg(id)), alice.token).status, 200);
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerLifecycle::sigtermShutsDownCleanly()
{
    const QString data = m_dir.path() + QStringLiteral("/term");
    ServerProcess server(data);
    QVERIFY(server.start());
    const QString media = uploadClip(server, alice, m_longClip);
    const Reply submitted = m_http.postJson(server.url(QStringLiteral("/api/jobs")), alice.token,
                                            "{\"kind\":\"transcode\",\"mediaId\":\"" + media.toUtf8() + "\"}");
    const QString id = submitted.json().value(QStringLiteral("jobId")).toString();
    SseClient stream(server.port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(alice));
    SseClient events(server.port(), "/api/events", bearer(alice));
    QVERIFY(
        QTest::qWaitFor([&] { return !stream.events.isEmpty() && jobOf(stream.events.last())->progress > 0; }, WaitMs));
    QVERIFY(events.waitOpen());

    QCOMPARE(server.terminate(), 0);
    QVERIFY(server.output().contains("SIGTERM, shutting down"));
    QVERIFY(server.output().contains("clipdeck-server: stopped"));
    // The job stream got the job's end — interrupted — and was closed after it.
    QVERIFY(stream.waitClosed());
    const Job last = jobOf(stream.events.last()).value();
    QCOMPARE(last.status, Status::Failed);
    QCOMPARE(last.error->code, QStringLiteral("interrupted"));
    // The user stream got the same event, then the server's goodbye.
    QVERIFY(events.waitClosed());
    QCOMPARE(jobOf(events.events.last()).value(), last);
    QVERIFY(events.comments.last().startsWith(QStringLiteral("server shutting down")));

    // It was recorded so.
    QVERIFY(server.start());
    QCOMPARE(fetch(server, alice, id), last);
    QCOMPARE(server.terminate(), 0);
}

QTEST_GUILESS_MAIN(tst_ServerLifecycle)
#include "tst_server_lifecycle.moc"
