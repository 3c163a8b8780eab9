// server/clientaddress.h: which address a request came from behind reverse proxies.

#include "server/clientaddress.h"

#include <QTest>

using namespace clipdeck::server;

namespace {

TrustedProxies proxies(std::initializer_list<const char *> entries)
{
    QList<std::pair<QHostAddress, int>> subnets;
    for (const char *e : entries)
        subnets.append(*TrustedProxies::parseEntry(QString::fromLatin1(e)));
    return TrustedProxies(subnets);
}

QString client(const char *peer, const char *forwardedFor, const TrustedProxies &trusted)
{
    return resolveClient(QHostAddress(QString::fromLatin1(peer)), forwardedFor, {}, trusted).address.toString();
}

} // namespace

class tst_ClientAddress : public QObject
{
    Q_OBJECT

private slots:
    void parseEntry();
    void forwardedFor_data();
    void forwardedFor();
    void forwardedProto();
};

void tst_ClientAddress::parseEntry()
{
    QCOMPARE(TrustedProxies::parseEntry(QStringLiteral("10.1.2.3")),
             std::pair(QHostAddress(QStringLiteral("10.1.2.3")), 32));
    QCOMPARE(TrustedProxies::parseEntry(QStringLiteral(" 10.0.0.0/8 ")),
             std::pair(QHostAddress(QStringLiteral("10.0.0.0")), 8));
    QCOMPARE(TrustedProxies::parseEntry(QStringLiteral("::ffff:127.0.0.1")),
             std::pair(QHostAddress(QStringLiteral("127.0.0.1")), 32));
    QVERIFY(!TrustedProxies::parseEntry(QStringLiteral("proxy")));
    QVERIFY(!TrustedProxies::parseEntry(QStringLiteral("10.0.0.0/40")));
    QVERIFY(!TrustedProxies::parseEntry(QString()));
    QVERIFY(!TrustedProxies::parseEntry(QStringLiteral("1.2.3"))); // inet_aton shorthand
    QVERIFY(!TrustedProxies::parseEntry(QStringLiteral("0x7f.0.0.1")));
    const TrustedProxies t = proxies({"10.0.0.0/8", "::1"});
    QVERIFY(t.contains(QHostAddress(QStringLiteral("10.200.0.1"))));
    QVERIFY(t.contains(QHostAddress(QStringLiteral("::ffff:10.0.0.1")))); // what a dual-stack socket reports
    QVERIFY(t.contains(QHostAddress(QStringLiteral("::1"))));
    QVERIFY(!t.contains(QHostAddress(QStringLiteral("11.0.0.1"))));
    QVERIFY(!t.contains(QHostAddress(QStringLiteral("127.0.0.1"))));
}

void tst_ClientAddress::forwardedFor_data()
{
    QTest::addColumn<QString>("peer");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("expected");
    // Trusted: 10.0.0.0/8 (the proxies) and ::1.
    QTest::newRow("no proxy, no header") << "203.0.113.5" << QByteArray() << "203.0.113.5";
    QTest::newRow("untrusted peer: header ignored") << "203.0.113.5" << QByteArray("198.51.100.1") << "203.0.113.5";
    QTest::newRow("trusted peer, one hop") << "10.0.0.2" << QByteArray("198.51.100.1") << "198.51.100.1";
    QTest::newRow("trusted peer, no header") << "10.0.0.2" << QByteArray() << "10.0.0.2";
    // The client sent "1.1.1.1" itself; the proxy appended the address it saw.
    QTest::newRow("spoofed entry left of the real one")
        << "10.0.0.2" << QByteArray("1.1.1.1, 198.51.100.1") << "198.51.100.1";
    QTest::newRow("two trusted hops") << "10.0.0.2" << QByteArray("198.51.100.1, 10.0.0.3") << "198.51.100.1";
    QTest::newRow("all trusted: the leftmost") << "10.0.0.2" << QByteArray("10.0.0.9,10.0.0.3") << "10.0.0.9";
    QTest::newRow("malformed entry ends the walk") << "10.0.0.2" << QByteArray("198.51.100.1, unknown") << "10.0.0.2";
    QTest::newRow("malformed entry behind a trusted hop")
        << "10.0.0.2" << QByteArray("garbage, 198.51.100.1") << "198.51.100.1";
    QTest::newRow("shorthand entry ends the walk") << "10.0.0.2" << QByteArray("1.2.3") << "10.0.0.2";
    QTest::newRow("empty entries skipped") << "10.0.0.2" << QByteArray(" , 198.51.100.1 ,") << "198.51.100.1";
    QTest::newRow("ipv6 client") << "::1" << QByteArray("2001:db8::7") << "2001:db8::7";
    QTest::newRow("dual-stack peer") << "::ffff:10.0.0.2" << QByteArray("198.51.100.1") << "198.51.100.1";
    QTest::newRow("untrusted dual-stack peer shown as ipv4")
        << "::ffff:203.0.113.5" << QByteArray("1.1.1.1") << "203.0.113.5";
}

void tst_ClientAddress::forwardedFor()
{
    QFETCH(QString, peer);
    QFETCH(QByteArray, header);
    QFETCH(QString, expected);
    const TrustedProxies trusted = proxies({"10.0.0.0/8", "::1"});
    QCOMPARE(client(peer.toLatin1().constData(), header.constData(), trusted), expected);
    // Without trusted proxies nobody's header counts.
    QCOMPARE(client(peer.toLatin1().constData(), header.constData(), TrustedProxies()),
             resolveClient(QHostAddress(peer), {}, {}, trusted).address.toString());
}

void tst_ClientAddress::forwardedProto()
{
    const TrustedProxies trusted = proxies({"10.0.0.0/8"});
    QCOMPARE(resolveClient(QHostAddress(QStringLiteral("10.0.0.2")), {}, "https", trusted).scheme,
             QStringLiteral("https"));
    QCOMPARE(resolveClient(QHostAddress(QStringLiteral("10.0.0.2")), {}, " HTTPS ", trusted).scheme,
             QStringLiteral("https"));
    QCOMPARE(resolveClient(QHostAddress(QStringLiteral("10.0.0.2")), {}, "gopher", trusted).scheme,
             QStringLiteral("http"));
    QCOMPARE(resolveClient(QHostAddress(QStringLiteral("203.0.113.5")), {}, "https", trusted).scheme,
             QStringLiteral("http"));
}

QTEST_APPLESS_MAIN(tst_ClientAddress)
#include "tst_clientaddress.moc"
