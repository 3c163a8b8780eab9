#include "engine/progressestimator_p.h"

#include <QTest>

using namespace clipdeck;
using namespace clipdeck::engine;

namespace {
media::Progress report(double fraction, double mediaSeconds = 0, double fps = 0,
                       const QString &stage = QStringLiteral("encoding"))
{
    return media::Progress{fraction, stage, fps, mediaSeconds};
}
} // namespace

class TestProgressEstimator : public QObject
{
    Q_OBJECT

private slots:
    void noEtaBeforeWarmUp()
    {
        ProgressEstimator e;
        e.start(1000);
        QCOMPARE(e.etaSeconds(1000), std::nullopt); // nothing done yet
        e.update(report(0.01), 1500);               // 1% after 0.5 s: still warming up
        QCOMPARE(e.etaSeconds(1500), std::nullopt);
        e.update(report(0.019), 1900);
        QCOMPARE(e.etaSeconds(1900), std::nullopt);
    }

    void etaAfterOneSecond()
    {
        ProgressEstimator e;
        e.start(0);
        e.update(report(0.01), 1000); // 1% per second: 99 s left
        QCOMPARE(e.etaSeconds(1000), std::optional<double>(99.0));
        // Time passing without a report counts against the rest.
        QCOMPARE(e.etaSeconds(3000), std::optional<double>(97.0));
    }

    void etaAfterTwoPercent()
    {
        ProgressEstimator e;
        e.start(0);
        e.update(report(0.05), 200); // 5% in 0.2 s: 3.8 s left
        QCOMPARE(e.etaSeconds(200), std::optional<double>(3.8));
    }

    void etaExcludesPausedTime()
    {
        ProgressEstimator e;
        e.start(0);
        e.update(report(0.25), 1000);
        e.pause(1000);
        // Frozen while paused, whatever the wall clock says.
        QCOMPARE(e.etaSeconds(60000), std::optional<double>(3.0));
        e.resume(61000);
        QCOMPARE(e.activeMs(61000), qint64(1000));
        e.update(report(0.5), 62000); // 50% in 2 s of work
        QCOMPARE(e.etaSeconds(62000), std::optional<double>(2.0));
    }

    void fractionNeverGoesBack()
    {
        ProgressEstimator e;
        e.start(0);
        e.update(report(0.4), 100);
        e.update(report(0.3), 200);
        QCOMPARE(e.fraction(), 0.4);
        e.update(report(2.0), 300);
        QCOMPARE(e.fraction(), 1.0);
        QCOMPARE(e.etaSeconds(300), std::optional<double>(0.0));
        e.update(report(std::nan("")), 400);
        QCOMPARE(e.fraction(), 1.0);
    }

    void stageKeepsTheLastNamedOne()
    {
        ProgressEstimator e;
        e.start(0);
        QCOMPARE(e.stage(), QString());
        e.update(report(0.1, 0, 0, QStringLiteral("analysing")), 10);
        e.update(report(0.2, 0, 0, QString()), 20);
        QCOMPARE(e.stage(), QStringLiteral("analysing"));
        e.update(report(0.3, 0, 0, QStringLiteral("finalising")), 30);
        QCOMPARE(e.stage(), QStringLiteral("finalising"));
    }

    void speedOverTheWindow()
    {
        ProgressEstimator e;
        e.start(0);
        QCOMPARE(e.speed(), std::nullopt);
        e.update(report(0.01, 0.1, 50), 100);
        // 100 ms is too short to call a realtime factor; fps is what the operation said.
        QCOMPARE(e.speed(), std::optional<jobs::Speed>(jobs::Speed{50, 0}));
        // Steady 2x realtime for 5 s, then 4x for 2.5 s: the window (2 s) sees only the latter.
        for (int t = 200; t <= 5000; t += 100)
            e.update(report(t / 10000.0, t * 2 / 1000.0, 50), t);
        QCOMPARE(e.speed()->realtime, 2.0);
        double media = 10.0;
        for (int t = 5100; t <= 7500; t += 100) {
            media += 0.4;
            e.update(report(t / 10000.0, media, 100), t);
        }
        QCOMPARE(e.speed()->realtime, 4.0);
        QCOMPARE(e.speed()->fps, 100.0);
    }

    void speedExcludesPausedTime()
    {
        ProgressEstimator e;
        e.start(0);
        for (int t = 100; t <= 1000; t += 100)
            e.update(report(t / 10000.0, t / 1000.0), t); // 1x
        e.pause(1000);
        e.resume(31000);
        for (int t = 31100; t <= 32000; t += 100)
            e.update(report((t - 30000) / 10000.0, (t - 30000) / 1000.0), t);
        QCOMPARE(e.speed()->realtime, 1.0);
    }

    void noSpeedWithoutData()
    {
        ProgressEstimator e;
        e.start(0);
        e.update(report(0.5), 1000); // neither fps nor media time reported
        QCOMPARE(e.speed(), std::nullopt);
    }

    void startForgetsThePreviousAttempt()
    {
        ProgressEstimator e;
        e.start(0);
        e.update(report(0.9, 9, 25, QStringLiteral("encoding")), 5000);
        e.start(10000);
        QCOMPARE(e.fraction(), 0.0);
        QCOMPARE(e.stage(), QString());
        QCOMPARE(e.etaSeconds(12000), std::nullopt);
        QCOMPARE(e.speed(), std::nullopt);
    }

    void throttle()
    {
        ProgressThrottle t(100);
        QCOMPARE(t.dueAt(5), qint64(5)); // nothing published yet: at once
        t.published(5);
        QCOMPARE(t.dueAt(50), qint64(105)); // too soon: at the end of the interval
        QCOMPARE(t.dueAt(104), qint64(105));
        QCOMPARE(t.dueAt(105), qint64(105));
        QCOMPARE(t.dueAt(300), qint64(300));
        t.published(300); // a state change also restarts the interval
        QCOMPARE(t.dueAt(310), qint64(400));
        t.reset();
        QCOMPARE(t.dueAt(310), qint64(310));
    }
};

QTEST_GUILESS_MAIN(TestProgressEstimator)
#include "tst_progressestimator.moc"
