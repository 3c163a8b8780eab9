// Transcode and proxy on media generated at test time. Every output is opened and decoded with
// the FFmpeg libraries here: codec, size, frame count, and — with fixtures::frameIndexClip(),
// whose frames show their own index — exactly which source frames landed in the output.

#include "media/presets.h"
#include "media/probe_p.h"
#include "media/transcode.h"

#include "mediafixtures.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <sys/mount.h>
#include <unistd.h>

#include <functional>
#include <thread>

using namespace clipdeck::media;
using namespace std::chrono_literals;

namespace {

// What a file decodes to.
struct Decoded
{
    QString error;
    QString format;
    // video
    QString videoCodec;
    int width = 0;
    int height = 0;
    int frames = 0;
    int keyframes = 0;
    int hasBFrames = 0;
    double frameRate = 0;
    int rotation = 0;   // what the display matrix asks for
    QList<int> indices; // frameIndex() of every frame, in presentation order
    // audio
    QString audioCodec;
    int sampleRate = 0;
    int channels = 0;
    int64_t samples = 0;

    double videoSeconds() const { return frameRate > 0 ? frames / frameRate : 0; }
    double audioSeconds() const { return sampleRate > 0 ? double(samples) / sampleRate : 0; }
};

Decoded decode(const QString &path)
{
    Decoded d;
    AVFormatContext *fmt = nullptr;
    if (avformat_open_input(&fmt, QFile::encodeName(path).constData(), nullptr, nullptr) < 0) {
        d.error = QStringLiteral("cannot open");
        return d;
    }
    avformat_find_stream_info(fmt, nullptr);
    d.format = QString::fromUtf8(fmt->iformat->name);
    AVCodecContext *ctx[2] = {nullptr, nullptr}; // video, audio
    int index[2] = {-1, -1};
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        const AVCodecParameters *par = fmt->streams[i]->codecpar;
        const int slot = par->codec_type == AVMEDIA_TYPE_VIDEO ? 0 : par->codec_type == AVMEDIA_TYPE_AUDIO ? 1 : -1;
        if (slot < 0 || index[slot] >= 0)
            continue;
        index[slot] = int(i);
        const AVCodec *codec = avcodec_find_decoder(par->codec_id);
        ctx[slot] = avcodec_alloc_context3(codec);
        avcodec_parameters_to_context(ctx[slot], par);
        ctx[slot]->pkt_timebase = fmt->streams[i]->time_base;
        avcodec_open2(ctx[slot], codec, nullptr);
        if (slot == 0) {
            d.videoCodec = QString::fromUtf8(avcodec_get_name(par->codec_id));
            d.width = par->width;
            d.height = par->height;
            d.hasBFrames = par->video_delay;
            d.frameRate = av_q2d(fmt->streams[i]->avg_frame_rate);
            d.rotation = clipdeck::media::displayRotation(fmt->streams[i]);
        } else {
            d.audioCodec = QString::fromUtf8(avcodec_get_name(par->codec_id));
            d.sampleRate = par->sample_rate;
            d.channels = par->ch_layout.nb_channels;
        }
    }
    AVPacket *packet = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    auto receive = [&](int slot) {
        while (avcodec_receive_frame(ctx[slot], frame) >= 0) {
            if (slot == 0) {
                ++d.frames;
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 7, 100)
                if (frame->flags & AV_FRAME_FLAG_KEY)
#else
                if (frame->key_frame)
#endif
                    ++d.keyframes;
                d.indices << fixtures::frameIndex(frame->data[0], frame->linesize[0], frame->width, frame->height);
            } else {
                d.samples += frame->nb_samples;
            }
            av_frame_unref(frame);
        }
    };
    while (av_read_frame(fmt, packet) >= 0) {
        for (int slot = 0; slot < 2; ++slot) {
            if (packet->stream_index == index[slot] && ctx[slot]) {
                avcodec_send_packet(ctx[slot], packet);
                receive(slot);
            }
        }
        av_packet_unref(packet);
    }
    for (int slot = 0; slot < 2; ++slot) {
        if (ctx[slot]) {
            avcodec_send_packet(ctx[slot], nullptr);
            receive(slot);
            avcodec_free_context(&ctx[slot]);
        }
    }
    av_frame_free(&frame);
    av_packet_free(&packet);
    avformat_close_input(&fmt);
    return d;
}

// A Control that records progress and can cancel or pause on cue.
class TestControl : public Control
{
public:
    bool checkpoint(const Progress &p) override
    {
        ++calls;
        if (canceled)
            ++callsAfterCancel;
        progress << p;
        if (onCall)
            onCall(calls, p);
        if (cancelAtCall > 0 && calls >= cancelAtCall)
            canceled = true;
        if (cancelAtStage == p.stage)
            canceled = true;
        return !canceled;
    }
    QList<Progress> progress;
    int calls = 0;
    int callsAfterCancel = 0;
    int cancelAtCall = 0;
    QString cancelAtStage;
    bool canceled = false;
    std::function<void(int, const Progress &)> onCall;
};

// Every file in `dir`, hidden ones (temporary outputs) included.
QStringList filesIn(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System);
}

Result transcode(const QString &input, const QString &dir, const QVariantMap &params, Control &control,
                 const QString &base = QStringLiteral("out"))
{
    return runTranscode(Request{input, dir, base, params}, control);
}

#define VERIFY_OK(result) \
    QVERIFY2(!(result).error, \
             (result).error ? qPrintable((result).error->code + QStringLiteral(": ") + (result).error->message) : "")

QString codecOf(const QString &encoder)
{
    const AVCodec *c = avcodec_find_encoder_by_name(encoder.toUtf8().constData());
    return c ? QString::fromUtf8(avcodec_get_name(c->id)) : QString();
}

} // namespace

class TestTranscode : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        // Generate the fixtures up front, so a failure to make them is reported as such.
        QVERIFY(!fixtures::basicClip(2.0).isEmpty());
        QVERIFY(!fixtures::frameIndexClip().isEmpty());
        // The pattern reads back from the fixture itself.
        const Decoded source = decode(fixtures::frameIndexClip());
        QCOMPARE(source.frames, 100);
        for (int i = 0; i < source.frames; ++i)
            QCOMPARE(source.indices[i], i);
    }

    // Every preset: the output decodes with the expected codecs, size and duration.
    void everyPreset_data()
    {
        QTest::addColumn<QString>("preset");
        for (const Preset &p : presets())
            QTest::newRow(qPrintable(p.name)) << p.name;
    }

    void everyPreset()
    {
        QFETCH(QString, preset);
        const Preset p = std::get<Preset>(findPreset(preset));
        QTemporaryDir dir;
        TestControl control;
        const Result result =
            transcode(fixtures::basicClip(2.0), dir.path(), {{QStringLiteral("preset"), preset}}, control);
        VERIFY_OK(result);
        QCOMPARE(result.outputs.size(), 1);
        const Output &out = result.outputs[0];
        QCOMPARE(QFileInfo(out.path).fileName(), QStringLiteral("out.") + p.extension);
        QCOMPARE(out.role, p.outputRole());
        QCOMPARE(out.mimeType, p.mimeType);
        QCOMPARE(out.size, QFileInfo(out.path).size());
        QCOMPARE(filesIn(dir.path()), QStringList{QFileInfo(out.path).fileName()});

        const Decoded d = decode(out.path);
        QVERIFY(d.error.isEmpty());
        if (p.video) {
            QCOMPARE(d.videoCodec, codecOf(p.video->encoder));
            QCOMPARE(d.width, 640);
            QCOMPARE(d.height, 360);
            QCOMPARE(d.frameRate, 25.0);
            QVERIFY2(qAbs(d.frames - 50) <= 1, qPrintable(QString::number(d.frames)));
        } else {
            QVERIFY(d.videoCodec.isEmpty());
        }
        QCOMPARE(d.audioCodec, codecOf(p.audio->encoder));
        QCOMPARE(d.sampleRate, p.audio->sampleRate);
        QCOMPARE(d.channels, 2);
        QVERIFY2(qAbs(d.audioSeconds() - 2.0) <= 0.04, qPrintable(QString::number(d.audioSeconds())));
    }

    // Frame-accurate trims: the output holds exactly the source frames from `in` to `out`.
    void trim_data()
    {
        QTest::addColumn<QString>("in");
        QTest::addColumn<QString>("out");
        QTest::addColumn<int>("first");
        QTest::addColumn<int>("count");
        QTest::newRow("on a keyframe") << QStringLiteral("1") << QStringLiteral("2") << 25 << 25;
        QTest::newRow("frame before a keyframe") << QStringLiteral("0.96") << QStringLiteral("1.52") << 24 << 14;
        QTest::newRow("frame after a keyframe") << QStringLiteral("1.04") << QStringLiteral("3") << 26 << 49;
        QTest::newRow("mid-GOP, between frames") << QStringLiteral("1.61") << QStringLiteral("2.41") << 41 << 20;
        QTest::newRow("to the end") << QStringLiteral("2") << QString() << 50 << 50;
        QTest::newRow("from the start") << QString() << QStringLiteral("0.8") << 0 << 20;
        QTest::newRow("MM:SS.mmm") << QStringLiteral("00:01.200") << QStringLiteral("00:00:02.000") << 30 << 20;
        QTest::newRow("out past the end") << QStringLiteral("3.6") << QStringLiteral("10") << 90 << 10;
    }

    void trim()
    {
        QFETCH(QString, in);
        QFETCH(QString, out);
        QFETCH(int, first);
        QFETCH(int, count);
        QVariantMap params{{QStringLiteral("quality"), 30}};
        if (!in.isEmpty())
            params.insert(QStringLiteral("in"), in);
        if (!out.isEmpty())
            params.insert(QStringLiteral("out"), out);
        QTemporaryDir dir;
        TestControl control;
        const Result result = transcode(fixtures::frameIndexClip(), dir.path(), params, control);
        VERIFY_OK(result);
        const Decoded d = decode(result.outputs[0].path);
        QCOMPARE(d.frames, count);
        QList<int> expected;
        for (int i = 0; i < count; ++i)
            expected << first + i;
        QCOMPARE(d.indices, expected);
        // The audio is cut to match, within a frame.
        QVERIFY2(qAbs(d.audioSeconds() - count / 25.0) <= 0.04,
                 qPrintable(QStringLiteral("audio %1 s, video %2 s").arg(d.audioSeconds()).arg(count / 25.0)));
    }

    void scale_data()
    {
        QTest::addColumn<QVariantMap>("params");
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("height");
        QTest::newRow("width keeps aspect") << QVariantMap{{QStringLiteral("width"), 160}} << 160 << 120;
        QTest::newRow("height keeps aspect") << QVariantMap{{QStringLiteral("height"), 180}} << 240 << 180;
        QTest::newRow("odd results round to even") << QVariantMap{{QStringLiteral("width"), 170}} << 170 << 128;
        QTest::newRow("both: exactly") << QVariantMap{{QStringLiteral("width"), 200}, {QStringLiteral("height"), 100}}
                                       << 200 << 100;
        QTest::newRow("upscale when asked") << QVariantMap{{QStringLiteral("width"), 640}} << 640 << 480;
    }

    void scale()
    {
        QFETCH(QVariantMap, params);
        QFETCH(int, width);
        QFETCH(int, height);
        params.insert(QStringLiteral("out"), 1);
        QTemporaryDir dir;
        TestControl control;
        const Result result = transcode(fixtures::frameIndexClip(), dir.path(), params, control);
        VERIFY_OK(result);
        const Decoded d = decode(result.outputs[0].path);
        QCOMPARE(d.width, width);
        QCOMPARE(d.height, height);
        QCOMPARE(d.frames, 25);
        QCOMPARE(d.indices.first(), 0);
        QCOMPARE(d.indices.last(), 24);
    }

    void frameRate()
    {
        QTemporaryDir dir;
        TestControl control;
        const Result result = transcode(fixtures::frameIndexClip(), dir.path(), {{QStringLiteral("fps"), 10}}, control);
        VERIFY_OK(result);
        const Decoded d = decode(result.outputs[0].path);
        QCOMPARE(d.frameRate, 10.0);
        QVERIFY2(qAbs(d.frames - 40) <= 1, qPrintable(QString::number(d.frames)));
        // Output frame k shows the source frame nearest to its time: k * 2.5.
        for (int k = 0; k < d.frames; ++k)
            QVERIFY2(qAbs(d.indices[k] - k * 2.5) <= 1.5,
                     qPrintable(QStringLiteral("%1 -> %2").arg(k).arg(d.indices[k])));
        QVERIFY(qAbs(d.audioSeconds() - 4.0) <= 0.04);
    }

    void dropAudio()
    {
        QTemporaryDir dir;
        TestControl control;
        const Result result =
            transcode(fixtures::basicClip(2.0), dir.path(), {{QStringLiteral("audio"), false}}, control);
        VERIFY_OK(result);
        const Decoded d = decode(result.outputs[0].path);
        QCOMPARE(d.videoCodec, QStringLiteral("h264"));
        QVERIFY(d.audioCodec.isEmpty());
    }

    void qualityOverride()
    {
        QTemporaryDir dir;
        TestControl control;
        const Result fine = transcode(fixtures::basicClip(2.0), dir.path(), {{QStringLiteral("quality"), 18}}, control,
                                      QStringLiteral("fine"));
        const Result coarse = transcode(fixtures::basicClip(2.0), dir.path(), {{QStringLiteral("quality"), 45}},
                                        control, QStringLiteral("coarse"));
        VERIFY_OK(fine);
        VERIFY_OK(coarse);
        QVERIFY2(coarse.outputs[0].size * 3 < fine.outputs[0].size,
                 qPrintable(QStringLiteral("crf 45: %1 bytes, crf 18: %2 bytes")
                                .arg(coarse.outputs[0].size)
                                .arg(fine.outputs[0].size)));
    }

    void proxyDefaults()
    {
        const QString hd = fixtures::generate(
            QStringLiteral("hd-1s.mp4"),
            {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
             QStringLiteral("testsrc2=size=1280x720:rate=25:duration=1"), QStringLiteral("-f"), QStringLiteral("lavfi"),
             QStringLiteral("-i"), QStringLiteral("sine=frequency=440:sample_rate=44100:duration=1"),
             QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"), QStringLiteral("ultrafast"),
             QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p"), QStringLiteral("-c:a"), QStringLiteral("aac"),
             QStringLiteral("-shortest")});
        QTemporaryDir dir;
        TestControl control;
        QVERIFY(validateProxy({}) == std::nullopt);
        const Result result = runProxy(Request{hd, dir.path(), QStringLiteral("hd"), {}}, control);
        VERIFY_OK(result);
        const Decoded d = decode(result.outputs[0].path);
        QCOMPARE(d.videoCodec, QStringLiteral("h264"));
        QCOMPARE(d.width, 960);
        QCOMPARE(d.height, 540);
        QCOMPARE(d.frames, 25);
        QCOMPARE(d.hasBFrames, 0);     // decode order = display order: cheap seeking
        QVERIFY(d.keyframes >= 2);     // a keyframe every half second
        QCOMPARE(d.sampleRate, 48000); // resampled from 44.1 kHz
        QCOMPARE(d.channels, 1);       // mono stays mono
        QVERIFY(qAbs(d.audioSeconds() - 1.0) <= 0.04);
    }

    void rotationIsApplied()
    {
        QTemporaryDir dir;
        TestControl control;
        const Result result = transcode(fixtures::rotatedClip(), dir.path(), {}, control);
        VERIFY_OK(result);
        const Decoded d = decode(result.outputs[0].path);
        QCOMPARE(d.width, 240);
        QCOMPARE(d.height, 320);
        QCOMPARE(d.rotation, 0); // upright pixels, no rotation left for players to apply twice
    }

    void audioAndVideoOnlyInputs()
    {
        QTemporaryDir dir;
        TestControl control;
        Result r = transcode(fixtures::audioOnlyClip(2.0), dir.path(),
                             {{QStringLiteral("preset"), QStringLiteral("audio-aac")}}, control, QStringLiteral("a"));
        VERIFY_OK(r);
        Decoded d = decode(r.outputs[0].path);
        QCOMPARE(QFileInfo(r.outputs[0].path).suffix(), QStringLiteral("m4a"));
        QCOMPARE(d.audioCodec, QStringLiteral("aac"));
        QVERIFY(d.videoCodec.isEmpty());
        QVERIFY(qAbs(d.audioSeconds() - 2.0) <= 0.04);

        r = transcode(fixtures::audioOnlyClip(2.0), dir.path(),
                      {{QStringLiteral("preset"), QStringLiteral("audio-opus")}, {QStringLiteral("in"), 0.5}}, control,
                      QStringLiteral("o"));
        VERIFY_OK(r);
        d = decode(r.outputs[0].path);
        QCOMPARE(d.audioCodec, QStringLiteral("opus"));
        QVERIFY2(qAbs(d.audioSeconds() - 1.5) <= 0.04, qPrintable(QString::number(d.audioSeconds())));

        r = transcode(fixtures::videoOnlyClip(2.0), dir.path(), {}, control, QStringLiteral("v"));
        VERIFY_OK(r);
        d = decode(r.outputs[0].path);
        QCOMPARE(d.videoCodec, QStringLiteral("h264"));
        QVERIFY(d.audioCodec.isEmpty());
        QCOMPARE(d.frames, 50);
    }

    void streamsOfDifferentLength()
    {
        // Audio that runs on after the picture ends is a whole file, not a truncated one.
        const QString input = fixtures::generate(
            QStringLiteral("video-1s-audio-3s.mp4"),
            {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
             QStringLiteral("testsrc2=size=320x240:rate=25:duration=1"), QStringLiteral("-f"), QStringLiteral("lavfi"),
             QStringLiteral("-i"), QStringLiteral("sine=frequency=440:sample_rate=48000:duration=3"),
             QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"), QStringLiteral("ultrafast"),
             QStringLiteral("-c:a"), QStringLiteral("aac")});
        QTemporaryDir dir;
        TestControl control;
        const Result result = transcode(input, dir.path(), {}, control);
        VERIFY_OK(result);
        const Decoded d = decode(result.outputs[0].path);
        QCOMPARE(d.frames, 25);
        QVERIFY2(qAbs(d.audioSeconds() - 3.0) <= 0.04, qPrintable(QString::number(d.audioSeconds())));
    }

    void progress()
    {
        QTemporaryDir dir;
        TestControl control;
        const Result result = transcode(fixtures::frameIndexClip(), dir.path(), {{QStringLiteral("in"), 1}}, control);
        VERIFY_OK(result);
        const QList<Progress> &p = control.progress;
        QVERIFY(p.size() >= 4);
        QCOMPARE(p.first().stage, QStringLiteral("analysing"));
        QCOMPARE(p.last().fraction, 1.0);
        QCOMPARE(p.last().stage, QStringLiteral("finalising"));
        QVERIFY(qAbs(p.last().mediaSeconds - 3.0) <= 0.05);
        const QStringList order{QStringLiteral("analysing"), QStringLiteral("encoding"), QStringLiteral("finalising")};
        for (int i = 1; i < p.size(); ++i) {
            QVERIFY2(p[i].fraction >= p[i - 1].fraction,
                     qPrintable(QStringLiteral("step %1: %2 < %3").arg(i).arg(p[i].fraction).arg(p[i - 1].fraction)));
            QVERIFY(order.indexOf(p[i].stage) >= order.indexOf(p[i - 1].stage));
            QVERIFY(p[i].fraction >= 0 && p[i].fraction <= 1);
            QVERIFY(p[i].mediaSeconds >= p[i - 1].mediaSeconds);
        }
        QVERIFY(std::any_of(p.begin(), p.end(), [](const Progress &x) { return x.stage == u"encoding"; }));
        // Finalising (the +faststart rewrite) starts below 1: it is part of the bar, not after it.
        auto firstFinal = std::find_if(p.begin(), p.end(), [](const Progress &x) { return x.stage == u"finalising"; });
        QVERIFY(firstFinal != p.end() && firstFinal->fraction < 1.0);
    }

    void cancel_data()
    {
        QTest::addColumn<int>("atCall");
        QTest::addColumn<QString>("atStage");
        QTest::newRow("while analysing") << 1 << QString();
        QTest::newRow("while encoding") << 4 << QString();
        QTest::newRow("while finalising") << 0 << QStringLiteral("finalising");
    }

    void cancel()
    {
        QFETCH(int, atCall);
        QFETCH(QString, atStage);
        QTemporaryDir dir;
        TestControl control;
        control.cancelAtCall = atCall;
        control.cancelAtStage = atStage;
        const Result result = transcode(fixtures::basicClip(4.0), dir.path(), {}, control);
        QVERIFY(result.error);
        QCOMPARE(result.error->code, QString(errors::Canceled));
        QVERIFY(result.outputs.isEmpty());
        QCOMPARE(control.callsAfterCancel, 0); // stopped at once: no more work reported
        QCOMPARE(filesIn(dir.path()), QStringList());
    }

    void pause()
    {
        QTemporaryDir dir;
        TestControl control;
        qint64 sizeBefore = -1;
        qint64 sizeAfter = -1;
        control.onCall = [&](int call, const Progress &) {
            if (call != 4)
                return;
            // Paused: checkpoint blocks. Nothing may be written meanwhile.
            const QStringList partial = filesIn(dir.path());
            if (partial.size() != 1)
                return;
            const QString path = dir.filePath(partial.first());
            sizeBefore = QFileInfo(path).size();
            std::this_thread::sleep_for(400ms);
            sizeAfter = QFileInfo(path).size();
        };
        const Result result = transcode(fixtures::frameIndexClip(), dir.path(), {{QStringLiteral("in"), 1}}, control);
        VERIFY_OK(result);
        QVERIFY(sizeBefore >= 0);
        QCOMPARE(sizeAfter, sizeBefore);
        const Decoded d = decode(result.outputs[0].path);
        QCOMPARE(d.frames, 75);
        QCOMPARE(d.indices.first(), 25);
        QCOMPARE(d.indices.last(), 99);
    }

    void brokenInputs_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("preset");
        QTest::addColumn<QString>("code");
        const QString web = QStringLiteral("web-h264");
        QTest::newRow("missing") << QStringLiteral("/nonexistent/clip.mp4") << web << QString(errors::FileNotFound);
        QTest::newRow("zero bytes") << fixtures::zeroByteFile() << web << QString(errors::EmptyFile);
        QTest::newRow("text named .mp4") << fixtures::textFileNamedMp4() << web << QString(errors::NotMedia);
        QTest::newRow("random bytes") << fixtures::randomBytesFile() << web << QString(errors::NotMedia);
        QTest::newRow("truncated, index lost") << fixtures::truncatedClip() << web << QString(errors::CorruptStream);
        QTest::newRow("truncated, index kept")
            << fixtures::truncatedFaststartClip() << web << QString(errors::CorruptStream);
        QTest::newRow("corrupted middle") << fixtures::corruptedClip() << web << QString(errors::CorruptStream);
        QTest::newRow("absurd dimensions")
            << fixtures::generate(QStringLiteral("absurd-20000x2.nut"),
                                  {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                                   QStringLiteral("color=size=20000x2:rate=1:duration=1"), QStringLiteral("-c:v"),
                                   QStringLiteral("rawvideo"), QStringLiteral("-pix_fmt"), QStringLiteral("gray")})
            << web << QString(errors::InvalidDimensions);
        // a64multi has an encoder but no decoder: a stream FFmpeg can store but not read back.
        QTest::newRow("unsupported codec") << fixtures::generate(
            QStringLiteral("a64multi.mkv"), {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                                             QStringLiteral("testsrc=size=320x200:rate=25:duration=1"),
                                             QStringLiteral("-c:v"), QStringLiteral("a64multi")})
                                           << web << QString(errors::UnsupportedCodec);
        QTest::newRow("no video for a video preset") << fixtures::audioOnlyClip(2.0) << web << QString(errors::NoVideo);
        QTest::newRow("no audio for an audio preset")
            << fixtures::videoOnlyClip(2.0) << QStringLiteral("audio-aac") << QString(errors::NoAudio);
    }

    void brokenInputs()
    {
        QFETCH(QString, input);
        QFETCH(QString, preset);
        QFETCH(QString, code);
        QTemporaryDir dir;
        TestControl control;
        const Result result = transcode(input, dir.path(), {{QStringLiteral("preset"), preset}}, control);
        QVERIFY2(result.error, qPrintable(input));
        QCOMPARE(result.error->code, code);
        QVERIFY(!result.error->message.isEmpty());
        QVERIFY(result.outputs.isEmpty());
        QCOMPARE(filesIn(dir.path()), QStringList());
    }

    void inPastTheEnd()
    {
        QTemporaryDir dir;
        TestControl control;
        const Result result = transcode(fixtures::basicClip(2.0), dir.path(), {{QStringLiteral("in"), 5}}, control);
        QVERIFY(result.error);
        QCOMPARE(result.error->code, QString(errors::InvalidParams));
        QVERIFY2(result.error->message.contains(QStringLiteral("past the end")), qPrintable(result.error->message));
        QCOMPARE(filesIn(dir.path()), QStringList());
    }

    void unwritableOutput()
    {
        QTemporaryDir dir;
        QFile blocker(dir.filePath(QStringLiteral("a-file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        TestControl control;
        // A folder that cannot exist: its parent is a file. (Root ignores permission bits, so
        // this is the case that holds for every user.)
        Result result = transcode(fixtures::basicClip(2.0), dir.filePath(QStringLiteral("a-file/out")), {}, control);
        QVERIFY(result.error);
        QCOMPARE(result.error->code, QString(errors::OutputUnwritable));

        if (geteuid() != 0) {
            const QString locked = dir.filePath(QStringLiteral("locked"));
            QVERIFY(QDir().mkpath(locked));
            QFile::setPermissions(locked, QFileDevice::ReadOwner | QFileDevice::ExeOwner);
            result = transcode(fixtures::basicClip(2.0), locked, {}, control);
            QVERIFY(result.error);
            QCOMPARE(result.error->code, QString(errors::OutputUnwritable));
            QFile::setPermissions(locked, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        }
    }

    void fullDisk()
    {
        // A real full disk: a 256 KiB tmpfs (needs root, as in CI and the dev containers).
        QTemporaryDir dir;
        const QByteArray mountPoint = QFile::encodeName(dir.path());
        if (::mount("tmpfs", mountPoint.constData(), "tmpfs", 0, "size=256k") != 0)
            QSKIP("Cannot mount a small tmpfs here (not root): the disk-full path is not exercised.");
        struct Unmount
        {
            QByteArray at;
            ~Unmount() { ::umount2(at.constData(), MNT_DETACH); }
        } unmount{mountPoint};
        TestControl control;
        // basicClip(4.0) encodes to well over 256 KiB at crf 10.
        const Result result =
            transcode(fixtures::basicClip(4.0), dir.path(), {{QStringLiteral("quality"), 10}}, control);
        QVERIFY(result.error);
        QCOMPARE(result.error->code, QString(errors::DiskFull));
        QVERIFY(result.outputs.isEmpty());
        QCOMPARE(filesIn(dir.path()), QStringList());
    }

    void validation_data()
    {
        QTest::addColumn<QVariantMap>("params");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("mentions");
        const QString invalid = QString(errors::InvalidParams);
        QTest::newRow("unknown key") << QVariantMap{{QStringLiteral("bitrate"), 5}} << invalid
                                     << QStringLiteral("bitrate");
        QTest::newRow("unknown preset") << QVariantMap{{QStringLiteral("preset"), QStringLiteral("nope")}}
                                        << QString(errors::UnknownPreset) << QStringLiteral("nope");
        QTest::newRow("out before in") << QVariantMap{{QStringLiteral("in"), 3}, {QStringLiteral("out"), 2}} << invalid
                                       << QStringLiteral("after");
        QTest::newRow("bad time") << QVariantMap{{QStringLiteral("in"), QStringLiteral("soon")}} << invalid
                                  << QStringLiteral("'in'");
        QTest::newRow("absurd width") << QVariantMap{{QStringLiteral("width"), 100000}} << invalid
                                      << QStringLiteral("width");
        QTest::newRow("tiny height") << QVariantMap{{QStringLiteral("height"), 2}} << invalid
                                     << QStringLiteral("height");
        QTest::newRow("fps") << QVariantMap{{QStringLiteral("fps"), 0}} << invalid << QStringLiteral("fps");
        QTest::newRow("quality out of range")
            << QVariantMap{{QStringLiteral("quality"), 60}} << invalid << QStringLiteral("between 0 and 51");
        QTest::newRow("size on audio preset")
            << QVariantMap{{QStringLiteral("preset"), QStringLiteral("audio-opus")}, {QStringLiteral("width"), 320}}
            << invalid << QStringLiteral("audio-only");
        QTest::newRow("drop audio of audio preset")
            << QVariantMap{{QStringLiteral("preset"), QStringLiteral("audio-aac")}, {QStringLiteral("audio"), false}}
            << invalid << QStringLiteral("audio-only");
        QTest::newRow("audio not a boolean")
            << QVariantMap{{QStringLiteral("audio"), QStringLiteral("maybe")}} << invalid << QStringLiteral("audio");
        // Typed as in JSON: the right value of the wrong type is refused, naming the parameter.
        QTest::newRow("audio as text") << QVariantMap{{QStringLiteral("audio"), QStringLiteral("false")}} << invalid
                                       << QStringLiteral("'audio'");
        QTest::newRow("width as text") << QVariantMap{{QStringLiteral("width"), QStringLiteral("320")}} << invalid
                                       << QStringLiteral("'width'");
        QTest::newRow("in as a flag") << QVariantMap{{QStringLiteral("in"), true}} << invalid << QStringLiteral("'in'");
        QTest::newRow("negative in") << QVariantMap{{QStringLiteral("in"), -1}} << invalid << QStringLiteral("'in'");
        QTest::newRow("preset as number")
            << QVariantMap{{QStringLiteral("preset"), 720}} << invalid << QStringLiteral("'preset'");
    }

    void validation()
    {
        QFETCH(QVariantMap, params);
        QFETCH(QString, code);
        QFETCH(QString, mentions);
        const auto e = validateTranscode(params);
        QVERIFY(e);
        QCOMPARE(e->code, code);
        QVERIFY2(e->message.contains(mentions), qPrintable(e->message));
        // run() validates the same way, before touching anything.
        QTemporaryDir dir;
        TestControl control;
        const Result r = transcode(fixtures::basicClip(2.0), dir.path(), params, control);
        QVERIFY(r.error);
        QCOMPARE(r.error->code, code);
        QCOMPARE(filesIn(dir.path()), QStringList());
    }

    void validParams()
    {
        QVERIFY(validateTranscode({}) == std::nullopt);
        QVERIFY(validateTranscode({{QStringLiteral("preset"), QStringLiteral("prores-proxy")},
                                   {QStringLiteral("quality"), 8},
                                   {QStringLiteral("in"), QStringLiteral("00:00:01.5")},
                                   {QStringLiteral("out"), QStringLiteral("2:00")},
                                   {QStringLiteral("width"), 1280},
                                   {QStringLiteral("fps"), 29.97},
                                   {QStringLiteral("audio"), false}})
                == std::nullopt);
        QVERIFY(validateProxy({{QStringLiteral("quality"), 30}}) == std::nullopt);
        // Times take seconds as a number too.
        QVERIFY(validateTranscode({{QStringLiteral("in"), 1.5}, {QStringLiteral("out"), 3}}) == std::nullopt);
    }
};

QTEST_GUILESS_MAIN(TestTranscode)
#include "tst_transcode.moc"
