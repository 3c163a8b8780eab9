// The exact-frame reader on clips whose pictures show their own frame number: every frame read
// back, by random seeks, steps both ways and the first and last frame, must be the one asked
// for, in every codec and container here; the GOP cache (counted, not timed), the index, the
// asynchronous reader, and clean failures on files that cannot be played.

#include "media/framereader.h"
#include "media/timecode.h"

#include "mediafixtures.h"
#include "numberedclips.h"

#include <QRandomGenerator>
#include <QTest>

#include <mutex>

using namespace clipdeck::media;

using ClipMaker = fixtures::NumberedClip (*)();
Q_DECLARE_METATYPE(ClipMaker)

namespace {

std::unique_ptr<FrameReader> openOk(const QString &path, FrameReaderOptions options = {})
{
    auto opened = FrameReader::open(path, std::move(options));
    if (auto *e = std::get_if<Error>(&opened))
        qFatal("FrameReader::open(%s): %s: %s", qPrintable(path), qPrintable(e->code), qPrintable(e->message));
    return std::move(std::get<std::unique_ptr<FrameReader>>(opened));
}

int numberShown(const DecodedFrame &frame)
{
    if (frame.isNull() || frame.pixelFormat() == PixelFormat::Rgba8888)
        return -2;
    return fixtures::pictureNumber(frame.bits(0), frame.bytesPerLine(0), frame.width(), frame.height());
}

// Empty when `frame` decodes to the picture showing `frame`, else what went wrong.
QString checkFrame(FrameReader &reader, qint64 frame)
{
    auto result = reader.decode(frame);
    if (auto *e = std::get_if<Error>(&result))
        return QStringLiteral("frame %1: %2: %3").arg(frame).arg(e->code, e->message);
    const DecodedFrame &decoded = std::get<DecodedFrame>(result);
    const int shown = numberShown(decoded);
    if (decoded.frameNumber() != frame || shown != frame || !decoded.isExact())
        return QStringLiteral("asked for frame %1, got frame %2 showing %3")
            .arg(frame)
            .arg(decoded.frameNumber())
            .arg(shown);
    if (reader.ptsOfFrame(frame) != decoded.pts())
        return QStringLiteral("frame %1: pts %2, index says %3")
            .arg(frame)
            .arg(decoded.pts())
            .arg(*reader.ptsOfFrame(frame));
    return {};
}

#define VERIFY_FRAME(reader, frame) \
    do { \
        const QString problem = checkFrame(reader, frame); \
        QVERIFY2(problem.isEmpty(), qPrintable(problem)); \
    } while (false)

void addClipRows()
{
    QTest::addColumn<ClipMaker>("clip");
    QTest::newRow("H.264 B-frames long GOP (MP4)") << &fixtures::numberedH264LongGop;
    QTest::newRow("H.264 open GOP (Matroska)") << &fixtures::numberedH264OpenGop;
    QTest::newRow("HEVC open GOP (MP4)") << &fixtures::numberedHevc;
    QTest::newRow("VP9 (WebM)") << &fixtures::numberedVp9;
    QTest::newRow("ProRes 422 (MOV)") << &fixtures::numberedProRes;
    QTest::newRow("MPEG-2 (MPEG-TS)") << &fixtures::numberedMpeg2;
    QTest::newRow("AV1 (Matroska)") << &fixtures::numberedAv1;
    QTest::newRow("H.264 29.97 fps (MP4)") << &fixtures::numberedH264At2997;
    QTest::newRow("VFR H.264 (Matroska)") << &fixtures::numberedVfrMatroska;
    QTest::newRow("VFR H.264 B-frames (MP4)") << &fixtures::numberedVfrMp4;
    QTest::newRow("VFR H.264 no B-frames (MP4)") << &fixtures::numberedVfrMp4NoBFrames;
    QTest::newRow("rotated H.264 (MP4)") << &fixtures::numberedRotated;
}

struct Recorder
{
    std::mutex mutex;
    QList<DecodedFrame> frames;
    QList<int> shown;
    QList<QPair<qint64, Error>> failures;

    AsyncFrameReader::Callbacks callbacks()
    {
        return {[this](const DecodedFrame &f) {
                    std::lock_guard lock(mutex);
                    frames.append(f);
                    shown.append(numberShown(f));
                },
                [this](qint64 frame, const Error &e) {
                    std::lock_guard lock(mutex);
                    failures.append({frame, e});
                }};
    }
};

} // namespace

class TestFrameReader : public QObject
{
    Q_OBJECT

private slots:
    void everyFrameExact_data() { addClipRows(); }

    // First and last frame on fresh readers, every frame stepping forward and stepping back over
    // the whole clip (so across every GOP boundary), and seeded random seeks.
    void everyFrameExact()
    {
        QFETCH(ClipMaker, clip);
        const fixtures::NumberedClip c = clip();
        QVERIFY2(!c.path.isEmpty(), "fixture generation failed");
        {
            auto reader = openOk(c.path);
            VERIFY_FRAME(*reader, 0);
        }
        {
            auto reader = openOk(c.path);
            reader->waitForIndex();
            QCOMPARE(reader->frameCount(), c.frames);
            VERIFY_FRAME(*reader, c.frames - 1);
        }
        auto reader = openOk(c.path);
        reader->waitForIndex();
        QCOMPARE(reader->frameCount(), c.frames);
        QVERIFY(reader->isIndexComplete());
        for (qint64 n = 0; n < c.frames; ++n)
            VERIFY_FRAME(*reader, n);
        for (qint64 n = c.frames - 1; n >= 0; --n)
            VERIFY_FRAME(*reader, n);
        QRandomGenerator rng(20261203);
        auto fresh = openOk(c.path);
        for (int i = 0; i < 60; ++i)
            VERIFY_FRAME(*fresh, qint64(rng.bounded(quint32(c.frames))));
        // The asynchronous reader seeks the fast way (see asyncSeekSkipsThenKeepsTheGop): still exact.
        Recorder recorder;
        {
            AsyncFrameReader async(openOk(c.path), recorder.callbacks());
            for (int i = 0; i < 30; ++i) {
                const qint64 n = qint64(rng.bounded(quint32(c.frames)));
                async.request(n);
                async.waitUntilIdle();
                std::lock_guard lock(recorder.mutex);
                QVERIFY(!recorder.frames.isEmpty());
                QCOMPARE(recorder.frames.constLast().frameNumber(), n);
                QCOMPARE(recorder.shown.constLast(), int(n));
                QVERIFY(recorder.failures.isEmpty());
            }
        }
        // Past the end.
        auto beyond = reader->decode(c.frames);
        QVERIFY(std::holds_alternative<Error>(beyond));
        QCOMPARE(std::get<Error>(beyond).code, QString(errors::InvalidParams));
    }

    // Stepping back within the GOP decodes nothing; a step back across a GOP boundary decodes
    // the previous GOP once, and the steps after it nothing again.
    void gopIsKeptForSteppingBack()
    {
        const auto clip = fixtures::numberedH264LongGop(); // keyframes at 0, 250, 500
        auto reader = openOk(clip.path);
        VERIFY_FRAME(*reader, 200);
        const FrameReaderStatistics atTarget = reader->statistics();
        QCOMPARE(atTarget.seeks, 1);
        QVERIFY(atTarget.framesDecoded >= 201);
        for (qint64 n = 199; n >= 150; --n)
            VERIFY_FRAME(*reader, n);
        FrameReaderStatistics s = reader->statistics();
        QCOMPARE(s.framesDecoded, atTarget.framesDecoded);
        QCOMPARE(s.seeks, atTarget.seeks);
        QCOMPARE(s.cacheHits, atTarget.cacheHits + 50);

        VERIFY_FRAME(*reader, 260); // in the next GOP
        const FrameReaderStatistics inNextGop = reader->statistics();
        QCOMPARE(inNextGop.seeks, 2);
        for (qint64 n = 259; n >= 250; --n)
            VERIFY_FRAME(*reader, n);
        QCOMPARE(reader->statistics().framesDecoded, inNextGop.framesDecoded);

        VERIFY_FRAME(*reader, 249); // across the boundary: the previous GOP, once
        const FrameReaderStatistics crossed = reader->statistics();
        QCOMPARE(crossed.seeks, 3);
        QVERIFY2(crossed.framesDecoded - inNextGop.framesDecoded <= 250 + 8,
                 qPrintable(QString::number(crossed.framesDecoded - inNextGop.framesDecoded)));
        for (qint64 n = 248; n >= 200; --n)
            VERIFY_FRAME(*reader, n);
        s = reader->statistics();
        QCOMPARE(s.seeks, crossed.seeks);
        QCOMPARE(s.framesDecoded, crossed.framesDecoded);
        QVERIFY(s.keptFrames > 250);
    }

    // Stepping forward decodes on from where decoding stands: one packet per step, no seek.
    void steppingForwardDecodesOn()
    {
        const auto clip = fixtures::numberedH264LongGop();
        auto reader = openOk(clip.path);
        VERIFY_FRAME(*reader, 100);
        const FrameReaderStatistics start = reader->statistics();
        for (qint64 n = 101; n <= 140; ++n)
            VERIFY_FRAME(*reader, n);
        const FrameReaderStatistics s = reader->statistics();
        QCOMPARE(s.seeks, start.seeks);
        QVERIFY2(s.packetsDecoded - start.packetsDecoded <= 40 + 2,
                 qPrintable(QString::number(s.packetsDecoded - start.packetsDecoded)));
        // Into the next GOP, whose keyframe is near: decoding on, still no seek.
        for (qint64 n = 141; n <= 260; ++n)
            VERIFY_FRAME(*reader, n);
        QCOMPARE(reader->statistics().seeks, start.seeks);
    }

    // A cap smaller than a GOP: memory stays within it and every frame is still exact (the
    // farthest pictures go first and are decoded again when asked for).
    void keptPicturesStayWithinTheCap()
    {
        const auto clip = fixtures::numberedH264LongGop();
        FrameReaderOptions options;
        options.cacheBytes = qint64(3) << 20; // about 25 pictures of 320x240
        auto reader = openOk(clip.path, options);
        VERIFY_FRAME(*reader, 200);
        QVERIFY(reader->statistics().keptBytes <= options.cacheBytes);
        QVERIFY(reader->statistics().keptFrames >= 10);
        for (qint64 n = 199; n >= 150; --n) {
            VERIFY_FRAME(*reader, n);
            QVERIFY(reader->statistics().keptBytes <= options.cacheBytes);
        }
        QVERIFY2(reader->statistics().seeks > 1, "frames past the cap must have been decoded again");
    }

    // x265 makes open GOPs: the pictures just before each later keyframe are decoded after it
    // and need the GOP before. The MP4 index only knows a lower bound of such a keyframe's time
    // until its packet has been read: asked for a leading picture first, the reader reads the
    // keyframe's packet (no decoding), finds the picture shows before it, and decodes from the
    // keyframe before.
    void leadingPicturesOfOpenGops()
    {
        const auto hevc = fixtures::numberedHevc();
        auto reader = openOk(hevc.path);
        QVERIFY(reader->properties().indexFromContainer);
        VERIFY_FRAME(*reader, 49);
        const FrameReaderStatistics firstAsk = reader->statistics();
        QCOMPARE(firstAsk.seeks, 2); // the keyframe at 50 read, then decoding from the one at 0
        QCOMPARE(firstAsk.retries, 0);
        QVERIFY2(firstAsk.framesDecoded <= 50 + 8, qPrintable(QString::number(firstAsk.framesDecoded)));
        for (qint64 n : {48, 47, 50, 51, 99, 98, 100, 149, 150, 199, 249, 250})
            VERIFY_FRAME(*reader, n);
        // A frame first, on a fresh reader (so decoding starts at its keyframe when it is one),
        // then back into the pictures shown before it: decoded from that keyframe, a leading
        // picture lacks its references; it must come from the GOP before, never from what the
        // first decode put out.
        for (ClipMaker make : {&fixtures::numberedHevc, &fixtures::numberedH264OpenGop, &fixtures::numberedMpeg2}) {
            const auto clip = make();
            for (qint64 first = 5; first < clip.frames; first += 5) {
                auto fresh = openOk(clip.path);
                for (qint64 n = first; n >= first - 3; --n)
                    VERIFY_FRAME(*fresh, n);
            }
        }
    }

    void frameRateAndTiming()
    {
        auto cfr = openOk(fixtures::numberedH264LongGop().path);
        VideoProperties p = cfr->properties();
        QVERIFY(!p.variableFrameRate);
        QCOMPARE(p.frameRate.num, 25);
        QCOMPARE(p.frameRate.den, 1);
        QVERIFY(qAbs(p.durationSeconds - 30.0) < 1e-6);
        QCOMPARE(p.codec, QStringLiteral("h264"));
        QCOMPARE(p.width, 320);
        QCOMPARE(p.height, 240);
        QCOMPARE(p.rotation, 0);
        QCOMPARE(p.pixelFormat, PixelFormat::Yuv420P);
        QVERIFY(p.indexFromContainer);

        auto ntsc = openOk(fixtures::numberedH264At2997().path);
        p = ntsc->properties();
        QCOMPARE(p.frameRate.num, 30000);
        QCOMPARE(p.frameRate.den, 1001);
        QVERIFY(!p.variableFrameRate);
        const TimecodeRate rate = TimecodeRate::forFrameRate(p.frameRate.num, p.frameRate.den);
        QCOMPARE(rate.framesPerSecond, 30);
        QVERIFY(rate.dropFrame);
        QCOMPARE(*ntsc->secondsOfFrame(299), 299 * 1001 / 30000.0);

        // The VFR clips' frames start at N*33 + (N*7 mod 13) ms: the index gives them back.
        for (ClipMaker make :
             {&fixtures::numberedVfrMatroska, &fixtures::numberedVfrMp4, &fixtures::numberedVfrMp4NoBFrames}) {
            const auto clip = make();
            auto vfr = openOk(clip.path);
            vfr->waitForIndex();
            p = vfr->properties();
            QVERIFY2(p.variableFrameRate, qPrintable(clip.description));
            QCOMPARE(vfr->frameCount(), clip.frames);
            for (qint64 n = 0; n < clip.frames; ++n) {
                const double expected = (n * 33 + (n * 7) % 13) / 1000.0;
                const auto seconds = vfr->secondsOfFrame(n);
                QVERIFY(seconds);
                QVERIFY2(qAbs(*seconds - expected) < 1e-9,
                         qPrintable(QStringLiteral("%1: frame %2 at %3 s").arg(clip.description).arg(n).arg(*seconds)));
                QCOMPARE(vfr->frameAtSeconds(*seconds), n);
                QCOMPARE(vfr->frameAtSeconds(*seconds + 0.020), n); // still showing 20 ms later
            }
            // From the first frame's start to the last one's end (the mean frame duration).
            const double last = (299 * 33 + (299 * 7) % 13) / 1000.0;
            QVERIFY(qAbs(p.durationSeconds - last * 300 / 299) < 1e-6);
            // The nominal rate: the container's (MP4: frames over duration), or the measured mean
            // where the container's is off (Matroska from a millisecond time base says 1000 fps).
            QVERIFY2(qAbs(p.frameRate.toDouble() / (299 / last) - 1) < 0.01,
                     qPrintable(QString::number(p.frameRate.toDouble())));
        }
        QCOMPARE(openOk(fixtures::numberedVfrMp4NoBFrames().path)->properties().indexFromContainer, true);
        QCOMPARE(openOk(fixtures::numberedVfrMp4().path)->properties().indexFromContainer, false);
        QCOMPARE(openOk(fixtures::numberedVfrMatroska().path)->properties().indexFromContainer, false);
    }

    // An MP4 whose samples all last the same although its pictures are not shown on that grid:
    // the first decoded timestamp off the index gives it away; the index is rebuilt by a scan
    // and the frame is still exact.
    void misleadingContainerIndexIsRebuilt()
    {
        const auto clip = fixtures::numberedVfrMp4UniformDts();
        QVERIFY(!clip.path.isEmpty());
        auto reader = openOk(clip.path);
        QVERIFY(reader->properties().indexFromContainer);
        VERIFY_FRAME(*reader, 10);
        QCOMPARE(reader->statistics().indexRebuilds, 1);
        QVERIFY(!reader->properties().indexFromContainer);
        reader->waitForIndex();
        QCOMPARE(reader->frameCount(), clip.frames);
        QRandomGenerator rng(7);
        for (int i = 0; i < 40; ++i)
            VERIFY_FRAME(*reader, qint64(rng.bounded(quint32(clip.frames))));
        QVERIFY(reader->properties().variableFrameRate);
        QCOMPARE(reader->statistics().indexRebuilds, 1);
    }

    // Matroska is indexed by a scan on a thread of its own: the reader answers at once, a frame
    // past the scan waits for it, progress ends with the complete count.
    void scannedIndexReportsProgress()
    {
        const auto clip = fixtures::numberedVfrMatroska();
        std::mutex mutex;
        QList<QPair<qint64, bool>> progress;
        FrameReaderOptions options;
        options.indexProgress = [&](qint64 frames, bool complete) {
            std::lock_guard lock(mutex);
            progress.append({frames, complete});
        };
        auto reader = openOk(clip.path, options);
        QVERIFY(reader->frameCount() > 0); // an estimate until the scan is done
        VERIFY_FRAME(*reader, clip.frames - 1);
        reader->waitForIndex();
        std::lock_guard lock(mutex);
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.constLast().first, clip.frames);
        QVERIFY(progress.constLast().second);
        for (qsizetype i = 1; i < progress.size(); ++i)
            QVERIFY(progress[i].first >= progress[i - 1].first);
    }

    void rotationIsReported()
    {
        // mediafixtures' rotated clip has the opposite matrix (ffprobe: rotation 90), which the
        // ffmpeg CLI turns upright with transpose=cclock: 270° clockwise.
        QCOMPARE(openOk(fixtures::rotatedClip())->properties().rotation, 270);
        const auto clip = fixtures::numberedRotated();
        auto reader = openOk(clip.path);
        const VideoProperties p = reader->properties();
        QCOMPARE(p.rotation, 90);
        // Delivered as stored: the view turns them (a transform costs nothing, pixels a copy).
        QCOMPARE(p.width, 320);
        QCOMPARE(p.height, 240);
        auto decoded = reader->decode(5);
        QVERIFY(std::holds_alternative<DecodedFrame>(decoded));
        QCOMPARE(std::get<DecodedFrame>(decoded).width(), 320);
        QCOMPARE(numberShown(std::get<DecodedFrame>(decoded)), 5);
    }

    // ProRes decodes to 10-bit 4:2:2, which Qt 6.4 has no layout for: delivered 8-bit 4:2:2.
    void pixelLayouts()
    {
        auto prores = openOk(fixtures::numberedProRes().path);
        VideoProperties p = prores->properties();
        QCOMPARE(p.sourcePixelFormat, QStringLiteral("yuv422p10le"));
        QCOMPARE(p.pixelFormat, PixelFormat::Yuv422P);
        auto decoded = prores->decode(3);
        QVERIFY(std::holds_alternative<DecodedFrame>(decoded));
        DecodedFrame f = std::get<DecodedFrame>(decoded);
        QCOMPARE(f.pixelFormat(), PixelFormat::Yuv422P);
        QCOMPARE(f.planeCount(), 3);
        QCOMPARE(f.planeHeight(0), 240);
        QCOMPARE(f.planeHeight(1), 240);
        QVERIFY(f.bytesPerLine(1) >= 160);
        QCOMPARE(numberShown(f), 3);

        auto h264 = openOk(fixtures::numberedH264LongGop().path);
        decoded = h264->decode(3);
        f = std::get<DecodedFrame>(decoded);
        QCOMPARE(f.pixelFormat(), PixelFormat::Yuv420P);
        QCOMPARE(f.planeCount(), 3);
        QCOMPARE(f.planeHeight(1), 120);
        QVERIFY(f.bytesPerLine(0) >= 320);
        QVERIFY(f.avFrame() != nullptr);
    }

    void filesThatCannotBePlayed_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("code");
        QTest::newRow("audio only") << fixtures::audioOnlyClip() << QString(errors::NoVideo);
        QTest::newRow("missing") << fixtures::mediaDir() + QStringLiteral("/no-such-clip.mp4")
                                 << QString(errors::FileNotFound);
        QTest::newRow("zero bytes") << fixtures::zeroByteFile() << QString(errors::EmptyFile);
        QTest::newRow("text named .mp4") << fixtures::textFileNamedMp4() << QString(errors::NotMedia);
        QTest::newRow("random bytes") << fixtures::randomBytesFile() << QString(errors::NotMedia);
        QTest::newRow("truncated before the index") << fixtures::truncatedClip() << QString(errors::CorruptStream);
    }

    void filesThatCannotBePlayed()
    {
        QFETCH(QString, path);
        QFETCH(QString, code);
        auto opened = FrameReader::open(path);
        QVERIFY(std::holds_alternative<Error>(opened));
        const Error &e = std::get<Error>(opened);
        QCOMPARE(e.code, code);
        QVERIFY(!e.message.isEmpty());
        if (code == errors::NoVideo)
            QVERIFY2(e.message.contains(QStringLiteral("audio only")), qPrintable(e.message));
    }

    // The header promises 100 frames, the data stops half-way: frames past it fail with a
    // sentence, frames before it still decode, before and after the failure.
    void truncatedFileFailsCleanly()
    {
        auto reader = openOk(fixtures::truncatedFaststartClip());
        QCOMPARE(reader->frameCount(), 100);
        auto first = reader->decode(0);
        QVERIFY(std::holds_alternative<DecodedFrame>(first));
        auto last = reader->decode(99);
        QVERIFY(std::holds_alternative<Error>(last));
        QCOMPARE(std::get<Error>(last).code, QString(errors::CorruptStream));
        QVERIFY(!std::get<Error>(last).message.isEmpty());
        auto again = reader->decode(10);
        QVERIFY(std::holds_alternative<DecodedFrame>(again));
        QCOMPARE(std::get<DecodedFrame>(again).frameNumber(), 10);
    }

    // Zeros over a quarter of the media data: every request ends, with the frame asked for or
    // corrupt_stream, never another frame.
    void damagedFileNeverGivesAnotherFrame()
    {
        auto reader = openOk(fixtures::corruptedClip());
        reader->waitForIndex();
        int failed = 0;
        for (qint64 n = 0; n < reader->frameCount(); ++n) {
            auto result = reader->decode(n);
            if (auto *e = std::get_if<Error>(&result)) {
                QCOMPARE(e->code, QString(errors::CorruptStream));
                ++failed;
            } else {
                QCOMPARE(std::get<DecodedFrame>(result).frameNumber(), n);
            }
        }
        QVERIFY(failed < reader->frameCount());
        // Given up only after restarting from earlier keyframes (pictures missing past damage).
        QVERIFY(reader->statistics().retries > 0);
    }

    // Requests faster than decoding: the newest wins, and everything delivered is exact.
    void asyncNewestRequestWins()
    {
        const auto clip = fixtures::numberedH264LongGop();
        Recorder recorder;
        {
            AsyncFrameReader async(openOk(clip.path), recorder.callbacks());
            for (qint64 n = 0; n <= 700; n += 20)
                async.request(n);
            async.waitUntilIdle();
            std::lock_guard lock(recorder.mutex);
            QVERIFY(!recorder.frames.isEmpty());
            QCOMPARE(recorder.frames.constLast().frameNumber(), 700);
            QVERIFY(recorder.failures.isEmpty());
            for (qsizetype i = 0; i < recorder.frames.size(); ++i) {
                QVERIFY(recorder.frames[i].isExact());
                QCOMPARE(recorder.shown[i], recorder.frames[i].frameNumber());
                QCOMPARE(recorder.frames[i].frameNumber() % 20, 0);
            }
        }
    }

    // The asynchronous reader seeks the fastest way (the decoder skips pictures before the
    // target that nothing refers to, and is drained at the target), then, while nothing else is
    // asked for, settles: decodes what it left out. Stepping back afterwards decodes nothing,
    // stepping forward decodes on without a seek.
    void asyncSeekSkipsThenKeepsTheGop()
    {
        const auto clip = fixtures::numberedH264LongGop();
        std::mutex mutex;
        QList<FrameReaderStatistics> atDelivery;
        QList<int> shown;
        std::unique_ptr<AsyncFrameReader> async;
        AsyncFrameReader::Callbacks callbacks{[&](const DecodedFrame &f) {
                                                  std::lock_guard lock(mutex);
                                                  atDelivery.append(async->reader().statistics());
                                                  shown.append(numberShown(f) == f.frameNumber() ? 1 : 0);
                                              },
                                              {}};
        async = std::make_unique<AsyncFrameReader>(openOk(clip.path), callbacks);
        async->request(200);
        async->waitUntilIdle();
        {
            std::lock_guard lock(mutex);
            QCOMPARE(atDelivery.size(), 1);
            // 201 pictures from the keyframe to the target; the B-frames nothing refers to skipped.
            QVERIFY2(atDelivery[0].framesDecoded < 201, qPrintable(QString::number(atDelivery[0].framesDecoded)));
        }
        const FrameReaderStatistics filled = async->reader().statistics();
        QVERIFY(filled.keptFrames >= 201);
        for (qint64 n = 199; n >= 150; --n) {
            async->request(n);
            async->waitUntilIdle();
        }
        const FrameReaderStatistics s = async->reader().statistics();
        QCOMPARE(s.framesDecoded, filled.framesDecoded);
        QCOMPARE(s.cacheHits, filled.cacheHits + 50);
        // Forward from the settled target: no seek; a packet or so a step, and the dozen
        // decoded ahead once steps begin (a decode from the keyframe would be 200 and more).
        for (qint64 n = 201; n <= 210; ++n) {
            async->request(n);
            async->waitUntilIdle();
        }
        const FrameReaderStatistics forward = async->reader().statistics();
        QCOMPARE(forward.seeks, s.seeks);
        QVERIFY2(forward.packetsDecoded - s.packetsDecoded <= 30,
                 qPrintable(QString::number(forward.packetsDecoded - s.packetsDecoded)));
        std::lock_guard lock(mutex);
        QCOMPARE(shown.size(), 61);
        QVERIFY(!shown.contains(0));
    }

    // Steps with the asynchronous reader, each after the one before was shown and the reader
    // went idle (a person pressing an arrow key): forward steps find the pictures ahead already
    // decoded, backward steps find the GOP before decoded before they cross into it.
    void asyncStepsAreKeptAhead()
    {
        const auto clip = fixtures::numberedH264LongGop(); // keyframes at 0, 250, 500
        std::mutex mutex;
        QList<qint64> hitAtDelivery; // cache hits counted when each frame was delivered
        QList<int> shown;
        std::unique_ptr<AsyncFrameReader> async;
        AsyncFrameReader::Callbacks callbacks{[&](const DecodedFrame &f) {
                                                  std::lock_guard lock(mutex);
                                                  hitAtDelivery.append(async->reader().statistics().cacheHits);
                                                  shown.append(numberShown(f) == f.frameNumber() ? 1 : 0);
                                              },
                                              {}};
        async = std::make_unique<AsyncFrameReader>(openOk(clip.path), callbacks);
        auto stepTo = [&](qint64 n) {
            async->request(n);
            async->waitUntilIdle();
        };
        stepTo(240);
        for (qint64 n = 241; n <= 270; ++n) // across the keyframe at 250
            stepTo(n);
        for (qint64 n = 269; n >= 230; --n) // back across it, and on into the GOP before
            stepTo(n);
        std::lock_guard lock(mutex);
        QCOMPARE(hitAtDelivery.size(), 1 + 30 + 40);
        QVERIFY(!shown.contains(0));
        // The first step forward decodes on; every later one, forward or back, is kept already.
        for (qsizetype i = 2; i < hitAtDelivery.size(); ++i)
            QVERIFY2(hitAtDelivery[i] == hitAtDelivery[i - 1] + 1, qPrintable(QStringLiteral("step %1").arg(i)));
    }

    // A request that needs a seek shows the keyframe first (marked inexact), then the frame.
    void asyncQuickKeyframePicture()
    {
        const auto clip = fixtures::numberedH264LongGop();
        Recorder recorder;
        AsyncFrameReader async(openOk(clip.path), recorder.callbacks());
        async.request(370, AsyncFrameReader::QuickKeyframe);
        async.waitUntilIdle();
        std::lock_guard lock(recorder.mutex);
        QCOMPARE(recorder.frames.size(), 2);
        QVERIFY(!recorder.frames[0].isExact());
        QCOMPARE(recorder.frames[0].frameNumber(), 250);
        QCOMPARE(recorder.shown[0], 250);
        QVERIFY(recorder.frames[1].isExact());
        QCOMPARE(recorder.shown[1], 370);
    }

    void asyncFailuresAreReported()
    {
        const auto clip = fixtures::numberedH264LongGop();
        Recorder recorder;
        AsyncFrameReader async(openOk(clip.path), recorder.callbacks());
        async.request(clip.frames + 5);
        async.waitUntilIdle();
        std::lock_guard lock(recorder.mutex);
        QCOMPARE(recorder.failures.size(), 1);
        QCOMPARE(recorder.failures[0].first, clip.frames + 5);
        QCOMPARE(recorder.failures[0].second.code, QString(errors::InvalidParams));
        QVERIFY(recorder.frames.isEmpty());
    }

    // Destroyed while decoding: the decode is abandoned and the destructor returns; whatever
    // was delivered until then was exact.
    void asyncDestroyedWhileBusy()
    {
        const auto clip = fixtures::numberedH264LongGop();
        Recorder recorder;
        {
            AsyncFrameReader async(openOk(clip.path), recorder.callbacks());
            async.request(740);
            async.request(480);
        }
        std::lock_guard lock(recorder.mutex);
        for (qsizetype i = 0; i < recorder.frames.size(); ++i)
            QCOMPARE(recorder.shown[i], recorder.frames[i].frameNumber());
        QVERIFY(recorder.failures.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestFrameReader)
#include "tst_framereader.moc"
