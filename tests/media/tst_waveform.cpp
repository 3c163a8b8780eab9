// Waveform peaks on tones of known amplitude generated at test time, in every sample format
// FFmpeg's decoders hand out (packed and planar, integer and float).

#include "media/waveform.h"
#include "mediafixtures.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <functional>

using namespace clipdeck::media;

namespace {

class TestControl : public Control
{
public:
    std::function<bool(const Progress &)> onCheckpoint;
    bool checkpoint(const Progress &p) override { return onCheckpoint ? onCheckpoint(p) : true; }
};

QStringList filesIn(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

// 3 s of a 440 Hz tone, 0.5 full scale on the left and 0.25 on the right, then 1 s of silence.
QString toneClip(const QString &extension, const QStringList &codecArgs)
{
    return fixtures::generate(
        QStringLiteral("wave-tone-%1.%2").arg(codecArgs.value(1), extension),
        QStringList{
            QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
            QStringLiteral("aevalsrc=if(lt(t\\,3)\\,0.5*sin(2*PI*440*t)\\,0)|if(lt(t\\,3)\\,0.25*sin(2*PI*440*t)\\,0)"
                           ":s=48000:d=4")}
            + codecArgs);
}

Result run(const QString &input, const QString &outDir, const QVariantMap &params, Control *control = nullptr)
{
    TestControl fallback;
    return runWaveform(Request{input, outDir, QStringLiteral("clip"), params}, control ? *control : fallback);
}

QJsonObject readJson(const Result &r)
{
    if (r.outputs.size() != 1)
        return {};
    QFile f(r.outputs[0].path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QJsonParseError error;
    const auto doc = QJsonDocument::fromJson(f.readAll(), &error);
    return error.error == QJsonParseError::NoError ? doc.object() : QJsonObject();
}

// The extremes of a channel's buckets [from, to): {lowest min, highest max, highest min, lowest max}.
struct Range
{
    double lowestMin = 1, highestMax = -1, highestMin = -1, lowestMax = 1;
};
Range range(const QJsonArray &peaks, int from, int to)
{
    Range r;
    for (int i = from; i < to; ++i) {
        const double mn = peaks[2 * i].toDouble(), mx = peaks[2 * i + 1].toDouble();
        r.lowestMin = std::min(r.lowestMin, mn);
        r.highestMax = std::max(r.highestMax, mx);
        r.highestMin = std::max(r.highestMin, mn);
        r.lowestMax = std::min(r.lowestMax, mx);
    }
    return r;
}

} // namespace

class TestWaveform : public QObject
{
    Q_OBJECT

private slots:
    void peaksMatchTheTone_data()
    {
        QTest::addColumn<QString>("clip");
        QTest::addColumn<double>("tolerance");
        auto pcm = [](const char *codec) {
            return toneClip(QStringLiteral("wav"), {QStringLiteral("-c:a"), QString::fromLatin1(codec)});
        };
        QTest::newRow("s16 wav") << pcm("pcm_s16le") << 0.001;
        QTest::newRow("u8 wav") << pcm("pcm_u8") << 0.01;
        QTest::newRow("s32 wav") << pcm("pcm_s32le") << 0.001;
        QTest::newRow("f32 wav") << pcm("pcm_f32le") << 0.001;
        QTest::newRow("f64 wav") << pcm("pcm_f64le") << 0.001;
        QTest::newRow("flac (s16)") << toneClip(QStringLiteral("flac"),
                                                {QStringLiteral("-c:a"), QStringLiteral("flac")})
                                    << 0.001;
        // Lossy codecs: a little ringing around the edges, peaks within a few per cent.
        QTest::newRow("aac (planar float)")
            << toneClip(QStringLiteral("m4a"),
                        {QStringLiteral("-c:a"), QStringLiteral("aac"), QStringLiteral("-b:a"), QStringLiteral("256k")})
            << 0.04;
        QTest::newRow("opus (float)") << toneClip(
            QStringLiteral("ogg"),
            {QStringLiteral("-c:a"), QStringLiteral("libopus"), QStringLiteral("-b:a"), QStringLiteral("256k")})
                                      << 0.04;
    }

    void peaksMatchTheTone()
    {
        QFETCH(QString, clip);
        QFETCH(double, tolerance);
        QVERIFY(!clip.isEmpty());
        QTemporaryDir dir;
        const Result r = run(clip, dir.path(), {});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        QCOMPARE(r.outputs.size(), 1);
        QCOMPARE(r.outputs[0].role, QStringLiteral("waveform"));
        QCOMPARE(r.outputs[0].mimeType, QStringLiteral("application/json"));
        QCOMPARE(QFileInfo(r.outputs[0].path).fileName(), QStringLiteral("clip.waveform.json"));
        const QJsonObject json = readJson(r);
        QCOMPARE(json.value(u"v").toInt(), 1);
        QCOMPARE(json.value(u"sampleRate").toInt(), 48000);
        QCOMPARE(json.value(u"channels").toInt(), 2);
        QCOMPARE(json.value(u"bucketsPerSecond").toDouble(), 100.0);
        const double duration = json.value(u"durationSeconds").toDouble();
        QVERIFY2(std::abs(duration - 4.0) < 0.03, qPrintable(QString::number(duration)));
        const QJsonArray peaks = json.value(u"peaks").toArray();
        QCOMPARE(peaks.size(), 2);
        const int buckets = json.value(u"buckets").toInt();
        QCOMPARE(buckets, int(std::ceil(duration * 100 - 1e-9)));
        for (int c = 0; c < 2; ++c) {
            QCOMPARE(peaks[c].toArray().size(), 2 * buckets);
            const double amplitude = c == 0 ? 0.5 : 0.25;
            // Every 10 ms bucket of the tone holds 4.4 periods: each reaches both peaks. (The first
            // 50 ms are left out: lossy codecs overshoot on the onset.)
            const Range tone = range(peaks[c].toArray(), 5, 290);
            QVERIFY2(std::abs(tone.highestMax - amplitude) <= tolerance, qPrintable(QString::number(tone.highestMax)));
            QVERIFY2(std::abs(tone.lowestMax - amplitude) <= tolerance + 0.01,
                     qPrintable(QString::number(tone.lowestMax)));
            QVERIFY2(std::abs(tone.lowestMin + amplitude) <= tolerance, qPrintable(QString::number(tone.lowestMin)));
            QVERIFY2(std::abs(tone.highestMin + amplitude) <= tolerance + 0.01,
                     qPrintable(QString::number(tone.highestMin)));
            // The last second is silent.
            const Range silence = range(peaks[c].toArray(), 310, buckets - 1);
            QVERIFY2(silence.lowestMin >= -tolerance && silence.highestMax <= tolerance,
                     qPrintable(QStringLiteral("%1 %2").arg(silence.lowestMin).arg(silence.highestMax)));
        }
    }

    void valuesHaveAtMostFourDecimals()
    {
        QTemporaryDir dir;
        const Result r =
            run(toneClip(QStringLiteral("wav"), {QStringLiteral("-c:a"), QStringLiteral("pcm_f32le")}), dir.path(), {});
        QVERIFY(!r.error);
        QFile f(r.outputs[0].path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray text = f.readAll();
        const qsizetype start = text.indexOf("\"peaks\":[[");
        QVERIFY(start > 0);
        const QList<QByteArray> values = text.mid(start + 10, 20000).split(',');
        QVERIFY(values.size() > 100);
        for (int i = 0; i < 100; ++i) {
            const qsizetype dot = values[i].indexOf('.');
            QVERIFY2(dot < 0 || values[i].size() - dot - 1 <= 4, values[i].constData());
            QVERIFY(std::abs(values[i].toDouble()) <= 1.0);
        }
    }

    void bucketsFollowTheParams()
    {
        const QString clip = toneClip(QStringLiteral("wav"), {QStringLiteral("-c:a"), QStringLiteral("pcm_s16le")});
        {
            QTemporaryDir dir;
            const QJsonObject json = readJson(run(clip, dir.path(), {{QStringLiteral("bucketsPerSecond"), 10}}));
            QCOMPARE(json.value(u"buckets").toInt(), 40);
            QCOMPARE(json.value(u"peaks").toArray()[0].toArray().size(), 80);
        }
        {
            QTemporaryDir dir;
            const QJsonObject json = readJson(run(clip, dir.path(), {{QStringLiteral("buckets"), 7}}));
            QCOMPARE(json.value(u"buckets").toInt(), 7);
            QCOMPARE(json.value(u"bucketsPerSecond").toDouble(), 7 / 4.0);
            const QJsonArray left = json.value(u"peaks").toArray()[0].toArray();
            QCOMPARE(left.size(), 14);
            QVERIFY(std::abs(left[1].toDouble() - 0.5) < 0.001);
            QCOMPARE(left[13].toDouble(), 0.0); // 3.43 s .. 4 s: silence
        }
        {
            QTemporaryDir dir;
            const QJsonObject json =
                readJson(run(clip, dir.path(), {{QStringLiteral("channels"), QStringLiteral("mix")}}));
            QCOMPARE(json.value(u"channels").toInt(), 1);
            const QJsonArray peaks = json.value(u"peaks").toArray();
            QCOMPARE(peaks.size(), 1);
            // The channels are in phase: the mix peaks at their average.
            const Range mix = range(peaks[0].toArray(), 1, 290);
            QVERIFY2(std::abs(mix.highestMax - 0.375) < 0.001, qPrintable(QString::number(mix.highestMax)));
            QVERIFY2(std::abs(mix.lowestMin + 0.375) < 0.001, qPrintable(QString::number(mix.lowestMin)));
        }
    }

    void audioOfAVideoClip()
    {
        // basicClip: lavfi's sine at its default amplitude of 1/8, upmixed to stereo (-3 dB per
        // side: 0.125 × 0.7071), AAC in MP4, next to H.264.
        QTemporaryDir dir;
        const Result r = run(fixtures::basicClip(4.0), dir.path(), {{QStringLiteral("bucketsPerSecond"), 50}});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const QJsonObject json = readJson(r);
        QCOMPARE(json.value(u"channels").toInt(), 2);
        QCOMPARE(json.value(u"buckets").toInt(), 200); // the container's 4 s, not the codec's padding
        const Range tone = range(json.value(u"peaks").toArray()[1].toArray(), 2, 190);
        const double amplitude = 0.125 * M_SQRT1_2;
        QVERIFY2(std::abs(tone.highestMax - amplitude) < 0.008, qPrintable(QString::number(tone.highestMax)));
        QVERIFY2(std::abs(tone.lowestMin + amplitude) < 0.008, qPrintable(QString::number(tone.lowestMin)));
    }

    void lateAudioStartsWithSilence()
    {
        // Audio that begins 1 s into the clip: the first second of buckets is silent.
        const QString tone = toneClip(QStringLiteral("wav"), {QStringLiteral("-c:a"), QStringLiteral("pcm_s16le")});
        const QString clip = fixtures::generate(
            QStringLiteral("wave-late-audio.mkv"),
            {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
             QStringLiteral("testsrc2=s=160x120:r=25:d=5"), QStringLiteral("-itsoffset"), QStringLiteral("1"),
             QStringLiteral("-i"), tone, QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"),
             QStringLiteral("ultrafast"), QStringLiteral("-c:a"), QStringLiteral("pcm_s16le")});
        QTemporaryDir dir;
        const Result r = run(clip, dir.path(), {});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const QJsonObject json = readJson(r);
        const QJsonArray left = json.value(u"peaks").toArray()[0].toArray();
        const Range lead = range(left, 0, 98);
        QVERIFY2(lead.lowestMin == 0 && lead.highestMax == 0,
                 qPrintable(QStringLiteral("%1 %2").arg(lead.lowestMin).arg(lead.highestMax)));
        const Range tonePart = range(left, 102, 390);
        QVERIFY(std::abs(tonePart.highestMax - 0.5) < 0.001);
        QVERIFY(std::abs(json.value(u"durationSeconds").toDouble() - 5.0) < 0.05);
    }

    void cancelLeavesNothing()
    {
        // A long tone so the decode loop reaches its periodic checkpoints.
        const QString clip = fixtures::generate(QStringLiteral("wave-long.flac"),
                                                {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                                                 QStringLiteral("sine=frequency=440:sample_rate=48000:duration=600"),
                                                 QStringLiteral("-ac"), QStringLiteral("2")});
        QTemporaryDir dir;
        TestControl control;
        bool sawAnalysing = false;
        control.onCheckpoint = [&](const Progress &p) {
            sawAnalysing = sawAnalysing || p.stage == u"analysing";
            return p.stage != u"analysing";
        };
        const Result r = run(clip, dir.path(), {}, &control);
        QVERIFY(sawAnalysing);
        QVERIFY(r.error);
        QCOMPARE(r.error->code, QString(errors::Canceled));
        QCOMPARE(filesIn(dir.path()), QStringList());
    }

    void brokenInputsFailWithTheirCodes_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("code");
        QTest::newRow("missing") << QStringLiteral("/nonexistent/clip.wav") << QString(errors::FileNotFound);
        QTest::newRow("zero bytes") << fixtures::zeroByteFile() << QString(errors::EmptyFile);
        QTest::newRow("text named .mp4") << fixtures::textFileNamedMp4() << QString(errors::NotMedia);
        QTest::newRow("random bytes") << fixtures::randomBytesFile() << QString(errors::NotMedia);
        QTest::newRow("truncated") << fixtures::truncatedClip() << QString(errors::CorruptStream);
        QTest::newRow("video only") << fixtures::generate(
            QStringLiteral("wave-video-only.mp4"),
            {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
             QStringLiteral("testsrc2=s=160x120:r=25:d=1"), QStringLiteral("-c:v"), QStringLiteral("libx264"),
             QStringLiteral("-preset"), QStringLiteral("ultrafast")})
                                    << QString(errors::NoAudio);
    }

    void brokenInputsFailWithTheirCodes()
    {
        QFETCH(QString, input);
        QFETCH(QString, code);
        QTemporaryDir dir;
        const Result r = run(input, dir.path(), {});
        QVERIFY(r.error);
        QCOMPARE(r.error->code, code);
        QVERIFY(!r.error->message.isEmpty());
        QCOMPARE(filesIn(dir.path()), QStringList());
    }

    void invalidParams_data()
    {
        QTest::addColumn<QVariantMap>("params");
        QTest::newRow("both rates") << QVariantMap{{QStringLiteral("buckets"), 10},
                                                   {QStringLiteral("bucketsPerSecond"), 10}};
        QTest::newRow("zero rate") << QVariantMap{{QStringLiteral("bucketsPerSecond"), 0}};
        QTest::newRow("fractional buckets") << QVariantMap{{QStringLiteral("buckets"), 2.5}};
        QTest::newRow("channels left") << QVariantMap{{QStringLiteral("channels"), QStringLiteral("left")}};
        QTest::newRow("unknown key") << QVariantMap{{QStringLiteral("bucket"), 10}};
    }

    void invalidParams()
    {
        QFETCH(QVariantMap, params);
        const auto e = validateWaveform(params);
        QVERIFY(e);
        QCOMPARE(e->code, QString(errors::InvalidParams));
        QTemporaryDir dir;
        const Result r = run(fixtures::basicClip(4.0), dir.path(), params);
        QVERIFY(r.error);
        QCOMPARE(r.error->code, QString(errors::InvalidParams));
        QCOMPARE(filesIn(dir.path()), QStringList());
    }
};

QTEST_GUILESS_MAIN(TestWaveform)
#include "tst_waveform.moc"
