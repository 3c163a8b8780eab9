// clipdeck::server::parseConfig: defaults, each source, their precedence, and clear errors.

#include "server/config.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace clipdeck::server;

namespace {

std::variant<ConfigRequest, QString> parse(const QStringList &args, const QHash<QString, QString> &env = {})
{
    QProcessEnvironment e;
    for (auto it = env.begin(); it != env.end(); ++it)
        e.insert(it.key(), it.value());
    return parseConfig(args, e);
}

ServerConfig ok(const QStringList &args, const QHash<QString, QString> &env = {})
{
    const auto r = parse(args, env);
    if (const auto *error = std::get_if<QString>(&r)) {
        qWarning("%s", qPrintable(*error));
        return {};
    }
    return std::get<ConfigRequest>(r).config;
}

QString error(const QStringList &args, const QHash<QString, QString> &env = {})
{
    const auto r = parse(args, env);
    const auto *e = std::get_if<QString>(&r);
    return e ? *e : QString();
}

} // namespace

class tst_Config : public QObject
{
    Q_OBJECT

private slots:
    void defaults();
    void flags();
    void listen_data();
    void listen();
    void sizesAndTimes();
    void corsOrigins();
    void trustedProxies();
    void accessLog();
    void shippedConfigFile();
    void precedence();
    void configFileErrors();
    void errors_data();
    void errors();
    void helpAndVersion();
};

void tst_Config::defaults()
{
    const ServerConfig c = ok({});
    QCOMPARE(c.address, QHostAddress(QHostAddress::LocalHost)); // loopback only by default
    QCOMPARE(c.port, quint16(8470));
    QVERIFY(c.dataDir.isEmpty());
    QVERIFY(c.tokensFile.isEmpty());
    QCOMPARE(c.heartbeatMs, 15000);
    QCOMPARE(c.idleTimeoutMs, 300000);
    QCOMPARE(c.maxStreamBufferBytes, 1 << 20);
    QVERIFY(!c.benchPublish);
    QVERIFY(c.corsOrigins.isEmpty());
    // The media limits: media::Limits' defaults.
    QCOMPARE(c.mediaLimits.maxFramePixels, qint64(8192) * 4320);
    QCOMPARE(c.mediaLimits.maxStreams, 64);
    QCOMPARE(c.mediaLimits.memoryBudgetBytes, qint64(2) << 30);
}

void tst_Config::flags()
{
    const ServerConfig c =
        ok({QStringLiteral("--listen"), QStringLiteral("0.0.0.0:9000"), QStringLiteral("--data-dir=/srv/clipdeck"),
            QStringLiteral("--tokens"), QStringLiteral("/etc/clipdeck/tokens"), QStringLiteral("--heavy-workers"),
            QStringLiteral("3"), QStringLiteral("--light-workers"), QStringLiteral("0"), QStringLiteral("--heartbeat"),
            QStringLiteral("2.5"), QStringLiteral("--idle-timeout"), QStringLiteral("60"),
            QStringLiteral("--max-streams-per-user"), QStringLiteral("9000"), QStringLiteral("--history"),
            QStringLiteral("50"), QStringLiteral("--bench-publish")});
    QCOMPARE(c.address, QHostAddress(QStringLiteral("0.0.0.0")));
    QCOMPARE(c.port, quint16(9000));
    QCOMPARE(c.dataDir, QStringLiteral("/srv/clipdeck"));
    QCOMPARE(c.tokensFile, QStringLiteral("/etc/clipdeck/tokens"));
    QCOMPARE(c.heavyWorkers, 3);
    QCOMPARE(c.lightWorkers, 0);
    QCOMPARE(c.heartbeatMs, 2500);
    QCOMPARE(c.idleTimeoutMs, 60000);
    QCOMPARE(c.maxStreamsPerUser, 9000);
    QCOMPARE(c.history, 50);
    QVERIFY(c.benchPublish);
    QVERIFY(!ok({QStringLiteral("--bench-publish=false")}).benchPublish);
}

void tst_Config::listen_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("address");
    QTest::addColumn<int>("port");
    QTest::newRow("ipv4") << "127.0.0.1:8470" << true << "127.0.0.1" << 8470;
    QTest::newRow("ipv6") << "[::1]:80" << true << "::1" << 80;
    QTest::newRow("any") << "*:8470" << true << QHostAddress(QHostAddress::Any).toString() << 8470;
    QTest::newRow("localhost") << "localhost:0" << true << "127.0.0.1" << 0;
    QTest::newRow("no port") << "127.0.0.1" << false << "" << 0;
    QTest::newRow("bare ipv6") << "::1:80" << false << "" << 0;
    QTest::newRow("port too big") << "127.0.0.1:70000" << false << "" << 0;
    QTest::newRow("hostname") << "example.com:80" << false << "" << 0;
    QTest::newRow("empty") << "" << false << "" << 0;
}

void tst_Config::listen()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(QString, address);
    QFETCH(int, port);
    QHostAddress parsedAddress;
    quint16 parsedPort = 1;
    QCOMPARE(parseListen(text, &parsedAddress, &parsedPort), valid);
    if (valid) {
        QCOMPARE(parsedAddress.toString(), address);
        QCOMPARE(int(parsedPort), port);
    }
}

void tst_Config::sizesAndTimes()
{
    QCOMPARE(ok({QStringLiteral("--max-upload"), QStringLiteral("2G")}).maxUploadBytes, 2000000000);
    QCOMPARE(ok({QStringLiteral("--max-upload"), QStringLiteral("2GiB")}).maxUploadBytes, qint64(2) << 30);
    QCOMPARE(ok({QStringLiteral("--max-upload"), QStringLiteral("512KiB")}).maxUploadBytes, 512 * 1024);
    QCOMPARE(ok({QStringLiteral("--max-upload"), QStringLiteral("1234")}).maxUploadBytes, 1234);
    QCOMPARE(ok({QStringLiteral("--max-frame-pixels"), QStringLiteral("7680x4320")}).mediaLimits.maxFramePixels,
             qint64(7680) * 4320);
    QCOMPARE(ok({QStringLiteral("--max-frame-pixels"), QStringLiteral("1000000")}).mediaLimits.maxFramePixels, 1000000);
    QCOMPARE(ok({QStringLiteral("--max-media-streams"), QStringLiteral("8")}).mediaLimits.maxStreams, 8);
    QCOMPARE(ok({QStringLiteral("--max-job-memory"), QStringLiteral("4GiB")}).mediaLimits.memoryBudgetBytes, qint64(4)
                                                                                                                 << 30);
    QCOMPARE(ok({QStringLiteral("--max-stream-buffer"), QStringLiteral("64KiB")}).maxStreamBufferBytes, 65536);
    QCOMPARE(ok({QStringLiteral("--max-header-bytes"), QStringLiteral("8192")}).maxHeaderBytes, 8192);
    QCOMPARE(ok({QStringLiteral("--header-timeout"), QStringLiteral("0.25")}).headerTimeoutMs, 250);
    QCOMPARE(ok({QStringLiteral("--body-timeout"), QStringLiteral("1")}).bodyTimeoutMs, 1000);
    QCOMPARE(ok({QStringLiteral("--send-timeout"), QStringLiteral("7")}).sendTimeoutMs, 7000);
    QCOMPARE(ok({QStringLiteral("--keepalive-timeout"), QStringLiteral("3")}).keepAliveTimeoutMs, 3000);
    QCOMPARE(ok({QStringLiteral("--max-connections"), QStringLiteral("20000")}).maxConnections, 20000);
}

void tst_Config::corsOrigins()
{
    const ServerConfig c = ok({QStringLiteral("--cors-origin"), QStringLiteral("https://a.example"),
                               QStringLiteral("--cors-origin"), QStringLiteral("http://localhost:5173")});
    QCOMPARE(c.corsOrigins,
             (QStringList{QStringLiteral("https://a.example"), QStringLiteral("http://localhost:5173")}));
    QCOMPARE(ok({}, {{QStringLiteral("CLIPDECK_CORS_ORIGIN"), QStringLiteral("https://a.example, https://b.example")}})
                 .corsOrigins.size(),
             2);
    QVERIFY(
        error({QStringLiteral("--cors-origin"), QStringLiteral("a.example")}).contains(QStringLiteral("cors-origin")));
    QVERIFY(error({QStringLiteral("--cors-origin"), QStringLiteral("https://a.example/")})
                .contains(QStringLiteral("trailing /")));
}

void tst_Config::trustedProxies()
{
    QVERIFY(ok({}).trustedProxies.isEmpty()); // nobody's X-Forwarded-For is believed by default
    const ServerConfig c = ok({QStringLiteral("--trusted-proxy"), QStringLiteral("127.0.0.1"),
                               QStringLiteral("--trusted-proxy=10.0.0.0/8, ::1"), QStringLiteral("--trusted-proxy"),
                               QStringLiteral("fd00::/8")});
    QCOMPARE(c.trustedProxies.size(), 4);
    QCOMPARE(c.trustedProxies.at(0), std::pair(QHostAddress(QStringLiteral("127.0.0.1")), 32));
    QCOMPARE(c.trustedProxies.at(1), std::pair(QHostAddress(QStringLiteral("10.0.0.0")), 8));
    QCOMPARE(c.trustedProxies.at(2), std::pair(QHostAddress(QStringLiteral("::1")), 128));
    QCOMPARE(c.trustedProxies.at(3), std::pair(QHostAddress(QStringLiteral("fd00::")), 8));
    // A later source replaces the list, as for cors-origin.
    const ServerConfig e = ok({QStringLiteral("--trusted-proxy"), QStringLiteral("192.0.2.1")},
                              {{QStringLiteral("CLIPDECK_TRUSTED_PROXY"), QStringLiteral("10.0.0.1")}});
    QCOMPARE(e.trustedProxies.size(), 1);
    QCOMPARE(e.trustedProxies.at(0).first, QHostAddress(QStringLiteral("192.0.2.1")));
    for (const char *bad : {"proxy.example", "10.0.0.0/33", "127.0.0.1:80", "1.2.3", "::1/129"}) {
        const QString message = error({QStringLiteral("--trusted-proxy=") + QLatin1StringView(bad)});
        QVERIFY2(message.contains(QStringLiteral("trusted-proxy must be an address")), qPrintable(message));
    }
}

void tst_Config::accessLog()
{
    QVERIFY(!ok({}).accessLog);
    QVERIFY(ok({QStringLiteral("--access-log")}).accessLog);
    QVERIFY(!ok({QStringLiteral("--access-log=no")}).accessLog);
    QVERIFY(error({QStringLiteral("--access-log=sometimes")}).contains(QStringLiteral("access-log must be")));
}

// installer/clipdeck-server.conf, the file the package installs as /etc/clipdeck/server.conf:
// every line it sets or shows commented out is a key the server knows, with a valid value.
void tst_Config::shippedConfigFile()
{
    const QString shipped = QStringLiteral(CLIPDECK_SOURCE_DIR "/installer/clipdeck-server.conf");
    const ServerConfig c = ok({QStringLiteral("--config"), shipped});
    QCOMPARE(c.dataDir, QStringLiteral("/var/lib/clipdeck-server"));
    QCOMPARE(c.address, QHostAddress(QHostAddress::LocalHost)); // loopback: TLS is the proxy's
    QFile file(shipped);
    QVERIFY(file.open(QIODevice::ReadOnly | QIODevice::Text));
    QTemporaryDir dir;
    QFile uncommented(dir.filePath(QStringLiteral("all.conf")));
    QVERIFY(uncommented.open(QIODevice::WriteOnly));
    int examples = 0;
    for (const QByteArray &line : file.readAll().split('\n')) {
        // "#key = value" (no space after '#') is an example setting; "# text" is prose.
        if (line.size() > 1 && line.at(0) == '#' && line.at(1) != ' ' && line.at(1) != '#') {
            uncommented.write(line.mid(1) + '\n');
            ++examples;
        }
    }
    uncommented.close();
    QVERIFY(examples >= 10);
    const QString message = error({QStringLiteral("--config"), uncommented.fileName()});
    QVERIFY2(message.isEmpty(), qPrintable(message));
}

void tst_Config::precedence()
{
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("c.conf")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("# settings\n\nheartbeat = 1\nidle-timeout = 2\nhistory = 3\ncors-origin = "
               "https://file.example\nbench-publish\n");
    file.close();
    // The file alone.
    ServerConfig c = ok({QStringLiteral("--config"), file.fileName()});
    QCOMPARE(c.heartbeatMs, 1000);
    QCOMPARE(c.idleTimeoutMs, 2000);
    QCOMPARE(c.history, 3);
    QVERIFY(c.benchPublish);
    QCOMPARE(c.corsOrigins, QStringList{QStringLiteral("https://file.example")});
    // The environment over the file, flags over both.
    c = ok({QStringLiteral("--config"), file.fileName(), QStringLiteral("--history"), QStringLiteral("30")},
           {{QStringLiteral("CLIPDECK_IDLE_TIMEOUT"), QStringLiteral("20")},
            {QStringLiteral("CLIPDECK_HISTORY"), QStringLiteral("300")},
            {QStringLiteral("CLIPDECK_CORS_ORIGIN"), QStringLiteral("https://env.example")}});
    QCOMPARE(c.heartbeatMs, 1000);
    QCOMPARE(c.idleTimeoutMs, 20000);
    QCOMPARE(c.history, 30);
    QCOMPARE(c.corsOrigins, QStringList{QStringLiteral("https://env.example")}); // replaced, not merged
    // The config file named by the environment.
    c = ok({}, {{QStringLiteral("CLIPDECK_CONFIG"), file.fileName()},
                {QStringLiteral("CLIPDECK_DATA_DIR"), QStringLiteral("/data")}});
    QCOMPARE(c.history, 3);
    QCOMPARE(c.dataDir, QStringLiteral("/data"));
}

void tst_Config::configFileErrors()
{
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("c.conf")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("heartbeat = 1\nhistory\n");
    file.close();
    QVERIFY(error({QStringLiteral("--config"), file.fileName()})
                .contains(QStringLiteral("c.conf:2: \"history\" needs a value")));
    QVERIFY(error({QStringLiteral("--config"), dir.filePath(QStringLiteral("missing.conf"))})
                .contains(QStringLiteral("cannot read the config file")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("heartbeat = never\n");
    file.close();
    const QString e = error({QStringLiteral("--config"), file.fileName()});
    QVERIFY2(e.startsWith(QStringLiteral("config file ")) && e.contains(QStringLiteral("heartbeat must be")),
             qPrintable(e));
}

void tst_Config::errors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown") << QStringList{QStringLiteral("--nope")} << "unknown option --nope";
    QTest::newRow("positional") << QStringList{QStringLiteral("serve")} << "unexpected argument";
    QTest::newRow("missing value") << QStringList{QStringLiteral("--listen")} << "--listen needs a value";
    QTest::newRow("bad count") << QStringList{QStringLiteral("--heavy-workers"), QStringLiteral("-1")}
                               << "heavy-workers must be";
    QTest::newRow("bad seconds") << QStringList{QStringLiteral("--idle-timeout"), QStringLiteral("0")}
                                 << "idle-timeout must be";
    QTest::newRow("bad bytes") << QStringList{QStringLiteral("--max-upload"), QStringLiteral("lots")}
                               << "max-upload must be";
    QTest::newRow("header bytes too small")
        << QStringList{QStringLiteral("--max-header-bytes"), QStringLiteral("10")} << "max-header-bytes must be";
    QTest::newRow("stream limit zero") << QStringList{QStringLiteral("--max-streams-per-user"), QStringLiteral("0")}
                                       << "max-streams-per-user must be";
    QTest::newRow("bool") << QStringList{QStringLiteral("--bench-publish=maybe")} << "bench-publish must be";
    QTest::newRow("frame pixels") << QStringList{QStringLiteral("--max-frame-pixels"), QStringLiteral("8k")}
                                  << "max-frame-pixels must be";
    QTest::newRow("media streams zero") << QStringList{QStringLiteral("--max-media-streams"), QStringLiteral("0")}
                                        << "max-media-streams must be";
    QTest::newRow("job memory tiny") << QStringList{QStringLiteral("--max-job-memory"), QStringLiteral("1000")}
                                     << "max-job-memory must be";
}

void tst_Config::errors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const QString e = error(args);
    QVERIFY2(e.contains(expected), qPrintable(e));
    // Errors from the environment say so.
    QVERIFY(error({}, {{QStringLiteral("CLIPDECK_HISTORY"), QStringLiteral("x")}})
                .startsWith(QStringLiteral("environment: ")));
}

void tst_Config::helpAndVersion()
{
    const auto r = parse({QStringLiteral("--help")});
    QVERIFY(std::get<ConfigRequest>(r).help);
    QVERIFY(std::get<ConfigRequest>(parse({QStringLiteral("--version")})).version);
    const QString text = usage();
    for (const char *key : {"--listen", "--data-dir", "--tokens", "--heavy-workers", "--light-workers", "--heartbeat",
                            "--idle-timeout", "--max-upload", "--max-header-bytes", "--max-streams-per-user",
                            "--cors-origin", "--history", "--bench-publish", "--config", "--max-frame-pixels",
                            "--max-media-streams", "--max-job-memory", "--trusted-proxy", "--access-log"})
        QVERIFY2(text.contains(QLatin1StringView(key)), key);
}

QTEST_APPLESS_MAIN(tst_Config)
#include "tst_config.moc"
