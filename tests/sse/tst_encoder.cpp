// The encoder's wire format, its refusals, and that the Parser gives back what it wrote.

#include "sse/encoder.h"
#include "sse/parser.h"

#include <QRandomGenerator>
#include <QStringDecoder>
#include <QTest>

#include <optional>

using namespace clipdeck::sse;

namespace {

template <qsizetype N>
QByteArray B(const char (&text)[N])
{
    return QByteArray(text, N - 1);
}

struct Parsed
{
    QList<Event> events;
    QStringList comments;
    QList<int> retries;
};

Parsed parse(const QByteArray &wire)
{
    Parsed parsed;
    Parser parser({[&](const Event &e) { parsed.events.append(e); },
                   [&](QStringView text) { parsed.comments.append(text.toString()); },
                   [&](int ms) { parsed.retries.append(ms); }});
    // Byte by byte as well as whole would be the parser's business; here the wire is the point.
    if (!parser.feed(wire))
        qWarning("parser error: %s", qPrintable(parser.errorString()));
    parser.endOfStream();
    return parsed;
}

// What a client reads back from valid UTF-8: line breaks are LF whatever the encoder was
// given, and a BOM inside the text is a character (QString::fromUtf8 would drop a leading one).
QString clientText(const QByteArray &utf8)
{
    QByteArray lf = utf8;
    lf.replace("\r\n", "\n").replace('\r', '\n');
    QStringDecoder decoder(QStringConverter::Utf8, QStringConverter::Flag::ConvertInitialBom);
    return decoder(lf);
}

} // namespace

Q_DECLARE_METATYPE(std::optional<QByteArray>)
Q_DECLARE_METATYPE(std::optional<int>)

class tst_Encoder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void wireFormat_data();
    void wireFormat();
    void refuses_data();
    void refuses();
    void roundTrip_data();
    void roundTrip();
    void randomRoundTrip();
    void emptyIdResetsLastEventId();
    void comments_data();
    void comments();
    void retryAlone();
    void appendsToExistingContent();
};

void tst_Encoder::wireFormat_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<std::optional<QByteArray>>("id");
    QTest::addColumn<QByteArray>("type");
    QTest::addColumn<std::optional<int>>("retryMs");
    QTest::addColumn<QByteArray>("expected");

    const std::optional<QByteArray> noId;
    const std::optional<int> noRetry;
    QTest::newRow("data only") << B("hello") << noId << QByteArray() << noRetry << B("data: hello\n\n");
    QTest::newRow("empty data still dispatches") << QByteArray() << noId << QByteArray() << noRetry << B("data:\n\n");
    QTest::newRow("LF splits data") << B("a\nb") << noId << QByteArray() << noRetry << B("data: a\ndata: b\n\n");
    QTest::newRow("CR and CRLF split data")
        << B("a\rb\r\nc\n\rd") << noId << QByteArray() << noRetry << B("data: a\ndata: b\ndata: c\ndata:\ndata: d\n\n");
    QTest::newRow("trailing line break") << B("a\n") << noId << QByteArray() << noRetry << B("data: a\ndata:\n\n");
    QTest::newRow("leading space kept") << B(" a") << noId << QByteArray() << noRetry << B("data:  a\n\n");
    QTest::newRow("NUL in data") << B("a\0b") << noId << QByteArray() << noRetry << B("data: a\0b\n\n");
    QTest::newRow("all fields") << B("{\"progress\":42.5}") << std::optional<QByteArray>(B("42")) << B("progress")
                                << std::optional<int>(3000)
                                << B("id: 42\nevent: progress\nretry: 3000\ndata: {\"progress\":42.5}\n\n");
    QTest::newRow("empty id is written to reset")
        << B("x") << std::optional<QByteArray>(QByteArray()) << QByteArray() << noRetry << B("id:\ndata: x\n\n");
    QTest::newRow("retry zero") << B("x") << noId << QByteArray() << std::optional<int>(0)
                                << B("retry: 0\ndata: x\n\n");
    QTest::newRow("id and type with spaces") << B("x") << std::optional<QByteArray>(B(" 1 ")) << B(" t ") << noRetry
                                             << B("id:  1 \nevent:  t \ndata: x\n\n");
}

void tst_Encoder::wireFormat()
{
    QFETCH(QByteArray, data);
    QFETCH(std::optional<QByteArray>, id);
    QFETCH(QByteArray, type);
    QFETCH(std::optional<int>, retryMs);
    QFETCH(QByteArray, expected);

    OutgoingEvent event{data, std::nullopt, type, retryMs};
    if (id)
        event.id = QByteArrayView(*id);
    QByteArray out;
    QVERIFY(appendEvent(out, event));
    QCOMPARE(out, expected);
}

void tst_Encoder::refuses_data()
{
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<QByteArray>("type");
    QTest::addColumn<int>("retryMs");

    QTest::newRow("CR in id") << B("a\rb") << QByteArray() << 0;
    QTest::newRow("LF in id") << B("a\nb") << QByteArray() << 0;
    QTest::newRow("NUL in id") << B("a\0b") << QByteArray() << 0;
    QTest::newRow("CR in type") << B("1") << B("a\rb") << 0;
    QTest::newRow("LF in type") << B("1") << B("a\n") << 0;
    QTest::newRow("NUL in type") << B("1") << B("\0") << 0;
    QTest::newRow("negative retry") << B("1") << B("t") << -1;
}

void tst_Encoder::refuses()
{
    QFETCH(QByteArray, id);
    QFETCH(QByteArray, type);
    QFETCH(int, retryMs);

    QByteArray out = "data: before\n\n";
    const QByteArray before = out;
    QVERIFY(!appendEvent(out, {"payload", QByteArrayView(id), type, retryMs}));
    QCOMPARE(out, before);
}

void tst_Encoder::roundTrip_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<QByteArray>("type");

    QTest::newRow("job snapshot") << B("{\"v\":1,\"jobId\":\"j-1\",\"seq\":7,\"status\":\"running\",\"progress\":42.5}")
                                  << B("j-1:7") << QByteArray();
    QTest::newRow("typed") << B("x") << B("1") << B("progress");
    QTest::newRow("explicit message type") << B("x") << B("1") << B("message");
    QTest::newRow("empty data") << QByteArray() << B("1") << QByteArray();
    QTest::newRow("multi-line") << B("line 1\nline 2\r\nline 3\rline 4") << B("2") << QByteArray();
    QTest::newRow("blank lines in data") << B("\n\n\r\n\r") << B("3") << QByteArray();
    QTest::newRow("field-like data") << B("data: x\nid: 9\n: not a comment\nevent: y") << B("4") << QByteArray();
    QTest::newRow("spaces everywhere") << B("  a  \n b ") << B("  id ") << B(" t ");
    QTest::newRow("UTF-8 and a BOM") << B("\xEF\xBB\xBF"
                                          "caf\xC3\xA9 \xF0\x9F\x8E\xAC")
                                     << B("\xC3\xA9") << B("\xE2\x82\xAC");
    QTest::newRow("colons") << B("::a:b") << B(":") << B(":");
}

void tst_Encoder::roundTrip()
{
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, id);
    QFETCH(QByteArray, type);

    QByteArray wire;
    QVERIFY(appendEvent(wire, {data, QByteArrayView(id), type, 2500}));
    const Parsed parsed = parse(wire);
    QCOMPARE(parsed.events.size(), 1);
    const Event &actual = parsed.events.first();
    QCOMPARE(actual.type, type.isEmpty() ? QStringLiteral("message") : clientText(type));
    QCOMPARE(actual.data, clientText(data));
    QCOMPARE(actual.lastEventId, clientText(id));
    QCOMPARE(parsed.retries, QList<int>({2500}));
    QVERIFY(parsed.comments.isEmpty());
}

void tst_Encoder::randomRoundTrip()
{
    // Tokens chosen to upset a parser.
    const QList<QByteArray> dataTokens = {
        "a",        " ", ":", "\n", "\r", "\r\n", B("\0"), "data:", "\xC3\xA9", "\xF0\x9F\x98\x80", "\xEF\xBB\xBF",
        "{\"k\":1}"};
    QList<QByteArray> fieldTokens;
    for (const QByteArray &t : dataTokens) {
        if (!t.contains('\r') && !t.contains('\n') && !t.contains('\0'))
            fieldTokens.append(t);
    }

    QRandomGenerator random(20240607);
    auto compose = [&](const QList<QByteArray> &tokens, int maxTokens) {
        QByteArray out;
        const int count = random.bounded(maxTokens + 1);
        for (int i = 0; i < count; ++i)
            out += tokens[random.bounded(int(tokens.size()))];
        return out;
    };

    QByteArray wire;
    QList<Event> expected;
    QList<int> expectedRetries;
    QStringList expectedComments;
    QString lastId;
    for (int i = 0; i < 2000; ++i) {
        if (random.bounded(10) == 0) {
            const QByteArray text = compose(dataTokens, 4);
            appendComment(wire, text);
            expectedComments += clientText(text).split(u'\n');
            continue;
        }
        const QByteArray data = compose(dataTokens, 12);
        const QByteArray type = compose(fieldTokens, 3);
        std::optional<QByteArray> id;
        if (random.bounded(3) != 0)
            id = compose(fieldTokens, 3);
        std::optional<int> retryMs;
        if (random.bounded(5) == 0)
            retryMs = int(random.bounded(100000));
        OutgoingEvent event{data, std::nullopt, type, retryMs};
        if (id) {
            event.id = QByteArrayView(*id);
            lastId = clientText(*id);
        }
        QVERIFY(appendEvent(wire, event));
        if (retryMs)
            expectedRetries.append(*retryMs);
        expected.append({type.isEmpty() ? QStringLiteral("message") : clientText(type), clientText(data), lastId});
    }

    const Parsed whole = parse(wire);
    QCOMPARE(whole.events.size(), expected.size());
    for (qsizetype i = 0; i < expected.size(); ++i) {
        if (!(whole.events[i] == expected[i]))
            qWarning("event %lld differs", qlonglong(i));
        QCOMPARE(whole.events[i].type, expected[i].type);
        QCOMPARE(whole.events[i].data, expected[i].data);
        QCOMPARE(whole.events[i].lastEventId, expected[i].lastEventId);
    }
    QCOMPARE(whole.retries, expectedRetries);
    QCOMPARE(whole.comments, expectedComments);
}

void tst_Encoder::emptyIdResetsLastEventId()
{
    QByteArray wire;
    QVERIFY(appendEvent(wire, {"a", QByteArrayView("7"), {}, {}}));
    QVERIFY(appendEvent(wire, {"b", std::nullopt, {}, {}}));
    QVERIFY(appendEvent(wire, {"c", QByteArrayView(), {}, {}}));
    const Parsed parsed = parse(wire);
    QCOMPARE(parsed.events.size(), 3);
    QCOMPARE(parsed.events[0].lastEventId, QStringLiteral("7"));
    QCOMPARE(parsed.events[1].lastEventId, QStringLiteral("7")); // no id: the last one persists
    QCOMPARE(parsed.events[2].lastEventId, QString());
}

void tst_Encoder::comments_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<QStringList>("parsed");

    QTest::newRow("heartbeat") << B("heartbeat") << B(": heartbeat\n") << QStringList{QStringLiteral("heartbeat")};
    QTest::newRow("empty") << QByteArray() << B(":\n") << QStringList{QString()};
    QTest::newRow("multi-line") << B("a\nb\r\nc\rd") << B(": a\n: b\n: c\n: d\n")
                                << QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"),
                                               QStringLiteral("d")};
    QTest::newRow("leading space kept") << B(" x") << B(":  x\n") << QStringList{QStringLiteral(" x")};
    QTest::newRow("looks like a field") << B("data: no") << B(": data: no\n")
                                        << QStringList{QStringLiteral("data: no")};
}

void tst_Encoder::comments()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, wire);
    QFETCH(QStringList, parsed);

    QByteArray out;
    appendComment(out, text);
    QCOMPARE(out, wire);
    const Parsed back = parse(out);
    QCOMPARE(back.comments, parsed);
    QVERIFY(back.events.isEmpty());
}

void tst_Encoder::retryAlone()
{
    QByteArray out;
    appendRetry(out, 5000);
    QCOMPARE(out, QByteArray("retry: 5000\n\n"));
    appendRetry(out, -1);
    QCOMPARE(out, QByteArray("retry: 5000\n\n"));
    const Parsed parsed = parse(out);
    QCOMPARE(parsed.retries, QList<int>({5000}));
    QVERIFY(parsed.events.isEmpty());
}

void tst_Encoder::appendsToExistingContent()
{
    QByteArray out = ": hello\n";
    QVERIFY(appendEvent(out, {"one", QByteArrayView("1"), {}, {}}));
    appendComment(out, "ping");
    QVERIFY(appendEvent(out, {"two", QByteArrayView("2"), "t", {}}));
    QCOMPARE(out, QByteArray(": hello\nid: 1\ndata: one\n\n: ping\nid: 2\nevent: t\ndata: two\n\n"));
}

QTEST_GUILESS_MAIN(tst_Encoder)
#include "tst_encoder.moc"
