// The WHATWG "interpreting an event stream" rules, each checked with the stream fed whole, byte
// by byte and in seeded random chunkings: every chunking must give the same transcript.

#include "sse/parser.h"

#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTest>

#include <climits>
#include <cstring>
#include <memory>

using namespace clipdeck::sse;

namespace {

// Literals with embedded NULs: QByteArray(const char *) and QStringView(u"...") stop at the first.
template <qsizetype N>
QByteArray B(const char (&text)[N])
{
    return QByteArray(text, N - 1);
}

template <qsizetype N>
QString S(const char16_t (&text)[N])
{
    return QString::fromUtf16(text, N - 1);
}

// Control characters and non-ASCII spelled out, so a failing comparison shows what differs.
QString quoted(QStringView text)
{
    QString out = QStringLiteral("\"");
    for (const QChar c : text) {
        switch (c.unicode()) {
        case '\n': out += u"\\n"; break;
        case '\r': out += u"\\r"; break;
        case '\t': out += u"\\t"; break;
        case '\\': out += u"\\\\"; break;
        case '"': out += u"\\\""; break;
        default:
            if (c.unicode() < 0x20 || c.unicode() >= 0x7F)
                out += QStringLiteral("\\u{%1}").arg(c.unicode(), 4, 16, QLatin1Char('0'));
            else
                out += c;
        }
    }
    out += u'"';
    return out;
}

QString ev(QStringView type, QStringView data, QStringView id)
{
    return QStringLiteral("event type=%1 data=%2 id=%3").arg(quoted(type), quoted(data), quoted(id));
}

QString msg(QStringView data, QStringView id = {})
{
    return ev(u"message", data, id);
}

QString comment(QStringView text)
{
    return QStringLiteral("comment %1").arg(quoted(text));
}

QString retry(int ms)
{
    return QStringLiteral("retry %1").arg(ms);
}

QString lastId(QStringView id)
{
    return QStringLiteral("lastEventId %1").arg(quoted(id));
}

QString error(QStringView message)
{
    return QStringLiteral("error %1").arg(message);
}

QString lineTooLong(int max)
{
    return error(QStringLiteral("event stream line longer than the maximum event size (%1 bytes)").arg(max));
}

QString dataTooLarge(int max)
{
    return error(QStringLiteral("event data larger than the maximum event size (%1 bytes)").arg(max));
}

// Chunk sizes for one way of cutting a stream; they repeat when the stream is longer.
struct Chunking
{
    QString name;
    QList<qsizetype> sizes; // empty: the whole stream at once
};

QList<QByteArrayView> cut(const QByteArray &stream, const Chunking &chunking)
{
    QList<QByteArrayView> chunks;
    if (chunking.sizes.isEmpty()) {
        chunks.append(stream);
        return chunks;
    }
    qsizetype at = 0;
    for (qsizetype i = 0; at < stream.size(); ++i) {
        const qsizetype size = qMin(chunking.sizes[i % chunking.sizes.size()], stream.size() - at);
        chunks.append(QByteArrayView(stream).sliced(at, size));
        at += size;
    }
    return chunks;
}

QList<Chunking> chunkings(qsizetype streamSize)
{
    QList<Chunking> list;
    list.append({QStringLiteral("whole"), {}});
    list.append({QStringLiteral("byte by byte"), {1}});
    list.append({QStringLiteral("2-byte chunks"), {2}});
    list.append({QStringLiteral("3-byte chunks"), {3}});
    list.append({QStringLiteral("7-byte chunks"), {7}});
    for (quint32 seed = 1; seed <= 12; ++seed) {
        QRandomGenerator random(seed);
        // Small pieces for half the seeds, pieces up to the whole stream for the others.
        const int bound = seed % 2 ? 8 : int(qMax<qsizetype>(2, streamSize));
        Chunking chunking{QStringLiteral("random chunking, seed %1").arg(seed), {}};
        for (int i = 0; i < 64; ++i)
            chunking.sizes.append(1 + random.bounded(bound));
        list.append(chunking);
    }
    return list;
}

// Every callback and the final last event ID, in order.
class Recorder
{
public:
    explicit Recorder(Parser &parser) : m_parser(parser)
    {
        parser.setCallbacks({
            [this](const Event &e) { log.append(ev(e.type, e.data, e.lastEventId)); },
            [this](QStringView text) { log.append(comment(text)); },
            [this](int ms) { log.append(retry(ms)); },
        });
    }

    // Each chunk is copied and the copy scribbled over after feed(): the parser must not keep
    // pointers into a chunk it has returned from.
    void feed(const QList<QByteArrayView> &chunks)
    {
        bool failed = false;
        for (const QByteArrayView chunk : chunks) {
            QByteArray copy = chunk.toByteArray();
            const bool accepted = m_parser.feed(copy);
            std::memset(copy.data(), 0xA5, size_t(copy.size()));
            if (!accepted && !failed) {
                failed = true;
                log.append(error(m_parser.errorString()));
            } else if (accepted && failed) {
                log.append(QStringLiteral("input accepted after an error"));
            }
            if (m_parser.hasError() != failed)
                log.append(QStringLiteral("hasError() disagrees with feed()"));
        }
    }

    void endOfStream()
    {
        m_parser.endOfStream();
        log.append(lastId(m_parser.lastEventId()));
    }

    QStringList log;

private:
    Parser &m_parser;
};

QStringList transcript(const QByteArray &stream, const QByteArray &secondStream, int maxEventSize,
                       const Chunking &chunking)
{
    Parser parser;
    if (maxEventSize > 0)
        parser.setMaxEventSize(maxEventSize);
    Recorder recorder(parser);
    recorder.feed(cut(stream, chunking));
    recorder.endOfStream();
    if (!secondStream.isNull()) {
        recorder.feed(cut(secondStream, chunking));
        recorder.endOfStream();
    }
    return recorder.log;
}

QByteArray pseudoRandomText(qsizetype size, quint32 seed)
{
    // Printable ASCII and multi-byte UTF-8 (2, 3 and 4 bytes), so chunk boundaries fall
    // inside sequences; valid UTF-8, so QString::fromUtf8 gives the expected result.
    static const QByteArray pieces[] = {
        "abc", "{\"k\":1}", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "xyz0123456789", ":"};
    QRandomGenerator random(seed);
    QByteArray text;
    text.reserve(size);
    for (;;) {
        const QByteArray &piece = pieces[random.bounded(int(std::size(pieces)))];
        if (text.size() + piece.size() > size)
            break;
        text.append(piece);
    }
    text.append(size - text.size(), 'a');
    return text;
}

} // namespace

class tst_Parser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rules_data();
    void rules();

    void crlfSplitAcrossChunks();
    void hugeLineInSmallChunks_data();
    void hugeLineInSmallChunks();
    void limitBoundsBuffering();
    void endOfStreamDiscardsPartialEvent();
    void endOfStreamClearsError();
    void reset();
    void setLastEventId();
    void worksWithoutCallbacks();
    void moveKeepsState();
    void keptStringsNeverChange();
    void callbackMayReset();
    void callbackMaySetLastEventId();
    void callbackMayEndStream();
    void callbackMayDestroyParser();
    void callbackMayReplaceCallbacks();
    void feedFromCallbackIsRefused();
    void maxEventSizeIsAtLeastOne();
};

void tst_Parser::rules_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QByteArray>("secondStream"); // fed after endOfStream() when not null
    QTest::addColumn<int>("maxEventSize");        // 0: the default
    QTest::addColumn<QStringList>("expected");

    const QByteArray none;
    auto row = [&](const char *name, const QByteArray &stream, const QStringList &expected,
                   const QByteArray &second = QByteArray(),
                   int max = 0) { QTest::newRow(name) << stream << second << max << expected; };

    // The spec's own examples.
    row("spec: stock ticker", B("data: YHOO\ndata: +2\ndata: 10\n\n"), {msg(u"YHOO\n+2\n10"), lastId(u"")});
    row("spec: comment, ids, one space stripped",
        B(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"),
        {comment(u"test stream"), msg(u"first event", u"1"), msg(u"second event", u""), msg(u" third event", u""),
         lastId(u"")});
    row("spec: empty data, unterminated last event", B("data\n\ndata\ndata\n\ndata:"),
        {msg(u""), msg(u"\n"), lastId(u"")});
    row("spec: space after colon is optional", B("data:test\n\ndata: test\n\n"),
        {msg(u"test"), msg(u"test"), lastId(u"")});
    row("spec: event types",
        B("event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"),
        {ev(u"add", u"73857293", u""), ev(u"remove", u"2153", u""), ev(u"add", u"113411", u""), lastId(u"")});

    // Line ends.
    row("CR line ends", B("data: a\rdata: b\r\rid: 3\r\r"), {msg(u"a\nb"), lastId(u"3")});
    row("CRLF line ends", B("data: a\r\ndata: b\r\n\r\nid: 3\r\n\r\n"), {msg(u"a\nb"), lastId(u"3")});
    row("mixed line ends", B("data: a\r\n\rdata: b\n\r\ndata: c\r\r\ndata: d\n\n"),
        {msg(u"a"), msg(u"b"), msg(u"c"), msg(u"d"), lastId(u"")});
    row("LF CR is two line ends", B("data: a\n\rdata: b\n\n"), {msg(u"a"), msg(u"b"), lastId(u"")});
    row("CR CR is two line ends", B("data: a\r\rdata: b\r\n\r\n"), {msg(u"a"), msg(u"b"), lastId(u"")});
    row("CR CRLF: the LF belongs to the second CR", B("id: 1\r\r\ndata: a\r\n\n"), {msg(u"a", u"1"), lastId(u"1")});
    row("stream ends in CR", B("data: a\r"), {lastId(u"")});

    // Byte order mark.
    row("leading BOM stripped",
        B("\xEF\xBB\xBF"
          "data: a\n\n"),
        {msg(u"a"), lastId(u"")});
    row("second BOM is part of the field name",
        B("\xEF\xBB\xBF\xEF\xBB\xBF"
          "data: a\n\ndata: b\n\n"),
        {msg(u"b"), lastId(u"")});
    row("BOM after the first byte is not stripped",
        B("data: a\n\n\xEF\xBB\xBF"
          "data: b\n\n"),
        {msg(u"a"), lastId(u"")});
    row("partial BOM is ordinary input",
        B("\xEF\xBB"
          "data: a\n\ndata: b\n\n"),
        {msg(u"b"), lastId(u"")});
    row("BOM inside a value is kept",
        B("\xEF\xBB\xBF"
          "data: \xEF\xBB\xBF"
          "a\n\n"),
        {msg(u"\uFEFFa"), lastId(u"")});
    row("BOM before a comment", B("\xEF\xBB\xBF: hi\n"), {comment(u"hi"), lastId(u"")});
    row("BOM stripped again in the next stream",
        B("\xEF\xBB\xBF"
          "data: a\n\n"),
        {msg(u"a"), lastId(u""), msg(u"b"), lastId(u"")},
        B("\xEF\xBB\xBF"
          "data: b\n\n"));

    // Fields and values.
    row("one leading space stripped", B("data:  two\n\ndata:\tx\n\ndata:   \n\n"),
        {msg(u" two"), msg(u"\tx"), msg(u"  "), lastId(u"")});
    row("bare field name means empty value", B("data\n\nevent\ndata\n\n"), {msg(u""), msg(u""), lastId(u"")});
    row("colons in values", B("data: a:b: c\n\ndata::\n\n"), {msg(u"a:b: c"), msg(u":"), lastId(u"")});
    row("names are case-sensitive", B("Data: a\n\nDATA: b\n\nEvent: x\nID: 7\nRetry: 5\ndata: c\n\n"),
        {msg(u"c"), lastId(u"")});
    row("unknown fields ignored", B("foo: bar\ndata: a\nfoo\nfoo:\ndata : b\n data: c\n\n"), {msg(u"a"), lastId(u"")});
    row("comments", B(": hello\n:\n:  two\n:no space\n:: colon\ndata: x\n\n"),
        {comment(u"hello"), comment(u""), comment(u" two"), comment(u"no space"), comment(u": colon"), msg(u"x"),
         lastId(u"")});
    row("comment inside an event", B("data: a\n: note\ndata: b\n\n"), {comment(u"note"), msg(u"a\nb"), lastId(u"")});
    row("data lines joined with LF", B("data: a\ndata:\ndata: b\ndata\n\n"), {msg(u"a\n\nb\n"), lastId(u"")});
    row("NUL and control characters in data", B("data: a\0b\x01\x7f\t\n\n"),
        {msg(S(u"a\0b\u0001\u007f\t")), lastId(u"")});

    // Dispatch.
    row("no dispatch without data; type reset", B("event: foo\n\ndata: x\n\n"), {msg(u"x"), lastId(u"")});
    row("blank line commits the id without an event", B("event: foo\nid: 5\n\n"), {lastId(u"5")});
    row("empty event field means message", B("event: foo\nevent:\ndata: x\n\nevent: foo\nevent\ndata: y\n\n"),
        {msg(u"x"), msg(u"y"), lastId(u"")});
    row("last event field wins", B("event: a\nevent: b\ndata: x\n\n"), {ev(u"b", u"x", u""), lastId(u"")});
    row("type does not outlive its event", B("event: a\ndata: x\n\ndata: y\n\n"),
        {ev(u"a", u"x", u""), msg(u"y"), lastId(u"")});
    row("runs of blank lines", B("\n\n\ndata: a\n\n\n\n"), {msg(u"a"), lastId(u"")});
    row("type with spaces and UTF-8", B("event:  caf\xC3\xA9 \ndata: x\n\n"),
        {ev(u" caf\u00E9 ", u"x", u""), lastId(u"")});

    // Last event ID.
    row("id persists across events", B("id: 1\ndata: a\n\ndata: b\n\n"),
        {msg(u"a", u"1"), msg(u"b", u"1"), lastId(u"1")});
    row("empty id resets", B("id: 1\ndata: a\n\nid\ndata: b\n\nid: 2\n\nid:\ndata: c\n\n"),
        {msg(u"a", u"1"), msg(u"b", u""), msg(u"c", u""), lastId(u"")});
    row("id containing NUL is ignored",
        B("id: 1\ndata: a\n\nid: 2\0"
          "3\ndata: b\n\nid: \0\ndata: c\n\n"),
        {msg(u"a", u"1"), msg(u"b", u"1"), msg(u"c", u"1"), lastId(u"1")});
    row("id keeps inner and trailing spaces", B("id:  x y \ndata: a\n\n"), {msg(u"a", u" x y "), lastId(u" x y ")});
    row("id after data in the same event", B("data: a\nid: 9\n\n"), {msg(u"a", u"9"), lastId(u"9")});
    row("id decoded as UTF-8", B("id: \xC3\xA9\xFF\ndata: a\n\n"),
        {msg(u"a", u"\u00E9\uFFFD"), lastId(u"\u00E9\uFFFD")});

    // Reconnection time.
    row("retry", B("retry: 1500\nretry:0\nretry: 007\n"), {retry(1500), retry(0), retry(7), lastId(u"")});
    row("retry only when all ASCII digits",
        B("retry: 15x\nretry: -1\nretry: 1.5\nretry: \nretry\nretry:  100\nretry: +5\nretry: 1 \n"
          "retry: \xD9\xA1\nretry: 0x10\n"),
        {lastId(u"")});
    row("huge retry saturates", B("retry: 99999999999999999999999\nretry: 2147483647\nretry: 2147483648\n"),
        {retry(INT_MAX), retry(INT_MAX), retry(INT_MAX), lastId(u"")});
    row("retry applies inside an event that is never dispatched", B("data: a\nretry: 10\n"), {retry(10), lastId(u"")});

    // UTF-8 decoding (the chunkings split every sequence somewhere).
    row("valid UTF-8", B("data: \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF\n\n"),
        {msg(u"\u00E9 \u20AC \U0001F600 \uFFFF \U0010FFFF"), lastId(u"")});
    row("invalid UTF-8 replaced per maximal subpart",
        B("data: \xFF|\xC0\x80|\xED\xA0\x80|\xF4\x90\x80\x80|\xE2\x82x|\xE1\x80\xC2\x80|\x80|\xF0\x80\x80\n\n"),
        {msg(u"\uFFFD|\uFFFD\uFFFD|\uFFFD\uFFFD\uFFFD|\uFFFD\uFFFD\uFFFD\uFFFD|\uFFFDx|\uFFFD\u0080|\uFFFD|"
             u"\uFFFD\uFFFD\uFFFD"),
         lastId(u"")});
    row("truncated sequences at line ends", B("data: \xE2\x82\ndata: \xF0\x9F\x98\n\n"),
        {msg(u"\uFFFD\n\uFFFD"), lastId(u"")});
    row("invalid UTF-8 in a comment and a type", B(":\xFF\nevent: \xFF\ndata: a\n\n"),
        {comment(u"\uFFFD"), ev(u"\uFFFD", u"a", u""), lastId(u"")});
    row("invalid bytes make an unknown field name", B("dat\xE1: a\n\n"), {lastId(u"")});

    // End of stream.
    row("unterminated event discarded, its id not committed", B("id: 1\ndata: a\n\nid: 2\ndata: b"),
        {msg(u"a", u"1"), lastId(u"1")});
    row("terminated lines of an unfinished event discarded", B("id: 1\ndata: a\n\nid: 2\ndata: b\n"),
        {msg(u"a", u"1"), lastId(u"1")});
    row("discarded id does not reach the next stream", B("id: 1\ndata: a\n\nid: 2\ndata: b\n"),
        {msg(u"a", u"1"), lastId(u"1"), msg(u"c", u"1"), lastId(u"1")}, B("data: c\n\n"));
    row("committed id carries into the next stream", B("id: 7\n\n"), {lastId(u"7"), msg(u"x", u"7"), lastId(u"7")},
        B("data: x\n\n"));
    row("type and data do not leak into the next stream", B("event: t\ndata: a\n"),
        {lastId(u""), msg(u"b"), lastId(u"")}, B("data: b\n\n"));
    row("partial line does not leak into the next stream", B("data: a\n\ndat"), {msg(u"a"), lastId(u""), lastId(u"")},
        B("a: b\n\n"));

    // Maximum event size.
    row("line at the limit", B("data: 0123456789\n\n"), {msg(u"0123456789"), lastId(u"")}, none, 16);
    row("line over the limit", B("id: 1\ndata: a\n\ndata: 0123456789a\n\ndata: b\n\n"),
        {msg(u"a", u"1"), lineTooLong(16), lastId(u"1")}, none, 16);
    row("unterminated line over the limit", B("data: a\n\n: 0123456789abcdefg"),
        {msg(u"a"), lineTooLong(16), lastId(u"")}, none, 16);
    row("data over the limit", B("data: 12345\ndata: 12345\ndata: 12345\n\ndata: b\n\n"),
        {dataTooLarge(16), lastId(u"")}, none, 16);
    row("data at the limit", B("data: 1234567\ndata: 12345678\n\n"), {msg(u"1234567\n12345678"), lastId(u"")}, none,
        16);
    row("limit error cleared by the next stream", B("data: 0123456789abcdef\n\n"),
        {lineTooLong(16), lastId(u""), msg(u"ok"), lastId(u"")}, B("data: ok\n\n"), 16);
    row("blank lines never count", B("\n\n\n\n\n\ndata\n\n"), {msg(u""), lastId(u"")}, none, 4);
}

void tst_Parser::rules()
{
    QFETCH(QByteArray, stream);
    QFETCH(QByteArray, secondStream);
    QFETCH(int, maxEventSize);
    QFETCH(QStringList, expected);

    for (const Chunking &chunking : chunkings(stream.size())) {
        const QStringList actual = transcript(stream, secondStream, maxEventSize, chunking);
        if (actual != expected)
            qWarning("fed as: %s", qPrintable(chunking.name));
        QCOMPARE(actual, expected);
    }
}

void tst_Parser::crlfSplitAcrossChunks()
{
    // Were the LF taken for a line end of its own, "a" would be dispatched alone.
    Parser parser;
    Recorder recorder(parser);
    recorder.feed({"data: a\r", "\ndata: b\r", "\n\r", "\n"});
    recorder.endOfStream();
    QCOMPARE(recorder.log, QStringList({msg(u"a\nb"), lastId(u"")}));
}

void tst_Parser::hugeLineInSmallChunks_data()
{
    QTest::addColumn<QByteArray>("prefix");
    QTest::addColumn<bool>("isData");

    QTest::newRow("data line") << QByteArray("data: ") << true;
    QTest::newRow("data line, no space") << QByteArray("data:") << true;
    QTest::newRow("comment") << QByteArray(": ") << false;
    QTest::newRow("unknown field") << QByteArray("x-custom: ") << false;
}

void tst_Parser::hugeLineInSmallChunks()
{
    QFETCH(QByteArray, prefix);
    QFETCH(bool, isData);

    // 8 MiB in one line, fed 16 bytes at a time: quadratic work would not finish in time.
    const QByteArray payload = pseudoRandomText(8 * 1024 * 1024, 7);
    const QByteArray stream = "id: big\n" + prefix + payload + "\n\ndata: after\n\n";

    QList<Event> events;
    QList<QString> comments;
    Parser parser(
        {[&](const Event &e) { events.append(e); }, [&](QStringView text) { comments.append(text.toString()); }, {}});
    for (qsizetype at = 0; at < stream.size(); at += 16)
        QVERIFY(parser.feed(QByteArrayView(stream).sliced(at, qMin<qsizetype>(16, stream.size() - at))));

    const QString expected = QString::fromUtf8(payload);
    if (isData) {
        QCOMPARE(events.size(), 2);
        QCOMPARE(events[0].data.size(), expected.size());
        QVERIFY(events[0].data == expected);
        QCOMPARE(events[0].lastEventId, QStringLiteral("big"));
    } else {
        QCOMPARE(events.size(), 1);
        if (prefix.startsWith(':')) {
            QCOMPARE(comments.size(), 1);
            QVERIFY(comments[0] == expected);
        }
    }
    QCOMPARE(events.back().data, QStringLiteral("after"));
}

void tst_Parser::limitBoundsBuffering()
{
    // An endless line is refused as soon as it outgrows the limit, not when it ends.
    constexpr qsizetype limit = 1024 * 1024;
    Parser parser;
    parser.setMaxEventSize(limit);
    QCOMPARE(parser.maxEventSize(), limit);
    const QByteArray chunk(16, 'x');
    QVERIFY(parser.feed("data: 0123456789")); // 16 bytes
    qsizetype fed = 16;
    while (parser.feed(chunk))
        fed += chunk.size();
    QCOMPARE(fed, limit); // the chunk that pushed the line past the limit was refused
    QVERIFY(parser.hasError());
    QVERIFY(parser.errorString().contains(QLatin1String("maximum event size")));
    QVERIFY(!parser.feed("\n\n"));
}

void tst_Parser::endOfStreamDiscardsPartialEvent()
{
    QList<Event> events;
    Parser parser({[&](const Event &e) { events.append(e); }, {}, {}});
    QVERIFY(parser.feed("id: 1\ndata: one\n\nid: 2\nevent: partial\ndata: two\n"));
    QCOMPARE(parser.lastEventId(), QStringLiteral("1"));
    parser.endOfStream();
    QCOMPARE(events.size(), 1);
    QCOMPARE(parser.lastEventId(), QStringLiteral("1"));

    // The next stream starts clean: no data, type or id from the discarded event.
    QVERIFY(parser.feed("\n\ndata: three\n\n"));
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[1], (Event{QStringLiteral("message"), QStringLiteral("three"), QStringLiteral("1")}));
}

void tst_Parser::endOfStreamClearsError()
{
    QList<Event> events;
    Parser parser({[&](const Event &e) { events.append(e); }, {}, {}});
    parser.setMaxEventSize(8);
    QVERIFY(parser.feed("id: 5\n\n"));
    QVERIFY(!parser.feed("data: 123456789\n\n"));
    QVERIFY(parser.hasError());
    parser.endOfStream();
    QVERIFY(!parser.hasError());
    QVERIFY(parser.errorString().isEmpty());
    QCOMPARE(parser.lastEventId(), QStringLiteral("5"));
    QCOMPARE(parser.maxEventSize(), qsizetype(8));
    QVERIFY(parser.feed("data: ok\n\n"));
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].lastEventId, QStringLiteral("5"));
}

void tst_Parser::reset()
{
    QList<Event> events;
    Parser parser({[&](const Event &e) { events.append(e); }, {}, {}});
    parser.setMaxEventSize(64);
    QVERIFY(parser.feed("id: 1\ndata: a\n\nid: 2\nevent: x\ndata: partial"));
    parser.reset();
    QCOMPARE(parser.lastEventId(), QString());
    QVERIFY(parser.feed("\xEF\xBB\xBF"
                        "data: b\n\n"));
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[1], (Event{QStringLiteral("message"), QStringLiteral("b"), QString()}));

    QVERIFY(!parser.feed(QByteArray(100, 'x')));
    parser.reset();
    QVERIFY(!parser.hasError());
    QCOMPARE(parser.maxEventSize(), qsizetype(64));
    QVERIFY(parser.feed("data: c\n\n"));
    QCOMPARE(events.size(), 3);
}

void tst_Parser::setLastEventId()
{
    QList<Event> events;
    Parser parser({[&](const Event &e) { events.append(e); }, {}, {}});
    parser.setLastEventId(QStringLiteral("resume-\u00E9"));
    QCOMPARE(parser.lastEventId(), QStringLiteral("resume-\u00E9"));
    QVERIFY(parser.feed("data: a\n\nid: 43\n\n"));
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].lastEventId, QStringLiteral("resume-\u00E9"));
    QCOMPARE(parser.lastEventId(), QStringLiteral("43"));
    parser.endOfStream();
    QCOMPARE(parser.lastEventId(), QStringLiteral("43"));
}

void tst_Parser::worksWithoutCallbacks()
{
    Parser parser;
    QVERIFY(parser.feed(": c\nretry: 5\nid: 3\ndata: a\n\n"));
    QCOMPARE(parser.lastEventId(), QStringLiteral("3"));
}

void tst_Parser::moveKeepsState()
{
    QList<Event> events;
    Parser first({[&](const Event &e) { events.append(e); }, {}, {}});
    QVERIFY(first.feed("id: 1\ndata: a"));
    Parser second(std::move(first));
    QVERIFY(second.feed("b\n\n"));
    Parser third;
    third = std::move(second);
    QVERIFY(third.feed("data: c\n\n"));
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[0], (Event{QStringLiteral("message"), QStringLiteral("ab"), QStringLiteral("1")}));
    QCOMPARE(events[1].data, QStringLiteral("c"));
}

void tst_Parser::keptStringsNeverChange()
{
    // The parser reuses its strings' storage when the consumer let go of them; strings the
    // consumer kept must stay as they were.
    QList<Event> kept;
    QStringList keptIds;
    int seen = 0;
    Parser parser;
    parser.setCallbacks({[&](const Event &e) {
                             if (++seen % 2 == 0) {
                                 kept.append(e);
                                 keptIds.append(parser.lastEventId());
                             }
                         },
                         {},
                         {}});
    QByteArray stream;
    for (int i = 0; i < 200; ++i) {
        stream += "event: t" + QByteArray::number(i % 3) + "\nid: " + QByteArray::number(i)
                  + "\ndata: " + QByteArray(1 + (i * 37) % 300, char('a' + i % 26)) + "\n\n";
    }
    QVERIFY(parser.feed(stream));
    QCOMPARE(kept.size(), 100);
    for (int k = 0; k < kept.size(); ++k) {
        const int i = 2 * k + 1;
        const Event expected{QStringLiteral("t%1").arg(i % 3),
                             QString(1 + (i * 37) % 300, QLatin1Char(char('a' + i % 26))), QString::number(i)};
        QCOMPARE(kept[k], expected);
        QCOMPARE(keptIds[k], QString::number(i));
    }
}

void tst_Parser::callbackMayReset()
{
    QStringList seen;
    Parser parser;
    parser.setCallbacks({[&](const Event &e) {
                             seen.append(e.data);
                             if (e.data == u"a") {
                                 parser.reset();
                                 // The event being delivered does not change under the callback.
                                 QCOMPARE(e.lastEventId, QStringLiteral("1"));
                                 QCOMPARE(parser.lastEventId(), QString());
                             }
                         },
                         {},
                         {}});
    // The rest of the chunk belonged to the stream that was reset.
    QVERIFY(parser.feed("id: 1\ndata: a\n\ndata: b\n\n"));
    QCOMPARE(parser.lastEventId(), QString());
    QVERIFY(parser.feed("data: c\n\n"));
    QCOMPARE(seen, QStringList({QStringLiteral("a"), QStringLiteral("c")}));
}

void tst_Parser::callbackMaySetLastEventId()
{
    QList<Event> events;
    Parser parser;
    parser.setCallbacks({[&](const Event &e) {
                             events.append(e);
                             if (e.data == u"a") {
                                 parser.setLastEventId(QStringLiteral("override"));
                                 QCOMPARE(e.lastEventId, QStringLiteral("1"));
                                 QCOMPARE(parser.lastEventId(), QStringLiteral("override"));
                             }
                         },
                         {},
                         {}});
    QVERIFY(parser.feed("id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n"));
    QCOMPARE(events.size(), 3);
    QCOMPARE(events[1].lastEventId, QStringLiteral("override"));
    QCOMPARE(events[2].lastEventId, QStringLiteral("2"));
}

void tst_Parser::callbackMayEndStream()
{
    QStringList seen;
    Parser parser;
    parser.setCallbacks({[&](const Event &e) { seen.append(e.data); }, [&](QStringView) { parser.endOfStream(); }, {}});
    QVERIFY(parser.feed("id: 1\ndata: a\n\nid: 2\ndata: lost\n: bye\ndata: lost too\n\n"));
    QCOMPARE(parser.lastEventId(), QStringLiteral("1"));
    QVERIFY(parser.feed("data: b\n\n"));
    QCOMPARE(seen, QStringList({QStringLiteral("a"), QStringLiteral("b")}));
}

void tst_Parser::callbackMayDestroyParser()
{
    int events = 0;
    auto parser = std::make_unique<Parser>();
    parser->setCallbacks({[&](const Event &e) {
                              ++events;
                              QCOMPARE(e.data, QStringLiteral("a"));
                              parser.reset();
                              // The event stays valid until the callback returns.
                              QCOMPARE(e.data, QStringLiteral("a"));
                          },
                          {},
                          {}});
    QVERIFY(parser->feed("data: a\n\ndata: b\n\n"));
    QVERIFY(!parser);
    QCOMPARE(events, 1);
}

void tst_Parser::callbackMayReplaceCallbacks()
{
    QStringList first, second;
    Parser parser;
    parser.setCallbacks({[&](const Event &e) {
                             first.append(e.data);
                             parser.setCallbacks({[&](const Event &e2) { second.append(e2.data); }, {}, {}});
                         },
                         {},
                         {}});
    QVERIFY(parser.feed("data: a\n\ndata: b\n\n"));
    QVERIFY(parser.feed("data: c\n\n"));
    QCOMPARE(first, QStringList({QStringLiteral("a")}));
    QCOMPARE(second, QStringList({QStringLiteral("b"), QStringLiteral("c")}));
}

void tst_Parser::feedFromCallbackIsRefused()
{
    QStringList seen;
    bool nestedAccepted = true;
    Parser parser;
    parser.setCallbacks({[&](const Event &e) {
                             seen.append(e.data);
                             if (e.data == u"a")
                                 nestedAccepted = parser.feed("data: nested\n\n");
                         },
                         {},
                         {}});
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("called from one of the parser's own callbacks")));
    QVERIFY(parser.feed("data: a\n\ndata: b\n\n"));
    QVERIFY(!nestedAccepted);
    QVERIFY(!parser.hasError());
    QCOMPARE(seen, QStringList({QStringLiteral("a"), QStringLiteral("b")}));
}

void tst_Parser::maxEventSizeIsAtLeastOne()
{
    Parser parser;
    QCOMPARE(parser.maxEventSize(), Parser::DefaultMaxEventSize);
    parser.setMaxEventSize(0);
    QCOMPARE(parser.maxEventSize(), qsizetype(1));
    QVERIFY(parser.feed("d\n\n"));
    QVERIFY(!parser.feed("da\n"));
}

QTEST_GUILESS_MAIN(tst_Parser)
#include "tst_parser.moc"
