// SMPTE timecode: known drop-frame and non-drop values both ways, every frame of the first
// twenty minutes round-tripped, labels drop-frame skips refused, typed input parsed.

#include "media/timecode.h"

#include <QRandomGenerator>
#include <QTest>

using namespace clipdeck::media;

Q_DECLARE_METATYPE(clipdeck::media::TimecodeRate)

namespace {

const TimecodeRate df2997{30, true};
const TimecodeRate df5994{60, true};

} // namespace

class TestTimecode : public QObject
{
    Q_OBJECT

private slots:
    void knownValues_data()
    {
        QTest::addColumn<TimecodeRate>("rate");
        QTest::addColumn<qint64>("frame");
        QTest::addColumn<QString>("timecode");
        // 29.97 drop-frame: two labels skipped each minute but every tenth.
        QTest::newRow("29.97 DF zero") << df2997 << qint64(0) << "00:00:00;00";
        QTest::newRow("29.97 DF last of minute 0") << df2997 << qint64(1799) << "00:00:59;29";
        QTest::newRow("29.97 DF first of minute 1") << df2997 << qint64(1800) << "00:01:00;02";
        QTest::newRow("29.97 DF minute 2") << df2997 << qint64(3598) << "00:02:00;02";
        QTest::newRow("29.97 DF before minute 10") << df2997 << qint64(17981) << "00:09:59;29";
        QTest::newRow("29.97 DF minute 10") << df2997 << qint64(17982) << "00:10:00;00";
        QTest::newRow("29.97 DF minute 11") << df2997 << qint64(17982 + 1800) << "00:11:00;02";
        QTest::newRow("29.97 DF one hour") << df2997 << qint64(107892) << "01:00:00;00";
        QTest::newRow("29.97 DF 23:59:59;29") << df2997 << qint64(2589407) << "23:59:59;29";
        QTest::newRow("29.97 DF 24 hours, not wrapped") << df2997 << qint64(2589408) << "24:00:00;00";
        // 59.94 drop-frame: four labels.
        QTest::newRow("59.94 DF last of minute 0") << df5994 << qint64(3599) << "00:00:59;59";
        QTest::newRow("59.94 DF first of minute 1") << df5994 << qint64(3600) << "00:01:00;04";
        QTest::newRow("59.94 DF minute 10") << df5994 << qint64(35964) << "00:10:00;00";
        QTest::newRow("59.94 DF one hour") << df5994 << qint64(215784) << "01:00:00;00";
        // Non-drop: every label is a frame.
        QTest::newRow("23.976/24") << TimecodeRate{24, false} << qint64(86400) << "01:00:00:00";
        QTest::newRow("24 last of hour") << TimecodeRate{24, false} << qint64(86399) << "00:59:59:23";
        QTest::newRow("25") << TimecodeRate{25, false} << qint64(86399) << "00:57:35:24";
        QTest::newRow("25 one hour") << TimecodeRate{25, false} << qint64(90000) << "01:00:00:00";
        QTest::newRow("29.97 NDF minute 1") << TimecodeRate{30, false} << qint64(1800) << "00:01:00:00";
        QTest::newRow("30") << TimecodeRate{30, false} << qint64(108000) << "01:00:00:00";
        QTest::newRow("50") << TimecodeRate{50, false} << qint64(180049) << "01:00:00:49";
        QTest::newRow("60") << TimecodeRate{60, false} << qint64(216000 + 59) << "01:00:00:59";
    }

    void knownValues()
    {
        QFETCH(TimecodeRate, rate);
        QFETCH(qint64, frame);
        QFETCH(QString, timecode);
        QCOMPARE(formatTimecode(frame, rate), timecode);
        QCOMPARE(parseTimecode(timecode, rate), std::optional<qint64>(frame));
        const auto tc = timecodeOfFrame(frame, rate);
        QVERIFY(tc);
        QCOMPARE(frameOfTimecode(*tc, rate), std::optional<qint64>(frame));
    }

    // Every frame of the first twenty minutes (two ten-minute cycles): format and parse invert
    // each other, and consecutive frames get consecutive labels except where drop-frame skips.
    void roundTripEveryFrame_data()
    {
        QTest::addColumn<TimecodeRate>("rate");
        QTest::newRow("29.97 DF") << df2997;
        QTest::newRow("59.94 DF") << df5994;
        QTest::newRow("23.976") << TimecodeRate{24, false};
        QTest::newRow("25") << TimecodeRate{25, false};
        QTest::newRow("29.97 NDF") << TimecodeRate{30, false};
    }

    void roundTripEveryFrame()
    {
        QFETCH(TimecodeRate, rate);
        const qint64 drop = rate.dropFrame ? rate.framesPerSecond / 15 : 0;
        Timecode previous;
        for (qint64 frame = 0; frame < qint64(rate.framesPerSecond) * 60 * 20; ++frame) {
            const auto tc = timecodeOfFrame(frame, rate);
            QVERIFY(tc);
            const auto back = frameOfTimecode(*tc, rate);
            if (back != frame)
                QFAIL(qPrintable(QStringLiteral("frame %1 -> %2 -> %3").arg(frame).arg(tc->toString()).arg(*back)));
            if (frame > 0) {
                // The label after `previous`, counting every label.
                Timecode next = previous;
                if (++next.frames == rate.framesPerSecond) {
                    next.frames = 0;
                    if (++next.seconds == 60) {
                        next.seconds = 0;
                        ++next.minutes;
                        if (rate.dropFrame && next.minutes % 10 != 0)
                            next.frames = int(drop);
                    }
                }
                if (!(next == *tc))
                    QFAIL(qPrintable(
                        QStringLiteral("frame %1 is %2 after %3").arg(frame).arg(tc->toString(), previous.toString())));
            }
            previous = *tc;
        }
    }

    void roundTripRandomFramesOverADay()
    {
        QRandomGenerator rng(1001);
        for (const TimecodeRate rate : {df2997, df5994, TimecodeRate{24, false}, TimecodeRate{50, false}}) {
            for (int i = 0; i < 20000; ++i) {
                const qint64 frame = qint64(rng.bounded(quint32(rate.framesPerSecond) * 86400u));
                const QString text = formatTimecode(frame, rate);
                QCOMPARE(parseTimecode(text, rate), std::optional<qint64>(frame));
            }
        }
    }

    void labelsThatDoNotExist_data()
    {
        QTest::addColumn<TimecodeRate>("rate");
        QTest::addColumn<QString>("text");
        QTest::newRow("29.97 DF ;00 at minute 1") << df2997 << "00:01:00;00";
        QTest::newRow("29.97 DF ;01 at minute 1") << df2997 << "00:01:00;01";
        QTest::newRow("29.97 DF ;01 at minute 59") << df2997 << "00:59:00;01";
        QTest::newRow("59.94 DF ;03 at minute 1") << df5994 << "00:01:00;03";
        QTest::newRow("frames past the rate") << TimecodeRate{25, false} << "00:00:00:25";
        QTest::newRow("60 seconds") << TimecodeRate{25, false} << "00:00:60:00";
        QTest::newRow("60 minutes") << TimecodeRate{25, false} << "00:60:00:00";
        QTest::newRow("five fields") << TimecodeRate{25, false} << "1:00:00:00:00";
        QTest::newRow("empty field") << TimecodeRate{25, false} << "00::00:00";
        QTest::newRow("trailing separator") << TimecodeRate{25, false} << "00:00:01:";
        QTest::newRow("letters") << TimecodeRate{25, false} << "00:0a:00:00";
        QTest::newRow("negative") << TimecodeRate{25, false} << "-00:00:01:00";
        QTest::newRow("empty") << TimecodeRate{25, false} << "  ";
        QTest::newRow("invalid rate") << TimecodeRate{} << "00:00:01:00";
        QTest::newRow("drop-frame at 25") << TimecodeRate{25, true} << "00:00:01:00";
    }

    void labelsThatDoNotExist()
    {
        QFETCH(TimecodeRate, rate);
        QFETCH(QString, text);
        QCOMPARE(parseTimecode(text, rate), std::nullopt);
    }

    void typedInput_data()
    {
        QTest::addColumn<TimecodeRate>("rate");
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("frame");
        QTest::newRow("frames only") << TimecodeRate{25, false} << "7" << qint64(7);
        QTest::newRow("seconds:frames") << TimecodeRate{25, false} << "2:10" << qint64(60);
        QTest::newRow("minutes:seconds:frames") << TimecodeRate{25, false} << "1:00:00" << qint64(1500);
        QTest::newRow("dots and spaces") << TimecodeRate{25, false} << " 00.00.01.00 " << qint64(25);
        QTest::newRow("colons at a drop-frame rate") << df2997 << "00:01:00:02" << qint64(1800);
        QTest::newRow("semicolons everywhere") << df2997 << "00;10;00;00" << qint64(17982);
        QTest::newRow("three-digit hours") << TimecodeRate{25, false} << "100:00:00:00" << qint64(9000000);
    }

    void typedInput()
    {
        QFETCH(TimecodeRate, rate);
        QFETCH(QString, text);
        QFETCH(qint64, frame);
        QCOMPARE(parseTimecode(text, rate), std::optional<qint64>(frame));
    }

    void negativeFrameHasNoTimecode()
    {
        QCOMPARE(timecodeOfFrame(-1, df2997), std::nullopt);
        QCOMPARE(formatTimecode(-1, df2997), QString());
    }

    void rateOfAClip_data()
    {
        QTest::addColumn<qint64>("num");
        QTest::addColumn<qint64>("den");
        QTest::addColumn<bool>("dropWhereUsual");
        QTest::addColumn<TimecodeRate>("expected");
        QTest::newRow("23.976") << qint64(24000) << qint64(1001) << true << TimecodeRate{24, false};
        QTest::newRow("24") << qint64(24) << qint64(1) << true << TimecodeRate{24, false};
        QTest::newRow("25") << qint64(25) << qint64(1) << true << TimecodeRate{25, false};
        QTest::newRow("29.97") << qint64(30000) << qint64(1001) << true << TimecodeRate{30, true};
        QTest::newRow("29.97 rounded") << qint64(2997) << qint64(100) << true << TimecodeRate{30, true};
        QTest::newRow("29.97 non-drop") << qint64(30000) << qint64(1001) << false << TimecodeRate{30, false};
        QTest::newRow("30") << qint64(30) << qint64(1) << true << TimecodeRate{30, false};
        QTest::newRow("50") << qint64(50) << qint64(1) << true << TimecodeRate{50, false};
        QTest::newRow("59.94") << qint64(60000) << qint64(1001) << true << TimecodeRate{60, true};
        QTest::newRow("60") << qint64(60) << qint64(1) << true << TimecodeRate{60, false};
        QTest::newRow("VFR average 27.3") << qint64(273) << qint64(10) << true << TimecodeRate{27, false};
        QTest::newRow("zero") << qint64(0) << qint64(1) << true << TimecodeRate{};
        QTest::newRow("no denominator") << qint64(25) << qint64(0) << true << TimecodeRate{};
    }

    void rateOfAClip()
    {
        QFETCH(qint64, num);
        QFETCH(qint64, den);
        QFETCH(bool, dropWhereUsual);
        QFETCH(TimecodeRate, expected);
        const TimecodeRate rate = TimecodeRate::forFrameRate(num, den, dropWhereUsual);
        QCOMPARE(rate.framesPerSecond, expected.framesPerSecond);
        QCOMPARE(rate.dropFrame, expected.dropFrame);
        QCOMPARE(rate.isValid(), expected.framesPerSecond > 0);
    }
};

QTEST_APPLESS_MAIN(TestTimecode)
#include "tst_timecode.moc"
