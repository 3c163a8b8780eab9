// Range headers of downloads: one byte range, or the whole file, or 416.

#include "server/range.h"

#include <QTest>

using namespace clipdeck::server;

class tst_Range : public QObject
{
    Q_OBJECT

private slots:
    void ranges_data();
    void ranges();
};

void tst_Range::ranges_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<qint64>("size");
    QTest::addColumn<QString>("expected"); // "whole", "416", or "first-last"
    QTest::newRow("none") << QByteArray() << qint64(100) << "whole";
    QTest::newRow("closed") << QByteArray("bytes=0-9") << qint64(100) << "0-9";
    QTest::newRow("open") << QByteArray("bytes=90-") << qint64(100) << "90-99";
    QTest::newRow("past the end clipped") << QByteArray("bytes=90-1000") << qint64(100) << "90-99";
    QTest::newRow("suffix") << QByteArray("bytes=-10") << qint64(100) << "90-99";
    QTest::newRow("suffix larger than file") << QByteArray("bytes=-1000") << qint64(100) << "0-99";
    QTest::newRow("last byte") << QByteArray("bytes=99-99") << qint64(100) << "99-99";
    QTest::newRow("start past end") << QByteArray("bytes=100-") << qint64(100) << "416";
    QTest::newRow("zero suffix") << QByteArray("bytes=-0") << qint64(100) << "416";
    QTest::newRow("empty file") << QByteArray("bytes=0-") << qint64(0) << "416";
    QTest::newRow("several ranges") << QByteArray("bytes=0-1,5-6") << qint64(100) << "whole";
    QTest::newRow("other unit") << QByteArray("items=0-1") << qint64(100) << "whole";
    QTest::newRow("reversed") << QByteArray("bytes=9-2") << qint64(100) << "whole";
    QTest::newRow("garbage") << QByteArray("bytes=a-b") << qint64(100) << "whole";
    QTest::newRow("no dash") << QByteArray("bytes=5") << qint64(100) << "whole";
    QTest::newRow("spaces") << QByteArray("  bytes=1-2 ") << qint64(100) << "1-2";
}

void tst_Range::ranges()
{
    QFETCH(QByteArray, header);
    QFETCH(qint64, size);
    QFETCH(QString, expected);
    const auto r = parseRange(header, size);
    QString got;
    if (std::holds_alternative<WholeFile>(r))
        got = QStringLiteral("whole");
    else if (std::holds_alternative<Unsatisfiable>(r))
        got = QStringLiteral("416");
    else
        got = QStringLiteral("%1-%2").arg(std::get<ByteRange>(r).first).arg(std::get<ByteRange>(r).last);
    QCOMPARE(got, expected);
}

QTEST_APPLESS_MAIN(tst_Range)
#include "tst_range.moc"
