// clipdeck::http::DeadlineWheel: what comes out when, driven by an explicit clock (no sleeps,
// no timers): due entries come out exactly once and never before their deadline, moved deadlines
// (later: lazily; earlier: relinked), removal and disarming, entries changed or destroyed
// while a pass is under way, deadlines past a whole turn of the wheel, long gaps between calls,
// and many entries against a straightforward model.

#include "http/deadlinewheel.h"

#include <QRandomGenerator>
#include <QTest>

#include <map>
#include <memory>
#include <vector>

using namespace clipdeck::http;

namespace {

struct Item : DeadlineWheel::Entry
{
    explicit Item(int number = 0) : id(number) { }
    int id;
};

// Everything that comes out at `now`, by id, in the order handed back.
QList<int> expire(DeadlineWheel &wheel, qint64 now)
{
    QList<int> out;
    while (DeadlineWheel::Entry *e = wheel.takeExpired(now))
        out.append(static_cast<Item *>(e)->id);
    return out;
}

} // namespace

class tst_DeadlineWheel : public QObject
{
    Q_OBJECT

private slots:
    void dueEntryComesOutOnce();
    void neverBeforeItsDeadline();
    void movedLaterDoesNotComeOutEarly();
    void movedEarlierComesOutEarlier();
    void removedNeverComesOut();
    void disarmedNeverComesOut();
    void reArmedAfterComingOut();
    void changesDuringAPass();
    void destroyedEntryNeverComesOut();
    void wheelGoesBeforeItsEntries();
    void deadlineBeyondOneTurn();
    void longGapBetweenCalls();
    void manyEntriesAgainstAModel();
};

void tst_DeadlineWheel::dueEntryComesOutOnce()
{
    DeadlineWheel wheel(10, 8);
    Item a(1);
    wheel.arm(a, 100);
    QCOMPARE(a.deadline(), 100);
    QVERIFY(!wheel.isEmpty());
    QCOMPARE(expire(wheel, 50), QList<int>());
    QCOMPARE(expire(wheel, 100), QList<int>{1});
    QCOMPARE(a.deadline(), 0); // handed back disarmed
    QCOMPARE(expire(wheel, 100), QList<int>());
    QCOMPARE(expire(wheel, 5000), QList<int>());
    QVERIFY(wheel.isEmpty());
}

void tst_DeadlineWheel::neverBeforeItsDeadline()
{
    // Deadlines in the middle of a tick: not out at the tick's start, out once it has passed.
    DeadlineWheel wheel(10, 8);
    Item a(1), b(2);
    wheel.arm(a, 105);
    wheel.arm(b, 101);
    for (qint64 now = 0; now < 101; ++now)
        QCOMPARE(expire(wheel, now), QList<int>());
    QList<int> out;
    qint64 now = 101;
    for (; out.size() < 2 && now < 200; ++now) {
        for (int id : expire(wheel, now)) {
            QVERIFY(now >= (id == 1 ? 105 : 101));
            out.append(id);
        }
    }
    QCOMPARE(out.size(), 2);
    QVERIFY(now - 1 <= 110); // both out within one granularity of their deadlines
}

void tst_DeadlineWheel::movedLaterDoesNotComeOutEarly()
{
    DeadlineWheel wheel(10, 8);
    Item a(1);
    wheel.arm(a, 100);
    wheel.arm(a, 130); // later: the entry stays where it is, its deadline changes
    wheel.arm(a, 470); // past a whole turn (80 ms) from now
    for (qint64 now = 0; now < 470; now += 5)
        QCOMPARE(expire(wheel, now), QList<int>());
    QCOMPARE(expire(wheel, 470), QList<int>{1});
    QCOMPARE(expire(wheel, 1000), QList<int>());
}

void tst_DeadlineWheel::movedEarlierComesOutEarlier()
{
    DeadlineWheel wheel(10, 8);
    Item a(1);
    wheel.arm(a, 70);
    wheel.arm(a, 20);
    QCOMPARE(expire(wheel, 19), QList<int>());
    QCOMPARE(expire(wheel, 20), QList<int>{1});
    QCOMPARE(expire(wheel, 70), QList<int>());
}

void tst_DeadlineWheel::removedNeverComesOut()
{
    DeadlineWheel wheel(10, 8);
    Item a(1), b(2);
    wheel.arm(a, 30);
    wheel.arm(b, 30);
    wheel.remove(a);
    QCOMPARE(a.deadline(), 0);
    QCOMPARE(expire(wheel, 1000), QList<int>{2});
    wheel.remove(a); // twice, and on an entry out of the wheel: nothing happens
    wheel.remove(b);
    QVERIFY(wheel.isEmpty());
}

void tst_DeadlineWheel::disarmedNeverComesOut()
{
    DeadlineWheel wheel(10, 8);
    Item a(1);
    wheel.arm(a, 30);
    wheel.arm(a, 0);
    QCOMPARE(a.deadline(), 0);
    QVERIFY(wheel.isEmpty());
    QCOMPARE(expire(wheel, 1000), QList<int>());
    // Disarmed, then armed again for a later time: out at that time only.
    wheel.arm(a, 1100);
    wheel.arm(a, 0);
    wheel.arm(a, 1200);
    QCOMPARE(expire(wheel, 1150), QList<int>());
    QCOMPARE(expire(wheel, 1200), QList<int>{1});
}

void tst_DeadlineWheel::reArmedAfterComingOut()
{
    // The heartbeat pattern: taken, acted on, armed for the next period.
    DeadlineWheel wheel(10, 8);
    Item a(1);
    wheel.arm(a, 50);
    QList<qint64> times;
    for (qint64 now = 0; now <= 1000; now += 10) {
        while (DeadlineWheel::Entry *e = wheel.takeExpired(now)) {
            times.append(now);
            wheel.arm(*e, now + 50); // the same pass must not hand it back again
        }
    }
    QCOMPARE(times.size(), 20);
    for (qsizetype i = 0; i < times.size(); ++i)
        QCOMPARE(times.at(i), 50 + 50 * i);
}

void tst_DeadlineWheel::changesDuringAPass()
{
    // Three entries due together: taking the first removes the second, moves the third later
    // and arms a fourth that is already due.
    DeadlineWheel wheel(10, 8);
    Item a(1), b(2), c(3), d(4);
    wheel.arm(a, 40);
    wheel.arm(b, 40);
    wheel.arm(c, 40);
    QList<int> out;
    while (DeadlineWheel::Entry *e = wheel.takeExpired(45)) {
        const int id = static_cast<Item *>(e)->id;
        out.append(id);
        if (id == 1) {
            wheel.remove(b);
            wheel.arm(c, 200);
            wheel.arm(d, 45);
        }
    }
    QCOMPARE(out.first(), 1);
    QVERIFY(!out.contains(2));
    QVERIFY(!out.contains(3));
    // d is due at 45 but was armed after its slot was taken: out now or at the next tick.
    if (!out.contains(4))
        QCOMPARE(expire(wheel, 50), QList<int>{4});
    QCOMPARE(expire(wheel, 199), QList<int>());
    QCOMPARE(expire(wheel, 200), QList<int>{3});
}

void tst_DeadlineWheel::destroyedEntryNeverComesOut()
{
    DeadlineWheel wheel(10, 8);
    auto a = std::make_unique<Item>(1);
    auto b = std::make_unique<Item>(2);
    Item c(3);
    wheel.arm(*a, 40);
    wheel.arm(*b, 40);
    wheel.arm(c, 40);
    a.reset(); // armed, never removed: it unlinks itself
    QList<int> out;
    while (DeadlineWheel::Entry *e = wheel.takeExpired(40)) {
        auto *item = static_cast<Item *>(e);
        out.append(item->id);
        if (item->id == 3)
            b.reset(); // destroyed while waiting in the same pass
        else if (item->id == 2)
            b.reset(); // or destroyed by whoever took it
    }
    QVERIFY(!out.contains(1));
    QVERIFY(out.contains(3));
    QVERIFY(wheel.isEmpty());
}

void tst_DeadlineWheel::wheelGoesBeforeItsEntries()
{
    Item a(1);
    {
        DeadlineWheel wheel(10, 8);
        wheel.arm(a, 40);
    }
    QCOMPARE(a.deadline(), 40); // still what was asked; destroying `a` now must not touch the wheel
    DeadlineWheel other(10, 8);
    other.arm(a, 20);
    QCOMPARE(expire(other, 20), QList<int>{1});
}

void tst_DeadlineWheel::deadlineBeyondOneTurn()
{
    // 8 slots of 10 ms: a turn is 80 ms. Deadlines many turns ahead, and ones that share a slot
    // with nearer ones (the same tick modulo 8), come out at their own time only.
    DeadlineWheel wheel(10, 8);
    Item near(1), sameSlot(2), far(3);
    wheel.arm(near, 30);
    wheel.arm(sameSlot, 30 + 80 * 3);
    wheel.arm(far, 10'000);
    QMap<int, qint64> seen;
    for (qint64 now = 0; now <= 12'000; now += 10) {
        for (int id : expire(wheel, now)) {
            QVERIFY2(!seen.contains(id), "came out twice");
            seen.insert(id, now);
        }
    }
    QCOMPARE(seen.value(1), 30);
    QCOMPARE(seen.value(2), 270);
    QCOMPARE(seen.value(3), 10'000);
}

void tst_DeadlineWheel::longGapBetweenCalls()
{
    // More than a turn between two calls (a busy or suspended loop): all that is due comes out
    // in that call, what is not stays for its time.
    DeadlineWheel wheel(10, 8);
    Item a(1), b(2), c(3);
    wheel.arm(a, 15);
    wheel.arm(b, 500);
    wheel.arm(c, 1000);
    QList<int> out = expire(wheel, 600);
    std::sort(out.begin(), out.end());
    QCOMPARE(out, (QList<int>{1, 2}));
    QCOMPARE(expire(wheel, 999), QList<int>());
    QCOMPARE(expire(wheel, 1000), QList<int>{3});
    // The same with a clock that starts far from 0 (the first call is a long gap).
    DeadlineWheel late(10, 8);
    Item d(4);
    late.arm(d, 5'000'000);
    QCOMPARE(expire(late, 4'999'990), QList<int>());
    QCOMPARE(expire(late, 5'000'000), QList<int>{4});
}

void tst_DeadlineWheel::manyEntriesAgainstAModel()
{
    // 5000 entries armed, moved later or earlier, removed and re-armed at random while the clock
    // goes forward in uneven steps; each must come out once per arming, never before its
    // deadline and at most one step plus one granularity after it. The model: a map of what is
    // armed.
    constexpr qint64 Granularity = 7;
    constexpr int Count = 5000;
    DeadlineWheel wheel(Granularity, 64);
    QRandomGenerator rng(4);
    std::vector<std::unique_ptr<Item>> items;
    for (int i = 0; i < Count; ++i)
        items.push_back(std::make_unique<Item>(i));
    std::map<int, qint64> armed; // id -> deadline
    qint64 now = 1;
    qint64 previous = 1;
    int firings = 0;
    for (int step = 0; step < 3000; ++step) {
        for (int k = 0; k < 20; ++k) {
            const int id = int(rng.bounded(Count));
            const int action = int(rng.bounded(10));
            if (action < 7) {
                const qint64 deadline = now + 1 + qint64(rng.bounded(2000)); // up to ~4 turns
                wheel.arm(*items[size_t(id)], deadline);
                armed[id] = deadline;
            } else if (action < 9) {
                wheel.remove(*items[size_t(id)]);
                armed.erase(id);
            } else {
                wheel.arm(*items[size_t(id)], 0);
                armed.erase(id);
            }
        }
        previous = now;
        now += 1 + qint64(rng.bounded(15));
        while (DeadlineWheel::Entry *e = wheel.takeExpired(now)) {
            const int id = static_cast<Item *>(e)->id;
            const auto it = armed.find(id);
            QVERIFY2(it != armed.end(), qPrintable(QStringLiteral("entry %1 came out unarmed").arg(id)));
            QVERIFY2(it->second <= now, qPrintable(QStringLiteral("entry %1 came out early").arg(id)));
            // The deadline passed after the previous call, or lay within a granularity of it.
            QVERIFY2(it->second > previous - Granularity, qPrintable(QStringLiteral("entry %1 came out late").arg(id)));
            armed.erase(it);
            ++firings;
        }
        // Nothing armed is overdue by more than a granularity.
        for (const auto &[id, deadline] : armed)
            QVERIFY2(deadline > now - Granularity, qPrintable(QStringLiteral("entry %1 is overdue").arg(id)));
    }
    QVERIFY(firings > 1000);
    // Drain: everything left comes out once.
    now += 10'000;
    int rest = 0;
    while (DeadlineWheel::Entry *e = wheel.takeExpired(now)) {
        QVERIFY(armed.erase(static_cast<Item *>(e)->id) == 1);
        ++rest;
    }
    QVERIFY(armed.empty());
    QVERIFY(wheel.isEmpty());
}

QTEST_GUILESS_MAIN(tst_DeadlineWheel)
#include "tst_deadlinewheel.moc"
