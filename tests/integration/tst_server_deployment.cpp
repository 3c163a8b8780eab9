// clipdeck-server as an operator runs it (installer/, docs/deployment.md): behind a reverse proxy
// whose X-Forwarded-For/-Proto it believes only from --trusted-proxy addresses (the access log
// shows the client), and `systemctl reload` (SIGHUP) reading the tokens file again. Real process,
// real HTTP over 127.0.0.0/8: other loopback addresses stand for the proxy and for clients.

#include "serverfixture.h"

#include <QTemporaryDir>

using namespace serverfixture;

namespace {

const QHostAddress proxyAddress(QStringLiteral("127.0.0.2"));
const QHostAddress clientAddress(QStringLiteral("127.0.0.3"));

} // namespace

class tst_ServerDeployment : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void forwardedForFromTrustedProxyOnly();
    void withoutTrustedProxiesNoHeaderCounts();
    void sighupReloadsTokens();

private:
    // GET path from `from` with extra header lines; waits for the complete answer.
    int get(ServerProcess &server, const QHostAddress &from, const QByteArray &path, const QByteArray &headers = {});
    // Waits for an access-log line that ends the given request and returns it.
    QByteArray waitAccessLine(ServerProcess &server, const QByteArray &methodAndPath);

    QTemporaryDir m_dir;
    Http m_http;
};

void tst_ServerDeployment::initTestCase()
{
    QVERIFY(m_dir.isValid());
}

int tst_ServerDeployment::get(ServerProcess &server, const QHostAddress &from, const QByteArray &path,
                              const QByteArray &headers)
{
    RawClient client(server.port(), 0, from);
    if (!client.waitConnected())
        return 0;
    client.socket.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + "\r\n");
    client.waitClosed();
    return client.status();
}

QByteArray tst_ServerDeployment::waitAccessLine(ServerProcess &server, const QByteArray &methodAndPath)
{
    QByteArray found;
    [[maybe_unused]] const bool seen = QTest::qWaitFor(
        [&] {
            for (const QByteArray &line : server.output().split('\n')) {
                if (line.startsWith("clipdeck.server.access: ") && line.contains(" " + methodAndPath + " "))
                    found = line;
            }
            return !found.isEmpty();
        },
        WaitMs);
    return found;
}

void tst_ServerDeployment::forwardedForFromTrustedProxyOnly()
{
    ServerProcess server(m_dir.filePath(QStringLiteral("proxied")));
    QVERIFY(server.start({QStringLiteral("--trusted-proxy"), proxyAddress.toString(), QStringLiteral("--access-log")}));

    // Through the proxy: the address it forwards, and the scheme it says the client used.
    QCOMPARE(get(server, proxyAddress, "/healthz?via=proxy",
                 "X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Proto: https\r\n"),
             200);
    QByteArray line = waitAccessLine(server, "GET /healthz");
    QVERIFY2(line.contains("clipdeck.server.access: 198.51.100.7 https GET /healthz 200 "), line.constData());

    // A proxy that appends: the client's own claim (left) is not believed, the proxy's entry is.
    QCOMPARE(get(server, proxyAddress, "/metrics", "X-Forwarded-For: 203.0.113.66, 198.51.100.8\r\n"), 200);
    line = waitAccessLine(server, "GET /metrics");
    QVERIFY2(line.contains(": 198.51.100.8 http GET /metrics 200 "), line.constData());

    // Straight from a client that is not a trusted proxy: its headers are ignored.
    QCOMPARE(get(server, clientAddress, "/api/jobs", "X-Forwarded-For: 198.51.100.9\r\nX-Forwarded-Proto: https\r\n"),
             401);
    line = waitAccessLine(server, "GET /api/jobs");
    QVERIFY2(line.contains(": 127.0.0.3 http GET /api/jobs 401 "), line.constData());
    QVERIFY(!server.output().contains("198.51.100.9"));
    // The query string is never logged (it may hold an access token).
    QVERIFY(!server.output().contains("via=proxy"));
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerDeployment::withoutTrustedProxiesNoHeaderCounts()
{
    ServerProcess server(m_dir.filePath(QStringLiteral("direct")));
    QVERIFY(server.start({QStringLiteral("--access-log")}));
    QCOMPARE(get(server, proxyAddress, "/healthz", "X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Proto: https\r\n"),
             200);
    const QByteArray line = waitAccessLine(server, "GET /healthz");
    QVERIFY2(line.contains(": 127.0.0.2 http GET /healthz 200 "), line.constData());
    QCOMPARE(server.terminate(), 0);

    // And without --access-log there is no access log.
    ServerProcess quiet(m_dir.filePath(QStringLiteral("quiet")));
    QVERIFY(quiet.start());
    QCOMPARE(get(quiet, proxyAddress, "/healthz"), 200);
    QCOMPARE(quiet.terminate(), 0);
    QVERIFY2(!quiet.output().contains("clipdeck.server.access"), quiet.output().constData());
}

void tst_ServerDeployment::sighupReloadsTokens()
{
    ServerProcess server(m_dir.filePath(QStringLiteral("reload")));
    QVERIFY(server.start());
    const QUrl jobs = server.url(QStringLiteral("/api/jobs"));
    QCOMPARE(m_http.get(jobs, alice.token).status, 200);
    const QByteArray newToken = "erin-token-0123456789abcdefgh";
    QCOMPARE(m_http.get(jobs, newToken).status, 401);

    // alice's token revoked, erin's added: the file is replaced as an admin's editor would.
    auto writeTokens = [&](const QByteArray &content) {
        QFile tokens(server.tokensFile());
        QVERIFY(tokens.open(QIODevice::WriteOnly | QIODevice::Truncate));
        tokens.write(content);
    };
    writeTokens("# edited\n" + bob.token + " bob\n" + newToken + " erin\n");
    ::kill(pid_t(server.pid()), SIGHUP);
    QVERIFY2(QTest::qWaitFor([&] { return server.output().contains("SIGHUP, 2 token(s) loaded from"); }, WaitMs),
             server.output().constData());
    QCOMPARE(m_http.get(jobs, newToken).status, 200);
    QCOMPARE(m_http.get(jobs, bob.token).status, 200);
    QCOMPARE(m_http.get(jobs, alice.token).status, 401);

    // A broken file is reported (with its line, without the token) and changes nothing.
    writeTokens(bob.token + " bob\nshort carol\n");
    ::kill(pid_t(server.pid()), SIGHUP);
    QVERIFY2(QTest::qWaitFor([&] { return server.output().contains("token file not reloaded"); }, WaitMs),
             server.output().constData());
    QVERIFY2(server.output().contains("keeping the 2 token(s) in force: " + server.tokensFile().toUtf8() + ":2: "),
             server.output().constData());
    QVERIFY(!server.output().contains("short"));
    QCOMPARE(m_http.get(jobs, newToken).status, 200);
    QCOMPARE(m_http.get(jobs, bob.token).status, 200);

    // The process is still the one that started, and stops cleanly.
    QCOMPARE(server.process().state(), QProcess::Running);
    QCOMPARE(server.terminate(), 0);
}

QTEST_GUILESS_MAIN(tst_ServerDeployment)
#include "tst_server_deployment.moc"
