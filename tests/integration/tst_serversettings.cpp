// The Servers dialog's controller, ServerSettings (app/desktop/serversettings.h), against the
// real clipdeck-server (serverfixture.h): "Test connection" says OK for the right token, that
// the token was refused for a wrong one, and unreachable for a port nobody listens on; a server
// added in the dialog is saved and connects, one added for the run (--server) is not saved.
// Every wait is for a state, with a deadline only for failure.

#include "scriptedhttpserver.h"
#include "serversettings.h"
#include "serverfixture.h"

#include "client/jobmodel.h"
#include "client/jobsource.h"

#include <QSettings>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using clipdeck::client::JobSource;
using clipdeck::desktop::ServerSettings;
using TestState = ServerSettings::TestState;
using ConnectionState = JobSource::ConnectionState;
using namespace serverfixture;

class TestServerSettings : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<ServerProcess> m_server;
    QString m_base;

    // Waits until the test in flight has an answer; returns the state.
    static TestState settle(ServerSettings &servers)
    {
        (void)QTest::qWaitFor([&] { return servers.testState() != TestState::Testing; }, WaitMs);
        return servers.testState();
    }

    // A port on 127.0.0.1 that nothing listens on (bound, then let go).
    static quint16 deadPort()
    {
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, 0))
            return 0;
        const quint16 port = probe.serverPort();
        probe.close();
        return port;
    }

    static ConnectionState stateOf(const ServerSettings &servers, int row)
    {
        return ConnectionState(servers.data(servers.index(row), ServerSettings::StateRole).toInt());
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_server = std::make_unique<ServerProcess>(m_dir.path() + QStringLiteral("/server"));
        QVERIFY(m_server->start());
        m_base = QStringLiteral("http://127.0.0.1:%1").arg(m_server->port());
    }

    void testConnectionOk()
    {
        QSettings settings(m_dir.path() + QStringLiteral("/ok.ini"), QSettings::IniFormat);
        clipdeck::client::JobModel model;
        ServerSettings servers(&settings, &model);
        servers.testConnection(m_base, QString::fromLatin1(alice.token));
        QCOMPARE(servers.testState(), TestState::Testing);
        QCOMPARE(settle(servers), TestState::Ok);
        QVERIFY2(servers.testMessage().startsWith(QLatin1String("OK")), qPrintable(servers.testMessage()));
        // "host:port" as a person types it is the same server.
        servers.testConnection(m_base.mid(7) + u'/', QString::fromLatin1(alice.token));
        QCOMPARE(settle(servers), TestState::Ok);
    }

    void testConnectionTokenRefused()
    {
        QSettings settings(m_dir.path() + QStringLiteral("/refused.ini"), QSettings::IniFormat);
        clipdeck::client::JobModel model;
        ServerSettings servers(&settings, &model);
        servers.testConnection(m_base, QStringLiteral("not-a-token-anyone-has"));
        QCOMPARE(settle(servers), TestState::AuthFailed);
        QVERIFY2(servers.testMessage().contains(QLatin1String("Token refused")), qPrintable(servers.testMessage()));
        servers.testConnection(m_base, QString());
        QCOMPARE(settle(servers), TestState::AuthFailed);
    }

    void testConnectionUnreachable()
    {
        const quint16 port = deadPort();
        QVERIFY(port != 0);
        QSettings settings(m_dir.path() + QStringLiteral("/dead.ini"), QSettings::IniFormat);
        clipdeck::client::JobModel model;
        ServerSettings servers(&settings, &model);
        servers.testConnection(QStringLiteral("http://127.0.0.1:%1").arg(port), QString::fromLatin1(alice.token));
        QCOMPARE(settle(servers), TestState::Unreachable);
        QVERIFY2(servers.testMessage().startsWith(QLatin1String("Unreachable")), qPrintable(servers.testMessage()));
    }

    // Issue #15, the same class as the EventSource's redirect bug: /api/jobs answered with a
    // redirect to another origin must not take the token there.
    void testConnectionKeepsTheTokenOnItsOrigin()
    {
        testsupport::ScriptedHttpServer typedIn;
        testsupport::ScriptedHttpServer elsewhere;
        elsewhere.setFallback(testsupport::HttpScript::reply(200, "{\"jobs\":[]}", "application/json"));
        typedIn.enqueue(testsupport::HttpScript::reply(200, "ok\n"), "/healthz");
        typedIn.enqueue(testsupport::HttpScript::redirect(302, elsewhere.url(QStringLiteral("/api/jobs")).toEncoded()),
                        "/api/jobs");
        QSettings settings(m_dir.path() + QStringLiteral("/redirect.ini"), QSettings::IniFormat);
        clipdeck::client::JobModel model;
        ServerSettings servers(&settings, &model);
        servers.testConnection(typedIn.url().toString(), QString::fromLatin1(alice.token));
        QVERIFY(settle(servers) != TestState::Ok);
        QCOMPARE(typedIn.requests().size(), 2);
        QCOMPARE(typedIn.requests().at(1).header("Authorization"), "Bearer " + QByteArray(alice.token));
        QCOMPARE(elsewhere.requests().size(), 0);
    }

    void testConnectionNotAnAddress()
    {
        QSettings settings(m_dir.path() + QStringLiteral("/bad.ini"), QSettings::IniFormat);
        clipdeck::client::JobModel model;
        ServerSettings servers(&settings, &model);
        servers.testConnection(QStringLiteral("ftp://example.com"), QString());
        QCOMPARE(servers.testState(), TestState::Error);
    }

    // Added in the dialog: saved, and its source connects (right token) or says the token was
    // refused (wrong one) — what the dialog's list shows per server.
    void addedServersConnectOrSayTokenRefused()
    {
        const QString ini = m_dir.path() + QStringLiteral("/added.ini");
        {
            QSettings settings(ini, QSettings::IniFormat);
            clipdeck::client::JobModel model;
            ServerSettings servers(&settings, &model);
            servers.testConnection(m_base, QString::fromLatin1(alice.token));
            QCOMPARE(settle(servers), TestState::Ok);
            QVERIFY(servers.addServer(m_base, QString::fromLatin1(alice.token)));
            // The dialog empties its form on success: the old result must not stay under it.
            QCOMPARE(servers.testState(), TestState::NotTested);
            QCOMPARE(servers.testMessage(), QString());
            QVERIFY(!servers.addServer(m_base + u'/', QString::fromLatin1(alice.token))); // the same server
            QCOMPARE(servers.rowCount(), 1);
            QVERIFY(QTest::qWaitFor([&] { return stateOf(servers, 0) != ConnectionState::Connecting; }, WaitMs));
            QCOMPARE(stateOf(servers, 0), ConnectionState::Connected);
            QCOMPARE(model.sources().size(), 1);

            // The same server under another name (localhost) with a wrong token.
            QVERIFY(
                servers.addServer(QStringLiteral("localhost:%1").arg(m_server->port()), QStringLiteral("wrong-token")));
            QVERIFY(QTest::qWaitFor([&] { return stateOf(servers, 1) != ConnectionState::Connecting; }, WaitMs));
            QCOMPARE(stateOf(servers, 1), ConnectionState::AuthFailed);
            QCOMPARE(servers.data(servers.index(1), ServerSettings::StateTextRole).toString(),
                     QStringLiteral("Token refused"));
        }
        QSettings reread(ini, QSettings::IniFormat);
        QCOMPARE(reread.beginReadArray(QStringLiteral("servers")), 2);
        reread.endArray();
    }

    // `--server`: for the run only; never written, even when the dialog saves other servers.
    void sessionServersAreNotSaved()
    {
        const QString ini = m_dir.path() + QStringLiteral("/session.ini");
        {
            QSettings settings(ini, QSettings::IniFormat);
            clipdeck::client::JobModel model;
            ServerSettings servers(&settings, &model);
            QString error;
            const QString id = servers.addSessionServer(m_base, QString::fromLatin1(alice.token), &error);
            QVERIFY2(!id.isEmpty(), qPrintable(error));
            QCOMPARE(servers.sourceIdFor(m_base + u'/'), id);
            QCOMPARE(servers.addSessionServer(m_base, QString::fromLatin1(alice.token)), id); // the same one again
            QVERIFY(servers.addSessionServer(m_base, QStringLiteral("another-token"), &error).isEmpty());
            QVERIFY(servers.data(servers.index(0), ServerSettings::SessionOnlyRole).toBool());
            QVERIFY(QTest::qWaitFor([&] { return stateOf(servers, 0) == ConnectionState::Connected; }, WaitMs));
            QVERIFY(servers.addServer(QStringLiteral("localhost:%1").arg(m_server->port()),
                                      QString::fromLatin1(bob.token)));
        }
        QSettings reread(ini, QSettings::IniFormat);
        QCOMPARE(reread.beginReadArray(QStringLiteral("servers")), 1);
        reread.setArrayIndex(0);
        QVERIFY(reread.value(QStringLiteral("url")).toString().contains(QLatin1String("localhost")));
        reread.endArray();
    }
};

QTEST_GUILESS_MAIN(TestServerSettings)

#include "tst_serversettings.moc"
