// clipdeck::http::RequestParser: the request grammar, every limit, chunked bodies, pipelining.
// Every case is checked fed whole, byte by byte and in seeded random chunkings: the transcript
// (heads, body bytes, ends, the error) must not depend on how the bytes arrive.

#include "http/requestparser.h"

#include <QRandomGenerator>
#include <QTest>

using namespace clipdeck::http;

namespace {

struct Transcript
{
    QList<QByteArray> heads;  // "METHOD target minor" + "|name=value" per header
    QList<QByteArray> bodies; // one per request that ended
    int ends = 0;
    int errorStatus = 0;
    bool consumedAll = false;

    friend bool operator==(const Transcript &, const Transcript &) = default;
};

char *toString(const Transcript &t)
{
    QByteArray s = "heads=[" + t.heads.join(", ") + "] bodies=[" + t.bodies.join(", ")
                   + "] ends=" + QByteArray::number(t.ends) + " error=" + QByteArray::number(t.errorStatus)
                   + " consumedAll=" + (t.consumedAll ? "yes" : "no");
    return qstrdup(s.constData());
}

QByteArray describe(const Request &r)
{
    QByteArray s =
        r.method().toByteArray() + ' ' + r.target().toByteArray() + ' ' + QByteArray::number(r.versionMinor());
    for (qsizetype i = 0; i < r.headerCount(); ++i)
        s += '|' + r.headerName(i).toByteArray() + '=' + r.headerValue(i).toByteArray();
    return s;
}

// Feeds `input` in pieces (sizes from `chunker`), as a connection does: what a step leaves
// unconsumed is kept and fed again with the next piece.
Transcript run(const QByteArray &input, const std::function<qsizetype()> &chunker, ParserLimits limits = {},
               qint64 bodyLimit = -1)
{
    Transcript t;
    RequestParser parser(limits);
    QByteArray pending;
    QByteArray body;
    qsizetype at = 0;
    bool failed = false;
    while (!failed) {
        if (at < input.size()) {
            const qsizetype n = std::min(chunker(), input.size() - at);
            pending += input.mid(at, n);
            at += n;
        }
        qsizetype used = 0;
        for (;;) {
            const auto r = parser.parse(QByteArrayView(pending).sliced(used));
            used += r.consumed;
            if (r.step == RequestParser::Step::NeedMore)
                break;
            if (r.step == RequestParser::Step::Error) {
                t.errorStatus = parser.errorStatus();
                failed = true;
                break;
            }
            if (r.step == RequestParser::Step::Head) {
                t.heads.append(describe(parser.takeRequest()));
                if (bodyLimit >= 0)
                    parser.setBodyLimit(bodyLimit);
            } else if (r.step == RequestParser::Step::Body) {
                body += r.body.toByteArray();
            } else if (r.step == RequestParser::Step::End) {
                t.bodies.append(body);
                body.clear();
                ++t.ends;
            }
        }
        pending.remove(0, used);
        if (at >= input.size() && (failed || used == 0 || pending.isEmpty())) {
            if (failed)
                break;
            // No more input: one last round, in case the parser owes an End for no bytes.
            const auto r = parser.parse(pending);
            if (r.step == RequestParser::Step::End) {
                t.bodies.append(body);
                body.clear();
                ++t.ends;
                continue;
            }
            break;
        }
    }
    t.consumedAll = pending.isEmpty() && at >= input.size();
    return t;
}

Transcript runWhole(const QByteArray &input, ParserLimits limits = {}, qint64 bodyLimit = -1)
{
    return run(
        input, [&] { return input.size() + 1; }, limits, bodyLimit);
}

// The same transcript whole, byte by byte and in random chunkings.
Transcript checkedRun(const QByteArray &input, ParserLimits limits = {}, qint64 bodyLimit = -1)
{
    const Transcript whole = runWhole(input, limits, bodyLimit);
    const Transcript bytewise = run(
        input, [] { return qsizetype(1); }, limits, bodyLimit);
    if (!(bytewise == whole)) {
        qWarning("byte by byte: %s\nwhole: %s", toString(bytewise), toString(whole));
        return {};
    }
    for (quint32 seed = 1; seed <= 20; ++seed) {
        QRandomGenerator rng(seed);
        const Transcript random = run(
            input, [&] { return qsizetype(1 + rng.bounded(40)); }, limits, bodyLimit);
        if (!(random == whole)) {
            qWarning("seed %u: %s\nwhole: %s", seed, toString(random), toString(whole));
            return {};
        }
    }
    return whole;
}

} // namespace

class tst_RequestParser : public QObject
{
    Q_OBJECT

private slots:
    void simpleGet();
    void requestAccessors();
    void cookies();
    void fixedBody();
    void chunkedBody();
    void pipelining();
    void emptyLinesBeforeRequest();
    void absoluteFormTarget();
    void http10();
    void malformed_data();
    void malformed();
    void requestLineLimit();
    void headerBytesLimit();
    void headerCountLimit();
    void bodyLimitContentLength();
    void bodyLimitChunked();
    void perRequestBodyLimit();
    void midRequestState();
    void errorIsSticky();
};

void tst_RequestParser::simpleGet()
{
    const Transcript t =
        checkedRun("GET /api/jobs?status=running HTTP/1.1\r\nHost: x\r\nAccept:  text/event-stream \r\n\r\n");
    QCOMPARE(t.heads, QList<QByteArray>{"GET /api/jobs?status=running 1|Host=x|Accept=text/event-stream"});
    QCOMPARE(t.ends, 1);
    QCOMPARE(t.bodies, QList<QByteArray>{""});
    QCOMPARE(t.errorStatus, 0);
    QVERIFY(t.consumedAll);
}

void tst_RequestParser::requestAccessors()
{
    RequestParser parser;
    const QByteArray input = "GET /api/media/a%2Fb/x%20y?name=my+clip%21&flag&empty=&name=second HTTP/1.1\r\n"
                             "Host: h\r\nX-Multi: one\r\nx-multi: two\r\nConnection: keep-alive, Close\r\n\r\n";
    const auto r = parser.parse(input);
    QCOMPARE(r.step, RequestParser::Step::Head);
    QCOMPARE(r.consumed, input.size());
    const Request req = parser.takeRequest();
    QCOMPARE(req.path(), QByteArrayView("/api/media/a%2Fb/x%20y"));
    QCOMPARE(req.pathSegments(), (QList<QString>{QStringLiteral("api"), QStringLiteral("media"), QStringLiteral("a/b"),
                                                 QStringLiteral("x y")}));
    QCOMPARE(req.queryValue("name"), std::optional<QByteArray>("my clip!"));
    QCOMPARE(req.queryValue("flag"), std::optional<QByteArray>(""));
    QCOMPARE(req.queryValue("empty"), std::optional<QByteArray>(""));
    QCOMPARE(req.queryValue("missing"), std::nullopt);
    QCOMPARE(req.header("X-MULTI"), QByteArrayView("one"));
    QCOMPARE(req.combinedHeader("x-multi"), QByteArray("one, two"));
    QVERIFY(!req.hasHeader("Content-Length"));
    QVERIFY(!req.keepAlive()); // "close" among the options
    QVERIFY(!parser.hasBody());
}

void tst_RequestParser::cookies()
{
    RequestParser parser;
    const auto r =
        parser.parse("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; clipdeck_token=\"s3cret\";b=2\r\nCookie: c=3\r\n\r\n");
    QCOMPARE(r.step, RequestParser::Step::Head);
    const Request req = parser.takeRequest();
    QCOMPARE(req.cookie("clipdeck_token"), std::optional<QByteArray>("s3cret"));
    QCOMPARE(req.cookie("b"), std::optional<QByteArray>("2"));
    QCOMPARE(req.cookie("c"), std::optional<QByteArray>("3"));
    QCOMPARE(req.cookie("clipdeck"), std::nullopt);
    QVERIFY(req.keepAlive());
}

void tst_RequestParser::fixedBody()
{
    const Transcript t = checkedRun("POST /api/jobs HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world");
    QCOMPARE(t.bodies, QList<QByteArray>{"hello world"});
    QCOMPARE(t.ends, 1);
    QVERIFY(t.consumedAll);

    // Identical repeated Content-Lengths are one length.
    const Transcript same =
        checkedRun("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc");
    QCOMPARE(same.bodies, QList<QByteArray>{"abc"});
}

void tst_RequestParser::chunkedBody()
{
    const Transcript t = checkedRun("POST /api/media HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "5\r\nhello\r\n"
                                    "6;ext=1;other=\"q\"\r\n world\r\n"
                                    "A\r\n0123456789\r\n"
                                    "0\r\nX-Trailer: t\r\n\r\n");
    QCOMPARE(t.errorStatus, 0);
    QCOMPARE(t.bodies, QList<QByteArray>{"hello world0123456789"});
    QCOMPARE(t.ends, 1);
    QVERIFY(t.consumedAll);

    // Bare LF line ends and upper-case hex.
    const Transcript lf = checkedRun("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: Chunked\n\nA\n0123456789\n0\n\n");
    QCOMPARE(lf.bodies, QList<QByteArray>{"0123456789"});

    // Data longer than its chunk size.
    QCOMPARE(
        checkedRun("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n").errorStatus,
        400);
    // Not hex.
    QCOMPARE(checkedRun("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").errorStatus, 400);
    // Sixteen hex digits: refused before it could overflow.
    QCOMPARE(
        checkedRun("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n").errorStatus,
        400);
    // A chunk line too long (endless extensions).
    QCOMPARE(checkedRun("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" + QByteArray(5000, 'x')
                        + "\r\n")
                 .errorStatus,
             400);
}

void tst_RequestParser::pipelining()
{
    const QByteArray two = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                           "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok"
                           "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
                           "GET /d HTTP/1.1\r\nHost: h\r\n\r\n";
    const Transcript t = checkedRun(two);
    QCOMPARE(t.heads.size(), 4);
    QVERIFY(t.heads.at(0).startsWith("GET /a"));
    QVERIFY(t.heads.at(3).startsWith("GET /d"));
    QCOMPARE(t.bodies, (QList<QByteArray>{"", "ok", "z", ""}));
    QCOMPARE(t.ends, 4);

    // The parser stops after each head and each end, so a caller can hold the next request back.
    RequestParser parser;
    auto r = parser.parse(two);
    QCOMPARE(r.step, RequestParser::Step::Head);
    QCOMPARE(r.consumed, qsizetype(strlen("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")));
    r = parser.parse(QByteArrayView(two).sliced(r.consumed));
    QCOMPARE(r.step, RequestParser::Step::End);
    QCOMPARE(r.consumed, 0);
}

void tst_RequestParser::emptyLinesBeforeRequest()
{
    QCOMPARE(checkedRun("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").ends, 1);
    QCOMPARE(checkedRun(QByteArray(20, '\n') + "GET / HTTP/1.1\r\nHost: h\r\n\r\n").errorStatus, 400);
}

void tst_RequestParser::absoluteFormTarget()
{
    const Transcript t = checkedRun("GET http://example.com:8470/api/jobs?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    QVERIFY2(t.heads.value(0).startsWith("GET /api/jobs?x=1 1|Host="), t.heads.value(0).constData());
    const Transcript bare = checkedRun("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
    QVERIFY(bare.heads.value(0).startsWith("GET / 1"));
    const Transcript options = checkedRun("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    QVERIFY(options.heads.value(0).startsWith("OPTIONS * 1"));
}

void tst_RequestParser::http10()
{
    const Transcript t = checkedRun("GET / HTTP/1.0\r\n\r\n"); // no Host needed
    QCOMPARE(t.heads, QList<QByteArray>{"GET / 0"});
    RequestParser parser;
    QCOMPARE(parser.parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").step, RequestParser::Step::Head);
    QVERIFY(!parser.takeRequest().keepAlive());
}

void tst_RequestParser::malformed_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("status");
    const QByteArray host = "Host: h\r\n";
    QTest::newRow("double space") << QByteArray("GET  / HTTP/1.1\r\n" + host + "\r\n") << 400;
    QTest::newRow("no version") << QByteArray("GET /\r\n" + host + "\r\n") << 400;
    QTest::newRow("bad version") << QByteArray("GET / HTTQ/1.1\r\n" + host + "\r\n") << 400;
    QTest::newRow("http/2") << QByteArray("GET / HTTP/2.0\r\n" + host + "\r\n") << 505;
    QTest::newRow("bad method") << QByteArray("G(T / HTTP/1.1\r\n" + host + "\r\n") << 400;
    QTest::newRow("relative target") << QByteArray("GET api HTTP/1.1\r\n" + host + "\r\n") << 400;
    QTest::newRow("star with GET") << QByteArray("GET * HTTP/1.1\r\n" + host + "\r\n") << 400;
    QTest::newRow("control in target") << QByteArray("GET /a\x01 HTTP/1.1\r\n" + host + "\r\n") << 400;
    QTest::newRow("bare CR") << QByteArray("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n") << 400;
    QTest::newRow("obs-fold") << QByteArray("GET / HTTP/1.1\r\n" + host + "X: a\r\n  b\r\n\r\n") << 400;
    QTest::newRow("space before colon") << QByteArray("GET / HTTP/1.1\r\n" + host + "X : a\r\n\r\n") << 400;
    QTest::newRow("no colon") << QByteArray("GET / HTTP/1.1\r\n" + host + "Xa\r\n\r\n") << 400;
    QTest::newRow("NUL in value") << QByteArray("GET / HTTP/1.1\r\n" + host + QByteArray("X: a\0b\r\n\r\n", 11)) << 400;
    QTest::newRow("no host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("two hosts") << QByteArray("GET / HTTP/1.1\r\n" + host + host + "\r\n") << 400;
    QTest::newRow("CL and TE") << QByteArray("POST / HTTP/1.1\r\n" + host
                                             + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
                               << 400;
    QTest::newRow("conflicting CL") << QByteArray("POST / HTTP/1.1\r\n" + host
                                                  + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n")
                                    << 400;
    QTest::newRow("negative CL") << QByteArray("POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n") << 400;
    QTest::newRow("CL not a number") << QByteArray("POST / HTTP/1.1\r\n" + host + "Content-Length: 1e3\r\n\r\n") << 400;
    QTest::newRow("CL too long") << QByteArray("POST / HTTP/1.1\r\n" + host
                                               + "Content-Length: 9999999999999999999\r\n\r\n")
                                 << 400;
    QTest::newRow("gzip coding") << QByteArray("POST / HTTP/1.1\r\n" + host
                                               + "Transfer-Encoding: gzip, chunked\r\n\r\n")
                                 << 501;
    QTest::newRow("chunked not last") << QByteArray("POST / HTTP/1.1\r\n" + host
                                                    + "Transfer-Encoding: chunked, gzip\r\n\r\n")
                                      << 400;
    QTest::newRow("TE in 1.0") << QByteArray("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") << 400;
}

void tst_RequestParser::malformed()
{
    QFETCH(QByteArray, input);
    QFETCH(int, status);
    const Transcript t = checkedRun(input);
    QCOMPARE(t.errorStatus, status);
    QVERIFY(t.heads.isEmpty());
}

void tst_RequestParser::requestLineLimit()
{
    ParserLimits limits;
    limits.maxRequestLineBytes = 64;
    // "GET " + "/" + 48 bytes + " HTTP/1.1" + CRLF: 64
    const QByteArray fits = "GET /" + QByteArray(48, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
    QCOMPARE(checkedRun(fits, limits).ends, 1);
    const QByteArray over = "GET /" + QByteArray(49, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
    QCOMPARE(checkedRun(over, limits).errorStatus, 414);
    // Refused before the line ends: an endless line is never buffered whole.
    RequestParser parser(limits);
    QCOMPARE(parser.parse("GET /" + QByteArray(100, 'a')).step, RequestParser::Step::Error);
    QCOMPARE(parser.errorStatus(), 414);
}

void tst_RequestParser::headerBytesLimit()
{
    ParserLimits limits;
    limits.maxHeaderBytes = 100;
    // "Host: h\r\n" (9) + "X: " (3) + value + "\r\n" (2) + final "\r\n" (2) = 100
    const QByteArray fits = "GET / HTTP/1.1\r\nHost: h\r\nX: " + QByteArray(100 - 16, 'v') + "\r\n\r\n";
    QCOMPARE(checkedRun(fits, limits).ends, 1);
    const QByteArray over = "GET / HTTP/1.1\r\nHost: h\r\nX: " + QByteArray(100 - 15, 'v') + "\r\n\r\n";
    QCOMPARE(checkedRun(over, limits).errorStatus, 431);
    // Trailers have a budget of their own, and the same limit.
    const QByteArray trailers =
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + QByteArray(200, 't') + "\r\n\r\n";
    QCOMPARE(checkedRun(trailers, limits).errorStatus, 431);
}

void tst_RequestParser::headerCountLimit()
{
    ParserLimits limits;
    limits.maxHeaderCount = 5;
    QByteArray fields = "Host: h\r\n";
    for (int i = 0; i < 4; ++i)
        fields += "X" + QByteArray::number(i) + ": v\r\n";
    QCOMPARE(checkedRun("GET / HTTP/1.1\r\n" + fields + "\r\n", limits).ends, 1);
    QCOMPARE(checkedRun("GET / HTTP/1.1\r\n" + fields + "Y: v\r\n\r\n", limits).errorStatus, 431);
}

void tst_RequestParser::bodyLimitContentLength()
{
    ParserLimits limits;
    limits.maxBodyBytes = 10;
    QCOMPARE(checkedRun("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", limits).bodies,
             QList<QByteArray>{"0123456789"});
    // Over: refused after the head, before any body byte is taken.
    RequestParser parser(limits);
    const QByteArray input = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n0123456789x";
    auto r = parser.parse(input);
    QCOMPARE(r.step, RequestParser::Step::Head);
    QCOMPARE(parser.contentLength(), std::optional<qint64>(11));
    r = parser.parse(QByteArrayView(input).sliced(r.consumed));
    QCOMPARE(r.step, RequestParser::Step::Error);
    QCOMPARE(r.consumed, 0);
    QCOMPARE(parser.errorStatus(), 413);
    QCOMPARE(parser.bodyBytesReceived(), 0);
}

void tst_RequestParser::bodyLimitChunked()
{
    ParserLimits limits;
    limits.maxBodyBytes = 10;
    const QByteArray head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    QCOMPARE(checkedRun(head + "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", limits).bodies,
             QList<QByteArray>{"0123456789"});
    const Transcript over = checkedRun(head + "5\r\n01234\r\n6\r\n56789x\r\n0\r\n\r\n", limits);
    QCOMPARE(over.errorStatus, 413);
    QCOMPARE(over.ends, 0);
}

void tst_RequestParser::perRequestBodyLimit()
{
    ParserLimits limits;
    limits.maxBodyBytes = 1000;
    const QByteArray input = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n" + QByteArray(20, 'b');
    QCOMPARE(checkedRun(input, limits, 19).errorStatus, 413);
    QCOMPARE(checkedRun(input, limits, 20).ends, 1);
    // The limit is per request: the next one starts from the default again.
    const Transcript two = checkedRun(input + input, limits, -1);
    QCOMPARE(two.ends, 2);
}

void tst_RequestParser::midRequestState()
{
    RequestParser parser;
    QVERIFY(!parser.isMidRequest());
    QCOMPARE(parser.parse("GE").step, RequestParser::Step::NeedMore);
    QVERIFY(parser.isMidRequest());
    QCOMPARE(parser.parse("T / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n").step, RequestParser::Step::Head);
    QVERIFY(parser.isInBody());
    QCOMPARE(parser.parse("ab").step, RequestParser::Step::Body);
    QCOMPARE(parser.parse({}).step, RequestParser::Step::End);
    QVERIFY(!parser.isMidRequest());
    QVERIFY(!parser.isInBody());
}

void tst_RequestParser::errorIsSticky()
{
    RequestParser parser;
    QCOMPARE(parser.parse("BAD\r\n").step, RequestParser::Step::Error);
    QVERIFY(parser.hasError());
    QVERIFY(!parser.errorMessage().isEmpty());
    QCOMPARE(parser.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").step, RequestParser::Step::Error);
}

QTEST_APPLESS_MAIN(tst_RequestParser)
#include "tst_requestparser.moc"
