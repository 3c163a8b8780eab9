// Tokens (the file, its creation), the authenticator (Bearer; query and cookie on stream routes
// only), and the CORS policy.

#include "http/requestparser.h"
#include "server/auth.h"
#include "server/cors.h"
#include "server/tokenstore.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace clipdeck;
using namespace clipdeck::server;

namespace {

http::Request request(const QByteArray &target, const QByteArray &headers = {}, const QByteArray &method = "GET")
{
    http::RequestParser parser;
    const auto r = parser.parse(method + ' ' + target + " HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n");
    if (r.step != http::RequestParser::Step::Head)
        qWarning("test request did not parse: %s", qPrintable(parser.errorMessage()));
    return parser.takeRequest();
}

QString writeFile(const QTemporaryDir &dir, const QByteArray &content)
{
    const QString path = dir.filePath(QStringLiteral("tokens"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(content);
    return path;
}

QByteArray headerValue(const http::Headers &headers, const QByteArray &name)
{
    for (const auto &[n, v] : headers) {
        if (n == name)
            return v;
    }
    return {};
}

} // namespace

class tst_Auth : public QObject
{
    Q_OBJECT

private slots:
    void loadTokens();
    void tokenFileErrors_data();
    void tokenFileErrors();
    void createTokenFile();
    void bearer();
    void streamCredentials();
    void corsPolicy();
    void corsAnyOrigin();
};

void tst_Auth::loadTokens()
{
    QTemporaryDir dir;
    TokenStore store;
    QVERIFY(store.load(writeFile(
        dir, "# comment\n\nabcdefghijklmnop1 alice\n  ABCDEFGHIJKLMNOP2   bob  \nabcdefghijklmnop3 alice\n")));
    QCOMPARE(store.size(), 3);
    QCOMPARE(store.userFor("abcdefghijklmnop1"), std::optional<QString>(QStringLiteral("alice")));
    QCOMPARE(store.userFor("ABCDEFGHIJKLMNOP2"), std::optional<QString>(QStringLiteral("bob")));
    QCOMPARE(store.userFor("abcdefghijklmnop3"), std::optional<QString>(QStringLiteral("alice")));
    QCOMPARE(store.userFor("abcdefghijklmnop"), std::nullopt);  // a prefix is not a token
    QCOMPARE(store.userFor("ABCDEFGHIJKLMNOP1"), std::nullopt); // case matters
    QCOMPARE(store.userFor(""), std::nullopt);
}

void tst_Auth::tokenFileErrors_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("expected");
    QTest::newRow("one field") << QByteArray("abcdefghijklmnop1\n") << "tokens:1: expected 'TOKEN USER'";
    QTest::newRow("three fields") << QByteArray("# c\nabcdefghijklmnop1 alice extra\n") << "tokens:2: expected";
    QTest::newRow("short token") << QByteArray("short alice\n") << "at least 16 characters";
    QTest::newRow("bad token char") << QByteArray("abcdefghijklmnop\"1 alice\n") << "at least 16 characters";
    QTest::newRow("bad user") << QByteArray("abcdefghijklmnop1 al/ice\n") << "a user name is";
    QTest::newRow("token twice") << QByteArray("abcdefghijklmnop1 alice\nabcdefghijklmnop1 bob\n")
                                 << "already given to another user";
}

void tst_Auth::tokenFileErrors()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    TokenStore store;
    QVERIFY(!store.load(writeFile(dir, content)));
    QVERIFY2(store.errorString().contains(expected), qPrintable(store.errorString()));
    // The line is never quoted back: it holds a token.
    QVERIFY(!store.errorString().contains(QStringLiteral("abcdefghijklmnop")));
    QVERIFY(!store.load(dir.filePath(QStringLiteral("missing"))));
    QVERIFY(store.errorString().contains(QStringLiteral("cannot read the token file")));
}

void tst_Auth::createTokenFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("sub/tokens"));
    TokenStore store;
    const QByteArray token = store.createFile(path, QStringLiteral("local"));
    QCOMPARE(token.size(), 43); // 32 random bytes, base64url without padding
    QCOMPARE(store.userFor(token), std::optional<QString>(QStringLiteral("local")));
    QCOMPARE(QFile::permissions(path)
                 & ~(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser | QFileDevice::WriteUser),
             QFileDevice::Permissions());
    TokenStore reloaded;
    QVERIFY(reloaded.load(path));
    QCOMPARE(reloaded.userFor(token), std::optional<QString>(QStringLiteral("local")));
    QVERIFY(TokenStore::generateToken() != TokenStore::generateToken());
}

void tst_Auth::bearer()
{
    QTemporaryDir dir;
    TokenStore store;
    QVERIFY(store.load(writeFile(dir, "abcdefghijklmnop1 alice\n")));
    const Authenticator auth(store);
    AuthResult r = auth.authenticate(request("/api/jobs", "Authorization: Bearer abcdefghijklmnop1\r\n"), false);
    QCOMPARE(r.user, std::optional<QString>(QStringLiteral("alice")));
    r = auth.authenticate(request("/api/jobs", "authorization: bearer   abcdefghijklmnop1\r\n"), false);
    QCOMPARE(r.user, std::optional<QString>(QStringLiteral("alice")));
    r = auth.authenticate(request("/api/jobs", "Authorization: Bearer wrongwrongwrongwrong\r\n"), false);
    QCOMPARE(r.user, std::nullopt);
    QVERIFY(r.presented);
    r = auth.authenticate(request("/api/jobs", "Authorization: Basic YWxpY2U6eA==\r\n"), false);
    QCOMPARE(r.user, std::nullopt);
    QVERIFY(r.presented);
    r = auth.authenticate(request("/api/jobs"), false);
    QCOMPARE(r.user, std::nullopt);
    QVERIFY(!r.presented);
}

void tst_Auth::streamCredentials()
{
    QTemporaryDir dir;
    TokenStore store;
    QVERIFY(store.load(writeFile(dir, "abcdefghijklmnop1 alice\nabcdefghijklmnop2 bob\n")));
    const Authenticator auth(store);
    const http::Request query = request("/api/events?x=1&access_token=abcdefghijklmnop1");
    QCOMPARE(auth.authenticate(query, true).user, std::optional<QString>(QStringLiteral("alice")));
    QCOMPARE(auth.authenticate(query, false).user, std::nullopt); // not on other routes
    const http::Request cookie = request("/api/events", "Cookie: a=b; clipdeck_token=abcdefghijklmnop2\r\n");
    QCOMPARE(auth.authenticate(cookie, true).user, std::optional<QString>(QStringLiteral("bob")));
    QCOMPARE(auth.authenticate(cookie, false).user, std::nullopt);
    // The header wins over the others; a bad header is not rescued by a good cookie.
    const http::Request both =
        request("/api/events?access_token=abcdefghijklmnop1", "Authorization: Bearer abcdefghijklmnop2\r\n");
    QCOMPARE(auth.authenticate(both, true).user, std::optional<QString>(QStringLiteral("bob")));
    const http::Request badHeader = request(
        "/api/events", "Authorization: Bearer nopenopenopenope\r\nCookie: clipdeck_token=abcdefghijklmnop1\r\n");
    QCOMPARE(auth.authenticate(badHeader, true).user, std::nullopt);
}

void tst_Auth::corsPolicy()
{
    const CorsPolicy cors({QStringLiteral("https://app.example.com"), QStringLiteral("http://localhost:5173")});
    QVERIFY(cors.isEnabled());
    QVERIFY(cors.allows("https://app.example.com"));
    QVERIFY(cors.allows("HTTPS://APP.EXAMPLE.COM"));
    QVERIFY(!cors.allows("https://app.example.com.evil"));
    QVERIFY(!cors.allows("https://evil.example"));
    QVERIFY(!cors.allows(""));

    const http::Headers h = cors.responseHeaders(request("/api/jobs", "Origin: http://localhost:5173\r\n"));
    QCOMPARE(headerValue(h, "Access-Control-Allow-Origin"), QByteArray("http://localhost:5173"));
    QCOMPARE(headerValue(h, "Access-Control-Allow-Credentials"), QByteArray("true"));
    QCOMPARE(headerValue(h, "Vary"), QByteArray("Origin"));
    QVERIFY(headerValue(h, "Access-Control-Expose-Headers").contains("Location"));
    QVERIFY(cors.responseHeaders(request("/api/jobs", "Origin: https://evil.example\r\n")).isEmpty());
    QVERIFY(cors.responseHeaders(request("/api/jobs")).isEmpty());

    const http::Request preflight =
        request("/api/jobs", "Origin: https://app.example.com\r\nAccess-Control-Request-Method: POST\r\n", "OPTIONS");
    QVERIFY(CorsPolicy::isPreflight(preflight));
    QVERIFY(!CorsPolicy::isPreflight(request("/api/jobs", {}, "OPTIONS")));
    const http::Headers p = cors.preflightHeaders(preflight);
    QVERIFY(headerValue(p, "Access-Control-Allow-Methods").contains("POST"));
    QVERIFY(headerValue(p, "Access-Control-Allow-Headers").contains("Last-Event-ID"));
    QVERIFY(headerValue(p, "Access-Control-Allow-Headers").contains("X-Filename"));
    QCOMPARE(headerValue(p, "Access-Control-Max-Age"), QByteArray("600"));
    QVERIFY(headerValue(p, "Access-Control-Expose-Headers").isEmpty());

    QVERIFY(!CorsPolicy().isEnabled());
    QVERIFY(!CorsPolicy().allows("https://app.example.com"));
}

void tst_Auth::corsAnyOrigin()
{
    const CorsPolicy cors({QStringLiteral("*"), QStringLiteral("https://trusted.example")});
    QVERIFY(cors.allows("https://anything.example"));
    // Any origin, but credentials only for the listed one.
    const http::Headers any = cors.responseHeaders(request("/", "Origin: https://anything.example\r\n"));
    QCOMPARE(headerValue(any, "Access-Control-Allow-Origin"), QByteArray("*"));
    QVERIFY(headerValue(any, "Access-Control-Allow-Credentials").isEmpty());
    const http::Headers trusted = cors.responseHeaders(request("/", "Origin: https://trusted.example\r\n"));
    QCOMPARE(headerValue(trusted, "Access-Control-Allow-Origin"), QByteArray("https://trusted.example"));
    QCOMPARE(headerValue(trusted, "Access-Control-Allow-Credentials"), QByteArray("true"));
}

QTEST_APPLESS_MAIN(tst_Auth)
#include "tst_auth.moc"
