// ServerJobSource's REST calls and redirects (issue #15, "the same class next to it"): the
// access token, a cookie and an upload must never follow a redirect to another origin. Against
// scripted servers on 127.0.0.1: another port is another origin.

#include "client/serverjobsource.h"
#include "scriptedhttpserver.h"

#include <QSignalSpy>
#include <QTemporaryFile>
#include <QTest>

using clipdeck::client::JobSubmission;
using clipdeck::client::ServerJobSource;
using testsupport::HttpScript;
using testsupport::ScriptedHttpServer;

class tst_ServerJobSourceRedirects : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void restCallsDoNotFollowToAnotherOrigin_data();
    void restCallsDoNotFollowToAnotherOrigin();
    void sameOriginRedirectsAreFollowed();
};

void tst_ServerJobSourceRedirects::restCallsDoNotFollowToAnotherOrigin_data()
{
    QTest::addColumn<int>("status");
    for (int status : {301, 302, 303, 307, 308})
        QTest::addRow("%d", status) << status;
}

// GET /api/media and GET /api/jobs (start) and POST /api/media (an upload) are each redirected
// to another origin: nothing at all reaches it, so neither the token nor the file does.
void tst_ServerJobSourceRedirects::restCallsDoNotFollowToAnotherOrigin()
{
    QFETCH(int, status);
    ScriptedHttpServer server;
    ScriptedHttpServer elsewhere;
    elsewhere.setFallback(HttpScript::reply(200, "[]", "application/json"));
    for (const char *path : {"/api/media", "/api/jobs"}) {
        server.enqueue(HttpScript::redirect(status, elsewhere.url(QString::fromLatin1(path)).toEncoded()), path);
        server.enqueue(HttpScript::redirect(status, elsewhere.url(QString::fromLatin1(path)).toEncoded()), path);
    }
    server.enqueue(HttpScript::stream().send("retry: 60000\n\n"), "/api/events");

    ServerJobSource source(server.url(), QStringLiteral("s3cret-token"));
    source.start();
    QTRY_VERIFY(server.requests().size() >= 3); // media, events, jobs

    QTemporaryFile clip;
    QVERIFY(clip.open());
    clip.write(QByteArray(64 * 1024, 'v'));
    clip.flush();
    QSignalSpy failed(&source, &ServerJobSource::submitFailed);
    source.submit(JobSubmission{QStringLiteral("probe"), clip.fileName(), {}, 0, {}});
    QTRY_COMPARE(failed.size(), 1);

    bool uploaded = false;
    for (const auto &r : server.requests()) {
        QCOMPARE(r.header("Authorization"), QByteArray("Bearer s3cret-token"));
        uploaded |= r.method == "POST" && r.path() == "/api/media";
    }
    QVERIFY(uploaded);
    QTest::qWait(100); // a followed redirect would have reached the other server by now
    QCOMPARE(elsewhere.requests().size(), 0);
    source.stop();
}

void tst_ServerJobSourceRedirects::sameOriginRedirectsAreFollowed()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::redirect(308, "/v2/api/jobs"), "/api/jobs");
    server.enqueue(HttpScript::reply(200, "{\"jobs\":[]}", "application/json"), "/v2/api/jobs");
    server.setFallback(HttpScript::reply(200, "{\"media\":[]}", "application/json"));
    server.enqueue(HttpScript::stream().send("retry: 60000\n\n"), "/api/events");
    ServerJobSource source(server.url(), QStringLiteral("s3cret-token"));
    source.start();
    QTRY_VERIFY(std::any_of(server.requests().cbegin(), server.requests().cend(),
                            [](const auto &r) { return r.path() == "/v2/api/jobs"; }));
    for (const auto &r : server.requests())
        QCOMPARE(r.header("Authorization"), QByteArray("Bearer s3cret-token"));
    source.stop();
}

QTEST_GUILESS_MAIN(tst_ServerJobSourceRedirects)
#include "tst_serverjobsourceredirects.moc"
