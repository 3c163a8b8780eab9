// clipdeck::server::repeatedKey: the names QJsonDocument would silently collapse, found with
// their path, compared as decoded; nothing found where names only look alike or sit apart.

#include "server/jsonkeys.h"

#include <QTest>

using namespace clipdeck::server;
using namespace Qt::StringLiterals;

class tst_JsonKeys : public QObject
{
    Q_OBJECT

private slots:
    void repeats_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QStringList>("path"); // empty: no repeat
        QTest::newRow("none") << QByteArray("{\"kind\":\"probe\",\"params\":{\"count\":2}}") << QStringList();
        QTest::newRow("top level") << QByteArray("{\"kind\":\"probe\",\"kind\":\"scenes\"}") << QStringList{u"kind"_s};
        QTest::newRow("in params") << QByteArray("{\"kind\":\"t\",\"params\":{\"count\":2,\"count\":8}}")
                                   << QStringList{u"params"_s, u"count"_s};
        QTest::newRow("same value") << QByteArray("{\"a\":1,\"a\":1}") << QStringList{u"a"_s};
        QTest::newRow("escaped spelling") << QByteArray("{\"a\":1,\"\\u0061\":2}") << QStringList{u"a"_s};
        QTest::newRow("surrogate pair and UTF-8")
            << QByteArray("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}") << QStringList{u"😀"_s};
        QTest::newRow("different emoji") << QByteArray("{\"\\ud83d\\ude00\":1,\"\\ud83d\\ude01\":2}") << QStringList();
        QTest::newRow("same name in sibling objects")
            << QByteArray("{\"x\":{\"a\":1},\"y\":{\"a\":2}}") << QStringList();
        QTest::newRow("objects in an array") << QByteArray("{\"x\":[{\"a\":1},{\"a\":2}]}") << QStringList();
        QTest::newRow("repeat inside an array's object")
            << QByteArray("{\"x\":[{\"a\":1},{\"a\":2,\"a\":3}]}") << QStringList{u"x"_s, u"a"_s};
        QTest::newRow("names inside strings")
            << QByteArray("{\"s\":\"{\\\"a\\\":1,\\\"a\\\":2}\",\"t\":\"\\\\\"}") << QStringList();
        QTest::newRow("deep") << QByteArray("{\"a\":{\"b\":{\"c\":1,\"d\":[],\"c\":2}}}")
                              << QStringList{u"a"_s, u"b"_s, u"c"_s};
        QTest::newRow("after a nested object closes")
            << QByteArray("{\"a\":{\"b\":1},\"c\":2,\"a\":3}") << QStringList{u"a"_s};
        QTest::newRow("case differs") << QByteArray("{\"a\":1,\"A\":2}") << QStringList();
    }

    void repeats()
    {
        QFETCH(QByteArray, json);
        QFETCH(QStringList, path);
        const auto found = repeatedKey(json);
        QCOMPARE(found.value_or(QStringList()), path);
    }

    // Not JSON at all: no crash, no read past the end (the sanitizer builds watch), an answer.
    void anyInput_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("unterminated string") << QByteArray("{\"a");
        QTest::newRow("dangling escape") << QByteArray("{\"a\\");
        QTest::newRow("short unicode escape") << QByteArray("{\"\\u00");
        QTest::newRow("closing only") << QByteArray("}}]]");
        QTest::newRow("commas") << QByteArray(",,,{,,");
    }

    void anyInput()
    {
        QFETCH(QByteArray, input);
        (void)repeatedKey(input);
    }
};

QTEST_GUILESS_MAIN(tst_JsonKeys)
#include "tst_jsonkeys.moc"
