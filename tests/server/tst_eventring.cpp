// EventRing: bounded history that knows how far back it is complete.

#include "server/eventring.h"

#include <QTest>

using namespace clipdeck::server;

class tst_EventRing : public QObject
{
    Q_OBJECT

private slots:
    void replayAfter();
    void evictionMovesCoverage();
    void startsCoveringFromItsFirstKey();
    void gapsInKeys();
    void clear();
};

void tst_EventRing::replayAfter()
{
    EventRing ring;
    for (quint64 k = 1; k <= 5; ++k)
        ring.append(k, QByteArray::number(k), 10);
    QCOMPARE(ring.after(2), (std::optional<QList<QByteArray>>(QList<QByteArray>{"3", "4", "5"})));
    QCOMPARE(ring.after(5), (std::optional<QList<QByteArray>>(QList<QByteArray>{})));
    QCOMPARE(ring.after(0)->size(), 5);
    QCOMPARE(ring.after(99), (std::optional<QList<QByteArray>>(QList<QByteArray>{})));
    QCOMPARE(ring.bytes(), 5);
    QCOMPARE(ring.lastKey(), std::optional<quint64>(5));
}

void tst_EventRing::evictionMovesCoverage()
{
    EventRing ring;
    qint64 held = 0;
    for (quint64 k = 1; k <= 10; ++k)
        held += ring.append(k, QByteArray(10, 'x'), 4);
    QCOMPARE(ring.size(), 4);
    QCOMPARE(held, 40);
    QCOMPARE(ring.bytes(), 40);
    QCOMPARE(ring.coveredFrom(), quint64(6));
    QCOMPARE(ring.after(6)->size(), 4);    // 7..10
    QCOMPARE(ring.after(5), std::nullopt); // 6 is gone
}

void tst_EventRing::startsCoveringFromItsFirstKey()
{
    EventRing ring(41); // a job first seen at seq 42
    ring.append(42, "a", 10);
    QCOMPARE(ring.after(41)->size(), 1);
    QCOMPARE(ring.after(40), std::nullopt);
}

void tst_EventRing::gapsInKeys()
{
    EventRing ring; // a user's events: the server-wide counter, with other users' in between
    ring.append(3, "a", 2);
    ring.append(9, "b", 2);
    ring.append(15, "c", 2);
    QCOMPARE(ring.coveredFrom(), quint64(3));
    QCOMPARE(ring.after(3), (std::optional<QList<QByteArray>>(QList<QByteArray>{"b", "c"})));
    QCOMPARE(ring.after(10), (std::optional<QList<QByteArray>>(QList<QByteArray>{"c"})));
    QCOMPARE(ring.after(2), std::nullopt);
}

void tst_EventRing::clear()
{
    EventRing ring;
    ring.append(1, "abc", 10);
    ring.append(2, "de", 10);
    QCOMPARE(ring.clear(), 5);
    QVERIFY(ring.isEmpty());
    QCOMPARE(ring.bytes(), 0);
    QCOMPARE(ring.after(1), std::nullopt);
    QCOMPARE(ring.after(2), (std::optional<QList<QByteArray>>(QList<QByteArray>{})));
}

QTEST_APPLESS_MAIN(tst_EventRing)
#include "tst_eventring.moc"
