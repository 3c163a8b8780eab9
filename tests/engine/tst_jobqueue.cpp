#include "engine/jobqueue_p.h"

#include <QTest>

using namespace clipdeck::engine;

class TestJobQueue : public QObject
{
    Q_OBJECT

private slots:
    void priorityThenFifo()
    {
        JobQueue q;
        q.push(QStringLiteral("low-1"), 0, 1, Pool::Light);
        q.push(QStringLiteral("high-1"), 5, 2, Pool::Light);
        q.push(QStringLiteral("low-2"), 0, 3, Pool::Light);
        q.push(QStringLiteral("high-2"), 5, 4, Pool::Light);
        q.push(QStringLiteral("negative"), -1, 0, Pool::Light);
        QStringList order;
        while (auto id = q.takeNext(Pool::Light))
            order << *id;
        QCOMPARE(order, (QStringList{QStringLiteral("high-1"), QStringLiteral("high-2"), QStringLiteral("low-1"),
                                     QStringLiteral("low-2"), QStringLiteral("negative")}));
        QCOMPARE(q.size(), 0);
    }

    void poolsAreSeparate()
    {
        JobQueue q;
        q.push(QStringLiteral("encode"), 0, 1, Pool::Heavy);
        q.push(QStringLiteral("thumbs"), 0, 2, Pool::Light);
        QCOMPARE(q.size(Pool::Heavy), 1);
        QCOMPARE(q.size(Pool::Light), 1);
        QCOMPARE(q.peekNext(Pool::Heavy), std::optional<QString>(QStringLiteral("encode")));
        QCOMPARE(q.takeNext(Pool::Light), std::optional<QString>(QStringLiteral("thumbs")));
        QCOMPARE(q.takeNext(Pool::Light), std::nullopt);
        QCOMPARE(q.takeNext(Pool::Heavy), std::optional<QString>(QStringLiteral("encode")));
    }

    void removeAndRepush()
    {
        JobQueue q;
        q.push(QStringLiteral("a"), 0, 1, Pool::Light);
        q.push(QStringLiteral("b"), 0, 2, Pool::Light);
        QVERIFY(q.contains(QStringLiteral("a")));
        QVERIFY(q.remove(QStringLiteral("a")));
        QVERIFY(!q.remove(QStringLiteral("a")));
        QVERIFY(!q.contains(QStringLiteral("a")));
        // Held and released: back at its old place (its order), ahead of b.
        q.push(QStringLiteral("a"), 0, 1, Pool::Light);
        QCOMPARE(q.takeNext(Pool::Light), std::optional<QString>(QStringLiteral("a")));
        // Pushing an id twice keeps one entry (the latest key).
        q.push(QStringLiteral("b"), 9, 7, Pool::Light);
        QCOMPARE(q.size(), 1);
        QCOMPARE(q.takeNext(Pool::Light), std::optional<QString>(QStringLiteral("b")));
        QCOMPARE(q.size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestJobQueue)
#include "tst_jobqueue.moc"
