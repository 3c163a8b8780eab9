// The EventSource transport's HTTP/1.1 response parser (lib/sse/httpresponseparser_p.h): each
// rule checked with the response fed whole, byte by byte and in seeded random chunkings; every
// chunking must give the same transcript.

#include "sse/httpresponseparser_p.h"

#include <QRandomGenerator>
#include <QTest>

#include <cstring>

using namespace clipdeck::sse;
using Step = HttpResponseParser::Step;

namespace {

// Literals with embedded NULs: QByteArray(const char *) stops at the first.
template <qsizetype N>
QByteArray B(const char (&text)[N])
{
    return QByteArray(text, N - 1);
}

QString quoted(QByteArrayView bytes)
{
    QString out = QStringLiteral("\"");
    for (const char c : bytes) {
        switch (c) {
        case '\n': out += u"\\n"; break;
        case '\r': out += u"\\r"; break;
        case '\\': out += u"\\\\"; break;
        case '"': out += u"\\\""; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F)
                out += QStringLiteral("\\x%1").arg(static_cast<unsigned char>(c), 2, 16, QLatin1Char('0'));
            else
                out += QLatin1Char(c);
        }
    }
    return out + u'"';
}

const char *errorName(HttpResponseParser::Error error)
{
    switch (error) {
    case HttpResponseParser::Error::None: return "none";
    case HttpResponseParser::Error::HeadTooLarge: return "head-too-large";
    case HttpResponseParser::Error::Malformed: return "malformed";
    case HttpResponseParser::Error::Unsupported: return "unsupported";
    case HttpResponseParser::Error::Truncated: return "truncated";
    }
    return "?";
}

const char *framingName(HttpResponseParser::Framing framing)
{
    switch (framing) {
    case HttpResponseParser::Framing::NoBody: return "no body";
    case HttpResponseParser::Framing::ContentLength: return "content-length";
    case HttpResponseParser::Framing::Chunked: return "chunked";
    case HttpResponseParser::Framing::UntilClose: return "until close";
    }
    return "?";
}

struct Chunking
{
    QString name;
    QList<qsizetype> sizes; // empty: the whole response at once
};

QList<QByteArrayView> cut(const QByteArray &bytes, const Chunking &chunking)
{
    if (chunking.sizes.isEmpty())
        return {QByteArrayView(bytes)};
    QList<QByteArrayView> chunks;
    qsizetype at = 0;
    for (qsizetype i = 0; at < bytes.size(); ++i) {
        const qsizetype size = qMin(chunking.sizes[i % chunking.sizes.size()], bytes.size() - at);
        chunks.append(QByteArrayView(bytes).sliced(at, size));
        at += size;
    }
    return chunks;
}

QList<Chunking> chunkings(qsizetype size)
{
    QList<Chunking> list{{QStringLiteral("whole"), {}},
                         {QStringLiteral("byte by byte"), {1}},
                         {QStringLiteral("2-byte chunks"), {2}},
                         {QStringLiteral("3-byte chunks"), {3}}};
    for (quint32 seed = 1; seed <= 12; ++seed) {
        QRandomGenerator random(seed);
        const int bound = seed % 2 ? 8 : int(qMax<qsizetype>(2, size));
        Chunking chunking{QStringLiteral("random chunking, seed %1").arg(seed), {}};
        for (int i = 0; i < 64; ++i)
            chunking.sizes.append(1 + random.bounded(bound));
        list.append(chunking);
    }
    return list;
}

struct Options
{
    qsizetype maxHead = HttpResponseParser::DefaultMaxHeadSize;
    bool closeAtEnd = true; // the connection closes after the last byte
    bool head = false;      // a response to HEAD
};

// What the parser said, in order; consecutive body pieces joined (chunking decides how the body
// is cut, never what it is). Invariants are checked on every step and reported in the log.
QStringList transcript(const QByteArray &response, const Chunking &chunking, const Options &options = {})
{
    HttpResponseParser parser(options.maxHead);
    parser.setRequestMethodIsHead(options.head);
    QStringList log;
    QByteArray body;
    bool headSeen = false;
    const auto flushBody = [&] {
        if (!body.isEmpty())
            log << QStringLiteral("body ") + quoted(body);
        body.clear();
    };
    // true once the response is over
    const auto record = [&](const HttpResponseParser::Result &r) {
        switch (r.step) {
        case Step::NeedMore: return false;
        case Step::Head:
            if (headSeen)
                log << QStringLiteral("a second head");
            headSeen = true;
            log << QStringLiteral("head %1 %2").arg(parser.status()).arg(quoted(parser.reason()));
            for (const auto &[name, value] : parser.headers())
                log << QStringLiteral("  %1: %2").arg(QString::fromLatin1(name), quoted(value));
            log << QStringLiteral("  framing: %1").arg(QLatin1StringView(framingName(parser.framing())));
            if (!parser.isHeadComplete())
                log << QStringLiteral("isHeadComplete() disagrees");
            return false;
        case Step::Body:
            if (!headSeen)
                log << QStringLiteral("body before the head");
            body += r.body.toByteArray();
            return false;
        case Step::End:
            flushBody();
            log << QStringLiteral("end");
            return true;
        case Step::Error:
            flushBody();
            log << QStringLiteral("error %1: %2")
                       .arg(QLatin1StringView(errorName(parser.error())), parser.errorString());
            if (!parser.hasError())
                log << QStringLiteral("hasError() disagrees");
            return true;
        }
        return true;
    };

    bool over = false;
    for (const QByteArrayView chunk : cut(response, chunking)) {
        // A copy, scribbled over after use: nothing may point into a chunk once it is handled.
        QByteArray copy = chunk.toByteArray();
        QByteArrayView rest = copy;
        while (!over) {
            const auto r = parser.parse(rest);
            if (r.consumed < 0 || r.consumed > rest.size())
                log << QStringLiteral("consumed %1 of %2").arg(r.consumed).arg(rest.size());
            if (r.step == Step::Body
                && (r.body.isEmpty() || r.body.data() < rest.data()
                    || r.body.data() + r.body.size() > rest.data() + r.consumed))
                log << QStringLiteral("a body view outside the bytes consumed");
            if (parser.headBytes() > options.maxHead)
                log << QStringLiteral("head bytes %1 over the limit").arg(parser.headBytes());
            rest = rest.sliced(qBound<qsizetype>(0, r.consumed, rest.size()));
            over = record(r);
            if (r.step == Step::NeedMore) {
                if (!rest.isEmpty())
                    log << QStringLiteral("NeedMore with bytes left");
                break;
            }
        }
        std::memset(copy.data(), 0xA5, size_t(copy.size()));
        if (over)
            break;
    }
    if (over) {
        // Sticky: nothing more is taken.
        const auto again = parser.parse("more");
        if (again.consumed != 0 || (again.step != Step::End && again.step != Step::Error))
            log << QStringLiteral("input taken after the end");
    } else if (options.closeAtEnd) {
        const auto r = parser.endOfInput();
        flushBody();
        if (!record(r))
            log << QStringLiteral("endOfInput() did not end");
    } else {
        flushBody();
        log << QStringLiteral("(waiting for more)");
    }
    return log;
}

QStringList head(int status, QByteArrayView reason, const QList<std::pair<QByteArray, QByteArray>> &headers,
                 const char *framing)
{
    QStringList out{QStringLiteral("head %1 %2").arg(status).arg(quoted(reason))};
    for (const auto &[name, value] : headers)
        out << QStringLiteral("  %1: %2").arg(QString::fromLatin1(name), quoted(value));
    out << QStringLiteral("  framing: %1").arg(QLatin1StringView(framing));
    return out;
}

QString body(QByteArrayView bytes)
{
    return QStringLiteral("body ") + quoted(bytes);
}

QString end()
{
    return QStringLiteral("end");
}

QString error(const char *kind, const QString &message)
{
    return QStringLiteral("error %1: %2").arg(QLatin1StringView(kind), message);
}

QString malformed(const char *what)
{
    return error("malformed", QStringLiteral("malformed HTTP response: ") + QLatin1StringView(what));
}

QString truncated(const char *message)
{
    return error("truncated", QLatin1StringView(message));
}

const QByteArray Ok = "HTTP/1.1 200 OK\r\n";

} // namespace

Q_DECLARE_METATYPE(Options)

class tst_HttpResponseParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rules_data();
    void rules();

    void hugeHeadIsRefusedAtTheLimit();
    void headLimitCountsInterimResponses();
    void headerLookup();
};

void tst_HttpResponseParser::rules_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<Options>("options");
    QTest::addColumn<QStringList>("expected");

    const QByteArray sse = "Content-Type: text/event-stream\r\n";
    const auto ct = std::pair<QByteArray, QByteArray>("Content-Type", "text/event-stream");

    // Framing
    QTest::newRow("content-length, then bytes that are not looked at")
        << QByteArray(Ok + "Content-Length: 5\r\n\r\nhelloEXTRA") << Options{}
        << (head(200, "OK", {{"Content-Length", "5"}}, "content-length") << body("hello") << end());
    QTest::newRow("content-length 0") << QByteArray(Ok + "Content-Length: 0\r\n\r\n") << Options{}
                                      << (head(200, "OK", {{"Content-Length", "0"}}, "content-length") << end());
    QTest::newRow("chunked, extensions, trailers")
        << QByteArray(Ok + sse + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA ; x\r\n0123456789\r\n1f\r\n"
                      + QByteArray(31, 'z') + "\r\n0\r\nX-Trailer: 1\r\n\r\nGARBAGE")
        << Options{}
        << (head(200, "OK", {ct, {"Transfer-Encoding", "chunked"}}, "chunked")
            << body("hello0123456789" + QByteArray(31, 'z')) << end());
    QTest::newRow("chunked, bare LF") << QByteArray(Ok + "Transfer-Encoding: Chunked\n\n3\nabc\n0\n\n") << Options{}
                                      << (head(200, "OK", {{"Transfer-Encoding", "Chunked"}}, "chunked")
                                          << body("abc") << end());
    QTest::newRow("close-delimited") << QByteArray("HTTP/1.0 200 OK\r\n" + sse + "\r\ndata: x\n\n") << Options{}
                                     << (head(200, "OK", {ct}, "until close") << body("data: x\n\n") << end());
    QTest::newRow("close-delimited, still open")
        << QByteArray(Ok + sse + "\r\ndata: x\n\n") << Options{Options{}.maxHead, false}
        << (head(200, "OK", {ct}, "until close") << body("data: x\n\n") << QStringLiteral("(waiting for more)"));
    QTest::newRow("204 has no body") << QByteArray("HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc")
                                     << Options{}
                                     << (head(204, "No Content", {{"Content-Length", "3"}}, "no body") << end());
    QTest::newRow("304 has no body") << QByteArray("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")
                                     << Options{}
                                     << (head(304, "Not Modified", {{"Transfer-Encoding", "chunked"}}, "no body")
                                         << end());
    QTest::newRow("a response to HEAD has no body")
        << QByteArray(Ok + "Content-Length: 10\r\n\r\n") << Options{Options{}.maxHead, true, true}
        << (head(200, "OK", {{"Content-Length", "10"}}, "no body") << end());
    QTest::newRow("equal content-lengths")
        << QByteArray(Ok + "Content-Length: 2, 2\r\nContent-Length: 2\r\n\r\nhi") << Options{}
        << (head(200, "OK", {{"Content-Length", "2, 2"}, {"Content-Length", "2"}}, "content-length")
            << body("hi") << end());

    // Heads
    QTest::newRow("no reason phrase") << QByteArray("HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n") << Options{}
                                      << (head(503, "", {{"Content-Length", "0"}}, "content-length") << end());
    QTest::newRow("empty reason phrase") << QByteArray("HTTP/1.1 200 \r\n\r\n") << Options{}
                                         << (head(200, "", {}, "until close") << end());
    QTest::newRow("field values trimmed, empty value")
        << QByteArray(Ok + "A:   x y \t\r\nB:\r\n\r\n") << Options{}
        << (head(200, "OK", {{"A", "x y"}, {"B", ""}}, "until close") << end());
    QTest::newRow("obs-fold unfolded into a space")
        << QByteArray(Ok + "X-A: one\r\n  two\r\n\tthree\r\n\r\n") << Options{}
        << (head(200, "OK", {{"X-A", "one two three"}}, "until close") << end());
    QTest::newRow("interim responses skipped")
        << QByteArray("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + Ok
                      + "Content-Length: 1\r\n\r\nx")
        << Options{} << (head(200, "OK", {{"Content-Length", "1"}}, "content-length") << body("x") << end());
    QTest::newRow("obs-text in the reason") << QByteArray("HTTP/1.1 200 D\xC3\xA9j\xC3\xA0 vu\r\n\r\n") << Options{}
                                            << (head(200, "D\xC3\xA9j\xC3\xA0 vu", {}, "until close") << end());

    // Malformed heads
    for (const char *line : {"HTTP/1.1 20 OK", "HTTP/2.0 200 OK", "HTTP/1.1 200OK", "ICY 200 OK", "HTTP/1.1 2000 OK",
                             "http/1.1 200 OK", "HTTP/1.x 200 OK", " HTTP/1.1 200 OK", "HTTP/1.1  200 OK"}) {
        QTest::addRow("status line \"%s\"", line) << QByteArray(QByteArray(line) + "\r\n\r\n") << Options{}
                                                  << QStringList{malformed("not an HTTP/1.x status line")};
    }
    QTest::newRow("status 099") << QByteArray("HTTP/1.1 099 Odd\r\n\r\n") << Options{}
                                << QStringList{malformed("status 99")};
    QTest::newRow("no colon") << QByteArray(Ok + "NoColon\r\n\r\n") << Options{}
                              << QStringList{malformed("a header line that is not \"name: value\"")};
    QTest::newRow("space before colon") << QByteArray(Ok + "Name : v\r\n\r\n") << Options{}
                                        << QStringList{malformed("a header line that is not \"name: value\"")};
    QTest::newRow("empty name") << QByteArray(Ok + ": v\r\n\r\n") << Options{}
                                << QStringList{malformed("a header line that is not \"name: value\"")};
    QTest::newRow("fold before any field") << QByteArray(Ok + " folded\r\n\r\n") << Options{}
                                           << QStringList{malformed("a continuation line without a field")};
    QTest::newRow("NUL in a value") << QByteArray(Ok + B("A: x\0y\r\n\r\n")) << Options{}
                                    << QStringList{malformed("a NUL or a bare CR in the head")};
    QTest::newRow("bare CR in a value") << QByteArray(Ok + "A: x\ry\r\n\r\n") << Options{}
                                        << QStringList{malformed("a NUL or a bare CR in the head")};
    QTest::newRow("101") << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n") << Options{}
                         << QStringList{error(
                                "unsupported",
                                QStringLiteral("the server switched protocols (HTTP 101), which was not asked for"))};

    // Framing errors
    QTest::newRow("content-length and transfer-encoding")
        << QByteArray(Ok + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") << Options{}
        << QStringList{malformed("both Content-Length and Transfer-Encoding")};
    QTest::newRow("differing content-lengths") << QByteArray(Ok + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n")
                                               << Options{} << QStringList{malformed("invalid Content-Length")};
    for (const char *value : {"+5", "5a", "", "-1", "0x10", "1234567890123456789"}) {
        QTest::addRow("content-length \"%s\"", value) << QByteArray(Ok + "Content-Length: " + value + "\r\n\r\n")
                                                      << Options{} << QStringList{malformed("invalid Content-Length")};
    }
    QTest::newRow("gzip transfer coding") << QByteArray(Ok + "Transfer-Encoding: gzip\r\n\r\n") << Options{}
                                          << QStringList{error("unsupported", QStringLiteral("unsupported transfer "
                                                                                             "coding \"gzip\" (only "
                                                                                             "chunked is)"))};
    QTest::newRow("gzip, chunked") << QByteArray(Ok + "Transfer-Encoding: gzip, chunked\r\n\r\n") << Options{}
                                   << QStringList{error("unsupported", QStringLiteral("unsupported transfer coding "
                                                                                      "\"gzip\" (only chunked is)"))};
    QTest::newRow("chunked twice") << QByteArray(Ok
                                                 + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")
                                   << Options{} << QStringList{malformed("chunked applied more than once")};

    // Chunk errors
    const QByteArray chunked = Ok + "Transfer-Encoding: chunked\r\n\r\n";
    const QStringList chunkedHead = head(200, "OK", {{"Transfer-Encoding", "chunked"}}, "chunked");
    QTest::newRow("chunk size not hex") << QByteArray(chunked + "g\r\n") << Options{}
                                        << (QStringList(chunkedHead) << malformed("invalid chunk size"));
    QTest::newRow("chunk size empty") << QByteArray(chunked + "\r\n") << Options{}
                                      << (QStringList(chunkedHead) << malformed("invalid chunk size"));
    QTest::newRow("chunk size, 16 digits") << QByteArray(chunked + "1000000000000000\r\n") << Options{}
                                           << (QStringList(chunkedHead) << malformed("invalid chunk size"));
    QTest::newRow("chunk size, 15 digits, truncated")
        << QByteArray(chunked + "100000000000000\r\nabc") << Options{}
        << (QStringList(chunkedHead) << body("abc")
                                     << truncated("the connection closed before the end of the response body"));
    QTest::newRow("chunk longer than its size")
        << QByteArray(chunked + "3\r\nhello\r\n0\r\n\r\n") << Options{}
        << (QStringList(chunkedHead) << body("hel") << malformed("a chunk longer than its size"));
    QTest::newRow("chunk-size line too long")
        << QByteArray(chunked + "1;" + QByteArray(5000, 'e') + "\r\n") << Options{}
        << (QStringList(chunkedHead) << malformed("a chunk-size line longer than 4096 bytes"));
    QTest::newRow("trailers too large") << QByteArray(chunked + "0\r\nX: " + QByteArray(200, 't') + "\r\n\r\n")
                                        << Options{128}
                                        << (QStringList(chunkedHead)
                                            << error("head-too-large", QStringLiteral("the response trailers are "
                                                                                      "larger than the limit of 128 "
                                                                                      "bytes")));

    // Truncated
    QTest::newRow("nothing at all") << QByteArray() << Options{}
                                    << QStringList{truncated("the connection closed without a response")};
    QTest::newRow("inside the status line") << QByteArray("HTTP/1.1 20") << Options{}
                                            << QStringList{truncated("the connection closed in the middle of the "
                                                                     "response head")};
    QTest::newRow("inside the headers") << QByteArray(Ok + "Content-Type: text/ev") << Options{}
                                        << QStringList{truncated("the connection closed in the middle of the "
                                                                 "response head")};
    QTest::newRow("inside a content-length body")
        << QByteArray(Ok + "Content-Length: 5\r\n\r\nhel") << Options{}
        << (head(200, "OK", {{"Content-Length", "5"}}, "content-length")
            << body("hel") << truncated("the connection closed before the end of the response body"));
    QTest::newRow("before the last chunk")
        << QByteArray(chunked + "3\r\nabc\r\n") << Options{}
        << (QStringList(chunkedHead) << body("abc")
                                     << truncated("the connection closed before the end of the response body"));

    // Head limit
    const QByteArray padded = Ok + "X-Pad: " + QByteArray(100, 'p') + "\r\n\r\n";
    QTest::newRow("head exactly at the limit")
        << QByteArray(padded + "x") << Options{padded.size()}
        << (head(200, "OK", {{"X-Pad", QByteArray(100, 'p')}}, "until close") << body("x") << end());
    QTest::newRow("head one byte over the limit")
        << QByteArray(padded + "x") << Options{padded.size() - 1}
        << QStringList{
               error("head-too-large",
                     QStringLiteral("the response head is larger than the limit of %1 bytes").arg(padded.size() - 1))};
    QTest::newRow("status line over the limit")
        << QByteArray("HTTP/1.1 200 " + QByteArray(300, 'r') + "\r\n\r\n") << Options{64}
        << QStringList{error("head-too-large", QStringLiteral("the response head is larger than the limit of 64 "
                                                              "bytes"))};
}

void tst_HttpResponseParser::rules()
{
    QFETCH(QByteArray, response);
    QFETCH(Options, options);
    QFETCH(QStringList, expected);
    for (const Chunking &chunking : chunkings(response.size())) {
        const QStringList actual = transcript(response, chunking, options);
        if (actual != expected) {
            qWarning("chunking: %s", qPrintable(chunking.name));
            QCOMPARE(actual, expected);
        }
    }
}

// A head that never ends is refused after exactly maxHeadSize bytes: the parser does not look at
// a byte more, however much is handed to it at once.
void tst_HttpResponseParser::hugeHeadIsRefusedAtTheLimit()
{
    const QByteArray start = Ok + "X-Filler: ";
    QByteArray huge = start;
    huge.append(50 * 1024 * 1024 - start.size(), 'f');

    HttpResponseParser whole;
    const auto r = whole.parse(huge);
    QCOMPARE(r.step, Step::Error);
    QCOMPARE(whole.error(), HttpResponseParser::Error::HeadTooLarge);
    QCOMPARE(r.consumed, HttpResponseParser::DefaultMaxHeadSize);
    QCOMPARE(whole.headBytes(), HttpResponseParser::DefaultMaxHeadSize);

    // Byte by byte: the byte after the limit is the one refused.
    HttpResponseParser bytewise;
    qsizetype fed = 0;
    for (; fed < huge.size(); ++fed) {
        const auto step = bytewise.parse(QByteArrayView(huge).sliced(fed, 1));
        if (step.step != Step::NeedMore) {
            QCOMPARE(step.step, Step::Error);
            QCOMPARE(step.consumed, 0);
            break;
        }
    }
    QCOMPARE(fed, HttpResponseParser::DefaultMaxHeadSize);
    QCOMPARE(bytewise.errorString(), QStringLiteral("the response head is larger than the limit of 65536 bytes"));
}

void tst_HttpResponseParser::headLimitCountsInterimResponses()
{
    const QByteArray interim = "HTTP/1.1 103 Early Hints\r\nLink: </" + QByteArray(40, 'l') + ">\r\n\r\n";
    const QByteArray response = interim.repeated(4) + Ok + "\r\n";
    HttpResponseParser fits(response.size());
    QCOMPARE(fits.parse(response).step, Step::Head);
    HttpResponseParser tooSmall(response.size() - 1);
    QCOMPARE(tooSmall.parse(response).step, Step::Error);
    QCOMPARE(tooSmall.error(), HttpResponseParser::Error::HeadTooLarge);
}

void tst_HttpResponseParser::headerLookup()
{
    HttpResponseParser parser;
    const QByteArray response = Ok + "Link: <a>\r\ncontent-type: text/event-stream\r\nLINK: <b>\r\n\r\n";
    QCOMPARE(parser.hasStarted(), false);
    QCOMPARE(parser.parse(response).step, Step::Head);
    QCOMPARE(parser.hasStarted(), true);
    QCOMPARE(parser.header("Content-Type"), QByteArray("text/event-stream"));
    QCOMPARE(parser.header("link"), QByteArray("<a>, <b>"));
    QCOMPARE(parser.header("Retry-After"), QByteArray());
}

QTEST_APPLESS_MAIN(tst_HttpResponseParser)
#include "tst_httpresponseparser.moc"
