// Thumbnails, contact sheet and poster on media generated at test time; every picture written is
// decoded again with FFmpeg to check its size and content.

#include "media/thumbnails.h"
#include "livepartial.h"
#include "mediafixtures.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <functional>
#include <optional>
#include <vector>

using namespace clipdeck::media;

namespace {

// A decoded image as 8-bit full-range luma.
struct Picture
{
    int width = 0;
    int height = 0;
    QString codec;
    std::vector<uint8_t> luma;

    bool isNull() const { return width == 0; }
    // Mean and standard deviation of luma over a rectangle (the whole picture by default).
    double mean(int x = 0, int y = 0, int w = -1, int h = -1) const { return stats(x, y, w, h).first; }
    double deviation() const { return stats(0, 0, -1, -1).second; }
    std::pair<double, double> stats(int x, int y, int w, int h) const
    {
        if (w < 0)
            w = width - x;
        if (h < 0)
            h = height - y;
        double sum = 0, squares = 0;
        for (int r = y; r < y + h; ++r) {
            for (int c = x; c < x + w; ++c) {
                const double v = luma[size_t(r) * size_t(width) + size_t(c)];
                sum += v;
                squares += v * v;
            }
        }
        const double n = double(w) * h, m = sum / n;
        return {m, std::sqrt(std::max(0.0, squares / n - m * m))};
    }
};

Picture decodeImage(const QString &path)
{
    Picture result;
    AVFormatContext *raw = nullptr;
    if (avformat_open_input(&raw, QFile::encodeName(path).constData(), nullptr, nullptr) < 0)
        return result;
    std::unique_ptr<AVFormatContext, void (*)(AVFormatContext *)> input(
        raw, [](AVFormatContext *c) { avformat_close_input(&c); });
    if (avformat_find_stream_info(raw, nullptr) < 0 || raw->nb_streams < 1)
        return result;
    const AVCodecParameters *par = raw->streams[0]->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    std::unique_ptr<AVCodecContext, void (*)(AVCodecContext *)> ctx(
        avcodec_alloc_context3(codec), [](AVCodecContext *c) { avcodec_free_context(&c); });
    if (!codec || avcodec_parameters_to_context(ctx.get(), par) < 0 || avcodec_open2(ctx.get(), codec, nullptr) < 0)
        return result;
    AVPacket *packet = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    bool got = false;
    while (!got && av_read_frame(raw, packet) >= 0) {
        if (avcodec_send_packet(ctx.get(), packet) >= 0)
            got = avcodec_receive_frame(ctx.get(), frame) >= 0;
        av_packet_unref(packet);
    }
    if (!got) {
        avcodec_send_packet(ctx.get(), nullptr);
        got = avcodec_receive_frame(ctx.get(), frame) >= 0;
    }
    if (got) {
        result.width = frame->width;
        result.height = frame->height;
        result.codec = QString::fromLatin1(codec->name);
        result.luma.resize(size_t(frame->width) * size_t(frame->height));
        SwsContext *sws = sws_getContext(frame->width, frame->height, AVPixelFormat(frame->format), frame->width,
                                         frame->height, AV_PIX_FMT_GRAY8, SWS_POINT, nullptr, nullptr, nullptr);
        uint8_t *dst[4] = {result.luma.data(), nullptr, nullptr, nullptr};
        int dstStride[4] = {frame->width, 0, 0, 0};
        sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, dstStride);
        sws_freeContext(sws);
    }
    av_frame_free(&frame);
    av_packet_free(&packet);
    return result;
}

class TestControl : public Control
{
public:
    std::function<bool(const Progress &)> onCheckpoint;
    QList<Progress> seen;
    bool checkpoint(const Progress &p) override
    {
        seen.append(p);
        return onCheckpoint ? onCheckpoint(p) : true;
    }
};

QStringList filesIn(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

QList<Output> withRole(const Result &r, const QString &role)
{
    QList<Output> out;
    for (const auto &o : r.outputs) {
        if (o.role == role)
            out.append(o);
    }
    return out;
}

QStringList x264(int gop)
{
    return {QStringLiteral("-c:v"),
            QStringLiteral("libx264"),
            QStringLiteral("-preset"),
            QStringLiteral("veryfast"),
            QStringLiteral("-pix_fmt"),
            QStringLiteral("yuv420p"),
            QStringLiteral("-g"),
            QString::number(gop),
            QStringLiteral("-keyint_min"),
            QString::number(gop),
            QStringLiteral("-sc_threshold"),
            QStringLiteral("0")};
}

// 20 s at 25 fps, a keyframe every second, whose luma encodes the time: a horizontal ramp (so
// the picture is not flat) lifted by 8 levels per second. Mean full-range luma = 70 + 8 t.
QString timeClip(const QString &container = QStringLiteral("mp4"))
{
    return fixtures::generate(QStringLiteral("thumbs-time.%1").arg(container),
                              QStringList{QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                                          QStringLiteral("color=c=black:s=320x180:r=25:d=20,format=gray,"
                                                         "geq=lum='40+60*X/W+8*T',scale=640:360")}
                                  + x264(25));
}
double timeFromLuma(double mean)
{
    return (mean - 70) / 8;
}

// 20 s, keyframes every second: black 0-3 s and 11.5-13.5 s, testsrc2 elsewhere.
QString blackSegmentsClip()
{
    auto black = [](const char *d) {
        return QStringLiteral("color=c=black:s=640x360:r=25:d=%1").arg(QLatin1String(d));
    };
    auto busy = [](const char *d) { return QStringLiteral("testsrc2=s=640x360:r=25:d=%1").arg(QLatin1String(d)); };
    QStringList args;
    for (const QString &source : {black("3"), busy("8.5"), black("2"), busy("6.5")})
        args << QStringLiteral("-f") << QStringLiteral("lavfi") << QStringLiteral("-i") << source;
    args << QStringLiteral("-filter_complex") << QStringLiteral("[0][1][2][3]concat=n=4:v=1:a=0");
    return fixtures::generate(QStringLiteral("thumbs-black-segments.mp4"), args + x264(25));
}

Result run(const QString &input, const QString &outDir, const QVariantMap &params, Control *control = nullptr)
{
    TestControl fallback;
    Request request{input, outDir, QStringLiteral("clip"), params};
    return runThumbnails(request, control ? *control : fallback);
}

} // namespace

class TestThumbnails : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY(!fixtures::basicClip(4.0).isEmpty());
        QVERIFY(!timeClip().isEmpty());
        QVERIFY(!blackSegmentsClip().isEmpty());
    }

    void defaultsMakeCountThumbnailsSheetAndPoster()
    {
        QTemporaryDir dir;
        TestControl control;
        const Result r = run(fixtures::basicClip(4.0), dir.path(), {}, &control);
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const auto thumbs = withRole(r, QStringLiteral("thumbnail"));
        QCOMPARE(thumbs.size(), 8);
        for (int i = 0; i < thumbs.size(); ++i) {
            QCOMPARE(QFileInfo(thumbs[i].path).fileName(),
                     QStringLiteral("clip.thumb-%1.jpg").arg(i + 1, 2, 10, QChar(u'0')));
            QCOMPARE(thumbs[i].mimeType, QStringLiteral("image/jpeg"));
            QCOMPARE(thumbs[i].size, QFileInfo(thumbs[i].path).size());
            const Picture p = decodeImage(thumbs[i].path);
            QCOMPARE(p.codec, QStringLiteral("mjpeg"));
            QCOMPARE(p.width, 320); // 640x360 source, width 320
            QCOMPARE(p.height, 180);
        }
        const auto sheets = withRole(r, QStringLiteral("contact_sheet"));
        QCOMPARE(sheets.size(), 1);
        QCOMPARE(QFileInfo(sheets[0].path).fileName(), QStringLiteral("clip.contact.jpg"));
        const Picture sheet = decodeImage(sheets[0].path);
        // 4×2 cells of 320×180 with 4-pixel gutters around and between them.
        QCOMPARE(sheet.width, 4 * 320 + 5 * 4);
        QCOMPARE(sheet.height, 2 * 180 + 3 * 4);
        const auto posters = withRole(r, QStringLiteral("poster"));
        QCOMPARE(posters.size(), 1);
        QCOMPARE(QFileInfo(posters[0].path).fileName(), QStringLiteral("clip.poster.jpg"));
        const Picture poster = decodeImage(posters[0].path);
        QCOMPARE(poster.width, 640); // never upscaled past the source
        QCOMPARE(poster.height, 360);
        // Nothing but the outputs is left in the folder.
        QCOMPARE(filesIn(dir.path()).size(), r.outputs.size());
        // Progress never goes backwards.
        QVERIFY(!control.seen.isEmpty());
        for (int i = 1; i < control.seen.size(); ++i)
            QVERIFY(control.seen[i].fraction >= control.seen[i - 1].fraction);
    }

    void framesAreEvenlySpaced_data()
    {
        QTest::addColumn<QString>("container");
        QTest::newRow("mp4 (keyframe index)") << QStringLiteral("mp4");
        QTest::newRow("matroska (cues read on first seek)") << QStringLiteral("mkv");
        QTest::newRow("mpegts (no index)") << QStringLiteral("ts");
    }

    void framesAreEvenlySpaced()
    {
        QFETCH(QString, container);
        const QString clip =
            container == u"mp4"
                ? timeClip()
                : fixtures::generate(QStringLiteral("thumbs-time.") + container,
                                     {QStringLiteral("-i"), timeClip(), QStringLiteral("-c"), QStringLiteral("copy")});
        QVERIFY(!clip.isEmpty());
        QTemporaryDir dir;
        const int count = 8;
        const Result r = run(clip, dir.path(), {{QStringLiteral("count"), count}, {QStringLiteral("sheet"), false}});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const auto thumbs = withRole(r, QStringLiteral("thumbnail"));
        QCOMPARE(thumbs.size(), count);
        const double segment = 20.0 / count;
        double previous = -1;
        for (int i = 0; i < count; ++i) {
            const double t = timeFromLuma(decodeImage(thumbs[i].path).mean());
            // Each thumbnail comes from its own eighth of the clip, at the keyframe nearest its
            // middle where the container indexes them (within half a GOP of 1 s), else at the one
            // before the middle (within a GOP). 0.25 s for reading time from luma.
            const double slack = container == u"ts" ? 1.0 : 0.5;
            QVERIFY2(t > previous, qPrintable(QStringLiteral("thumbnail %1 at %2 s").arg(i + 1).arg(t)));
            QVERIFY2(t > i * segment - 0.25 && t < (i + 1) * segment + 0.25,
                     qPrintable(QStringLiteral("thumbnail %1 at %2 s").arg(i + 1).arg(t)));
            QVERIFY2(std::abs(t - (i + 0.5) * segment) <= slack + 0.25,
                     qPrintable(QStringLiteral("thumbnail %1 at %2 s, middle of its segment %3 s")
                                    .arg(i + 1)
                                    .arg(t)
                                    .arg((i + 0.5) * segment)));
            previous = t;
        }
    }

    void contactSheetCellsFollowTheThumbnails()
    {
        QTemporaryDir dir;
        const QVariantMap params{{QStringLiteral("columns"), 3},
                                 {QStringLiteral("rows"), 2},
                                 {QStringLiteral("gutter"), 6},
                                 {QStringLiteral("width"), 160}};
        const Result r = run(timeClip(), dir.path(), params);
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const auto thumbs = withRole(r, QStringLiteral("thumbnail"));
        QCOMPARE(thumbs.size(), 6); // count defaults to columns×rows
        const Picture sheet = decodeImage(withRole(r, QStringLiteral("contact_sheet")).value(0).path);
        QCOMPARE(sheet.width, 3 * 160 + 4 * 6);
        QCOMPARE(sheet.height, 2 * 90 + 3 * 6);
        for (int i = 0; i < 6; ++i) {
            const int x = 6 + i % 3 * (160 + 6), y = 6 + i / 3 * (90 + 6);
            // The top half of each cell (the timestamp sits bottom right) shows its thumbnail.
            const Picture thumb = decodeImage(thumbs[i].path);
            QVERIFY2(std::abs(sheet.mean(x, y, 160, 45) - thumb.mean(0, 0, 160, 45)) < 3,
                     qPrintable(QStringLiteral("cell %1").arg(i)));
        }
        // The gutter between the first two cells is the dark ground.
        QVERIFY(sheet.mean(6 + 160, 6, 6, 90) < 40);
    }

    void blackAndFlatFramesAreSkipped()
    {
        QTemporaryDir dir;
        // Segments of 5 s; the middles of the first (2.5 s) and third (12.5 s) are black.
        const Result r =
            run(blackSegmentsClip(), dir.path(), {{QStringLiteral("count"), 4}, {QStringLiteral("columns"), 4}});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const auto thumbs = withRole(r, QStringLiteral("thumbnail"));
        QCOMPARE(thumbs.size(), 4);
        for (const auto &t : thumbs) {
            const Picture p = decodeImage(t.path);
            QVERIFY2(
                p.mean() > 40 && p.deviation() > 20,
                qPrintable(QStringLiteral("%1: mean %2, deviation %3").arg(t.path).arg(p.mean()).arg(p.deviation())));
        }
        const Picture poster = decodeImage(withRole(r, QStringLiteral("poster")).value(0).path);
        QVERIFY(poster.mean() > 40 && poster.deviation() > 20);
    }

    void allBlackClipStillGivesThumbnails()
    {
        const QString clip =
            fixtures::generate(QStringLiteral("thumbs-all-black.mp4"),
                               QStringList{QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                                           QStringLiteral("color=c=black:s=320x240:r=25:d=4")}
                                   + x264(25));
        QTemporaryDir dir;
        const Result r = run(clip, dir.path(), {{QStringLiteral("count"), 4}});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        QCOMPARE(withRole(r, QStringLiteral("thumbnail")).size(), 4);
        QVERIFY(decodeImage(withRole(r, QStringLiteral("thumbnail"))[0].path).mean() < 10);
    }

    void sampleAspectRatioIsApplied()
    {
        // PAL 4:3: 720x576 with 16:15 pixels shows as 768x576.
        const QString clip =
            fixtures::generate(QStringLiteral("thumbs-anamorphic.mp4"),
                               QStringList{QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                                           QStringLiteral("testsrc2=s=720x576:r=25:d=2,setsar=16/15")}
                                   + x264(25));
        QTemporaryDir dir;
        const Result r =
            run(clip, dir.path(),
                {{QStringLiteral("count"), 2}, {QStringLiteral("columns"), 2}, {QStringLiteral("posterWidth"), 384}});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const Picture thumb = decodeImage(withRole(r, QStringLiteral("thumbnail")).value(0).path);
        QCOMPARE(thumb.width, 320);
        QCOMPARE(thumb.height, 240);
        const Picture poster = decodeImage(withRole(r, QStringLiteral("poster")).value(0).path);
        QCOMPARE(poster.width, 384);
        QCOMPARE(poster.height, 288);
    }

    void rotatedClipsAreShownUpright()
    {
        // Stored 320x240 with the top half white; the display matrix turns it a quarter turn
        // counterclockwise (what `ffmpeg -metadata:s:v rotate=90` writes and ffmpeg shows).
        const QString stored = fixtures::generate(
            QStringLiteral("thumbs-top-white.mp4"),
            QStringList{QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                        QStringLiteral("testsrc2=s=320x240:r=25:d=2,drawbox=x=0:y=0:w=320:h=120:color=white:t=fill")}
                + x264(25));
        const QString clip =
            fixtures::generate(QStringLiteral("thumbs-rotated.mp4"),
                               {QStringLiteral("-i"), stored, QStringLiteral("-c"), QStringLiteral("copy"),
                                QStringLiteral("-metadata:s:v:0"), QStringLiteral("rotate=90")});
        QTemporaryDir dir;
        const Result r = run(clip, dir.path(),
                             {{QStringLiteral("count"), 2},
                              {QStringLiteral("columns"), 2},
                              {QStringLiteral("width"), 120},
                              {QStringLiteral("gutter"), 0},
                              {QStringLiteral("timestamps"), false}});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const Picture thumb = decodeImage(withRole(r, QStringLiteral("thumbnail")).value(0).path);
        QCOMPARE(thumb.width, 120);
        QCOMPARE(thumb.height, 160);
        // The stored top is now the left side.
        QVERIFY2(thumb.mean(0, 0, 56, 160) > 235, qPrintable(QString::number(thumb.mean(0, 0, 56, 160))));
        QVERIFY(thumb.mean(64, 0, 56, 160) < 200);
        const Picture sheet = decodeImage(withRole(r, QStringLiteral("contact_sheet")).value(0).path);
        QCOMPARE(sheet.width, 240);
        QCOMPARE(sheet.height, 160);
        const Picture poster = decodeImage(withRole(r, QStringLiteral("poster")).value(0).path);
        QCOMPARE(poster.width, 240);
        QCOMPARE(poster.height, 320);
        QVERIFY(poster.mean(0, 0, 110, 320) > 235);
    }

    void pngAndSelectedOutputs()
    {
        QTemporaryDir dir;
        const QVariantMap params{{QStringLiteral("format"), QStringLiteral("png")},
                                 {QStringLiteral("count"), 3},
                                 {QStringLiteral("columns"), 3},
                                 {QStringLiteral("rows"), 1},
                                 {QStringLiteral("gutter"), 0},
                                 {QStringLiteral("poster"), false},
                                 {QStringLiteral("width"), 200}};
        const Result r = run(fixtures::basicClip(4.0), dir.path(), params);
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        QCOMPARE(r.outputs.size(), 4);
        QCOMPARE(withRole(r, QStringLiteral("poster")).size(), 0);
        for (const auto &o : r.outputs) {
            QVERIFY(o.path.endsWith(u".png"));
            QCOMPARE(o.mimeType, QStringLiteral("image/png"));
            QCOMPARE(decodeImage(o.path).codec, QStringLiteral("png"));
        }
        QCOMPARE(decodeImage(withRole(r, QStringLiteral("thumbnail"))[0].path).width, 200);
        const Picture sheet = decodeImage(withRole(r, QStringLiteral("contact_sheet"))[0].path);
        QCOMPARE(sheet.width, 3 * 200);
        QCOMPARE(sheet.height, 112); // 360 * 200 / 640 = 112.5, made even

        QTemporaryDir only;
        const Result sheetOnly = run(fixtures::basicClip(4.0), only.path(),
                                     {{QStringLiteral("frames"), false}, {QStringLiteral("poster"), false}});
        QVERIFY(!sheetOnly.error);
        QCOMPARE(sheetOnly.outputs.size(), 1);
        QCOMPARE(sheetOnly.outputs[0].role, QStringLiteral("contact_sheet"));
    }

    // One job's outputs share one name: when any of `clip.*` is taken, all are `clip-2.*`.
    void oneJobsOutputsShareOneName_data()
    {
        QTest::addColumn<QString>("taken");
        QTest::newRow("contact sheet exists") << QStringLiteral("clip.contact.jpg");
        QTest::newRow("poster exists") << QStringLiteral("clip.poster.jpg");
        // Another job's reservation (its temporary file) of the third thumbnail: met after two
        // pictures are written, so the set moves on to `clip-2` with what it wrote.
        QTest::newRow("held by another job") << QStringLiteral(".clip.thumb-03.partial.jpg");
    }

    void oneJobsOutputsShareOneName()
    {
        QFETCH(QString, taken);
        QTemporaryDir dir;
        QFile existing(dir.filePath(taken));
        QVERIFY(existing.open(QIODevice::WriteOnly));
        existing.write("keep me");
        existing.close();
        // Another job's partial file is held by its live writer.
        std::optional<fixtures::LivePartial> writer;
        if (taken.contains(QStringLiteral(".partial.")))
            QVERIFY(writer.emplace(existing.fileName()).isHeld());
        const Result r = run(fixtures::basicClip(4.0), dir.path(), {});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        QCOMPARE(r.outputs.size(), 10); // 8 thumbnails, sheet, poster
        QStringList expected;
        for (int i = 1; i <= 8; ++i)
            expected << QStringLiteral("clip-2.thumb-%1.jpg").arg(i, 2, 10, QChar(u'0'));
        expected << QStringLiteral("clip-2.contact.jpg") << QStringLiteral("clip-2.poster.jpg");
        QStringList names;
        for (const auto &o : r.outputs) {
            names << QFileInfo(o.path).fileName();
            QCOMPARE(o.size, QFileInfo(o.path).size());
            QCOMPARE(decodeImage(o.path).codec, QStringLiteral("mjpeg")); // written content moved along
        }
        QCOMPARE(names, expected);
        // Nothing else left: no `clip.*` output, no temporary file; the taken file untouched.
        QStringList all = expected;
        all << taken;
        all.sort();
        QCOMPARE(filesIn(dir.path()), all);
        QVERIFY(existing.open(QIODevice::ReadOnly));
        QCOMPARE(existing.readAll(), QByteArray("keep me"));
    }

    void countBeyondTheGridGrowsRows()
    {
        QTemporaryDir dir;
        const Result r = run(timeClip(), dir.path(),
                             {{QStringLiteral("count"), 10},
                              {QStringLiteral("width"), 64},
                              {QStringLiteral("frames"), false},
                              {QStringLiteral("poster"), false}});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const Picture sheet = decodeImage(r.outputs.value(0).path);
        QCOMPARE(sheet.width, 4 * 64 + 5 * 4);
        QCOMPARE(sheet.height, 3 * 36 + 4 * 4); // ceil(10 / 4) rows

        QTemporaryDir few;
        const Result two = run(timeClip(), few.path(),
                               {{QStringLiteral("count"), 2},
                                {QStringLiteral("width"), 64},
                                {QStringLiteral("frames"), false},
                                {QStringLiteral("poster"), false}});
        QVERIFY(!two.error);
        const Picture narrow = decodeImage(two.outputs.value(0).path);
        QCOMPARE(narrow.width, 2 * 64 + 3 * 4); // no empty columns
        QCOMPARE(narrow.height, 36 + 2 * 4);
    }

    void clipWithFewerFramesThanCount()
    {
        // Three frames, one keyframe: three thumbnails, one per frame, in order.
        const QString clip = fixtures::generate(
            QStringLiteral("thumbs-three-frames.mp4"),
            QStringList{QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                        QStringLiteral("testsrc2=s=320x240:r=25"), QStringLiteral("-frames:v"), QStringLiteral("3")}
                + x264(250));
        QTemporaryDir dir;
        const Result r = run(clip, dir.path(), {});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        QCOMPARE(withRole(r, QStringLiteral("thumbnail")).size(), 3);
        QCOMPARE(withRole(r, QStringLiteral("contact_sheet")).size(), 1);
    }

    void longGopStillGivesOneFramePerSegment()
    {
        // One keyframe in 8 s: every thumbnail but the first comes from decoding past it.
        const QString clip = fixtures::generate(
            QStringLiteral("thumbs-time-longgop.mp4"),
            {QStringLiteral("-i"), timeClip(), QStringLiteral("-t"), QStringLiteral("8"), QStringLiteral("-c:v"),
             QStringLiteral("libx264"), QStringLiteral("-preset"), QStringLiteral("veryfast"), QStringLiteral("-g"),
             QStringLiteral("1000"), QStringLiteral("-sc_threshold"), QStringLiteral("0")});
        QTemporaryDir dir;
        const Result r = run(clip, dir.path(), {{QStringLiteral("count"), 4}, {QStringLiteral("sheet"), false}});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const auto thumbs = withRole(r, QStringLiteral("thumbnail"));
        QCOMPARE(thumbs.size(), 4);
        for (int i = 0; i < 4; ++i) {
            const double t = timeFromLuma(decodeImage(thumbs[i].path).mean());
            // Segments are 2 s long; frames are taken from their start on.
            QVERIFY2(t >= i * 2.0 - 0.3 && t < (i + 1) * 2.0,
                     qPrintable(QStringLiteral("thumbnail %1 at %2 s").arg(i + 1).arg(t)));
        }
    }

    void cancelLeavesNothing_data()
    {
        QTest::addColumn<QString>("stage");
        QTest::newRow("while analysing") << QStringLiteral("analysing");
        QTest::newRow("after encoding") << QStringLiteral("finalising");
    }

    void cancelLeavesNothing()
    {
        QFETCH(QString, stage);
        QTemporaryDir dir;
        TestControl control;
        int calls = 0;
        // Cancel on the second "analysing" checkpoint (pictures picked, none written), or on
        // "finalising" (every picture written to its temporary file, nothing committed).
        const int cancelAt = stage == u"finalising" ? 1 : 2;
        control.onCheckpoint = [&](const Progress &p) { return !(p.stage == stage && ++calls >= cancelAt); };
        const Result r = run(timeClip(), dir.path(), {}, &control);
        QVERIFY(r.error);
        QCOMPARE(r.error->code, QString(errors::Canceled));
        QVERIFY(r.outputs.isEmpty());
        QCOMPARE(filesIn(dir.path()), QStringList());
    }

    void brokenInputsFailWithTheirCodes_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("code");
        QTest::newRow("missing") << QStringLiteral("/nonexistent/clip.mp4") << QString(errors::FileNotFound);
        QTest::newRow("zero bytes") << fixtures::zeroByteFile() << QString(errors::EmptyFile);
        QTest::newRow("text named .mp4") << fixtures::textFileNamedMp4() << QString(errors::NotMedia);
        QTest::newRow("random bytes") << fixtures::randomBytesFile() << QString(errors::NotMedia);
        QTest::newRow("truncated") << fixtures::truncatedClip() << QString(errors::CorruptStream);
        QTest::newRow("audio only") << fixtures::generate(
            QStringLiteral("thumbs-audio-only.m4a"),
            {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
             QStringLiteral("sine=frequency=440:duration=2"), QStringLiteral("-c:a"), QStringLiteral("aac")})
                                    << QString(errors::NoVideo);
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

    void corruptedMiddleStillGivesThumbnailsOfTheRest()
    {
        // A stretch of the media data zeroed: the pictures there cannot be decoded, the others
        // can; the job neither fails nor shows concealment garbage from the damaged part.
        QTemporaryDir dir;
        const Result r = run(fixtures::corruptedClip(), dir.path(), {{QStringLiteral("count"), 4}});
        QVERIFY2(!r.error, qPrintable(r.error ? r.error->message : QString()));
        const auto thumbs = withRole(r, QStringLiteral("thumbnail"));
        QVERIFY(thumbs.size() >= 1 && thumbs.size() <= 4);
        for (const auto &t : thumbs)
            QCOMPARE(decodeImage(t.path).width, 320);
    }

    void unwritableOutputFails()
    {
        QTemporaryDir dir;
        // An output "folder" that is a file: cannot be created nor written, even as root.
        const QString blocker = dir.filePath(QStringLiteral("file"));
        QFile f(blocker);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        const Result r = run(fixtures::basicClip(4.0), blocker + QStringLiteral("/out"), {});
        QVERIFY(r.error);
        QCOMPARE(r.error->code, QString(errors::OutputUnwritable));
    }

    void invalidParams_data()
    {
        QTest::addColumn<QVariantMap>("params");
        QTest::newRow("count 0") << QVariantMap{{QStringLiteral("count"), 0}};
        QTest::newRow("count text") << QVariantMap{{QStringLiteral("count"), QStringLiteral("many")}};
        // Typed as in JSON (the server took "8" and true as counts once; true made 1 thumbnail).
        QTest::newRow("count as numeric text") << QVariantMap{{QStringLiteral("count"), QStringLiteral("8")}};
        QTest::newRow("count true") << QVariantMap{{QStringLiteral("count"), true}};
        QTest::newRow("count list") << QVariantMap{{QStringLiteral("count"), QVariantList{8}}};
        QTest::newRow("sheet as text") << QVariantMap{{QStringLiteral("sheet"), QStringLiteral("no")}};
        QTest::newRow("sheet as number") << QVariantMap{{QStringLiteral("sheet"), 0}};
        QTest::newRow("format as number") << QVariantMap{{QStringLiteral("format"), 1}};
        QTest::newRow("format gif") << QVariantMap{{QStringLiteral("format"), QStringLiteral("gif")}};
        QTest::newRow("unknown key") << QVariantMap{{QStringLiteral("colums"), 3}};
        QTest::newRow("nothing to make") << QVariantMap{
            {QStringLiteral("frames"), false}, {QStringLiteral("sheet"), false}, {QStringLiteral("poster"), false}};
        QTest::newRow("count beyond explicit grid")
            << QVariantMap{{QStringLiteral("count"), 9}, {QStringLiteral("rows"), 2}};
        QTest::newRow("width too small") << QVariantMap{{QStringLiteral("width"), 4}};
        QTest::newRow("grid too big for count limit")
            << QVariantMap{{QStringLiteral("columns"), 16}, {QStringLiteral("rows"), 16}};
    }

    void invalidParams()
    {
        QFETCH(QVariantMap, params);
        const auto e = validateThumbnails(params);
        QVERIFY(e);
        QCOMPARE(e->code, QString(errors::InvalidParams));
        QTemporaryDir dir;
        const Result r = run(fixtures::basicClip(4.0), dir.path(), params);
        QVERIFY(r.error);
        QCOMPARE(r.error->code, QString(errors::InvalidParams));
    }

    void validParams()
    {
        QVERIFY(!validateThumbnails({}));
        QVERIFY(!validateThumbnails({{QStringLiteral("count"), 12.0}, {QStringLiteral("sheet"), false}}));
        QVERIFY(!validateThumbnails({{QStringLiteral("count"), 12}, {QStringLiteral("columns"), 6}}));
    }
};

QTEST_GUILESS_MAIN(TestThumbnails)
#include "tst_thumbnails.moc"
