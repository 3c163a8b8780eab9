#include "engine/runcontrol_p.h"

#include <QElapsedTimer>
#include <QTest>

#include <atomic>
#include <thread>

using namespace clipdeck;
using namespace clipdeck::engine;

class TestRunControl : public QObject
{
    Q_OBJECT

private slots:
    void notifiesOncePerUntakenReport()
    {
        std::atomic<int> notified{0};
        RunControl control([&] { ++notified; });
        for (int i = 1; i <= 100; ++i)
            QVERIFY(control.checkpoint(media::Progress{i / 100.0, QStringLiteral("encoding"), 0, 0}));
        QCOMPARE(notified.load(), 1);
        const auto p = control.takeProgress();
        QVERIFY(p);
        QCOMPARE(p->fraction, 1.0); // the latest wins
        QCOMPARE(control.takeProgress(), std::nullopt);
        QVERIFY(control.checkpoint(media::Progress{1.0, {}, 0, 0}));
        QCOMPARE(notified.load(), 2);
    }

    void pauseBlocksUntilResumed()
    {
        RunControl control([] {});
        control.pause();
        std::atomic<int> passed{0};
        std::thread worker([&] {
            for (int i = 0; i < 3; ++i) {
                if (control.checkpoint(media::Progress{}))
                    ++passed;
            }
        });
        // The worker cannot get through while paused; the wait below only gives it the chance.
        QTest::qWait(100);
        QCOMPARE(passed.load(), 0);
        control.resume();
        worker.join();
        QCOMPARE(passed.load(), 3);
    }

    void cancelWakesAPausedWorker()
    {
        RunControl control([] {});
        control.pause();
        std::atomic<bool> result{true};
        std::atomic<bool> returned{false};
        std::thread worker([&] {
            result = control.checkpoint(media::Progress{});
            returned = true;
        });
        QTest::qWait(50);
        QVERIFY(!returned.load());
        control.cancel();
        worker.join();
        QVERIFY(!result.load());
        QVERIFY(control.isCanceled());
        // And every later checkpoint says stop too.
        QVERIFY(!control.checkpoint(media::Progress{}));
    }
};

QTEST_GUILESS_MAIN(TestRunControl)
#include "tst_runcontrol.moc"
