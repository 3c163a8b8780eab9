// Benchmark driver for scene detection (tests/bench/scenes/run.sh runs it).
//
//   bench_scenes [--sensitivity S] [--min-scene SECONDS] [--thumbnails] [--keep DIR] CLIP...
//       Runs the product's runScenes() on each clip (thumbnails off unless asked) and prints one
//       JSON line per clip: {"clip","frames","wallSeconds","fps","boundaries":[...]}. Outputs are
//       deleted, or kept in DIR to look at.
//   bench_scenes --candidates CLIP
//       Prints every candidate the detector considered, with its diagnostics, for tuning.
//   bench_scenes --generate WIDTHxHEIGHT SHOT_SCALE STEADY_SECONDS
//       Generates the clip set (tests/support/scenefixtures) into $CLIPDECK_TEST_MEDIA_DIR and
//       prints it with its ground truth as JSON.

#include "media/scenedetector_p.h"
#include "media/scenes.h"
#include "media/videoreader_p.h"
#include "scenefixtures.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTextStream>

#include <cstdio>

using namespace clipdeck::media;

namespace {

class NoControl : public Control
{
public:
    bool checkpoint(const Progress &) override { return true; }
};

int printCandidates(const QString &path)
{
    auto opened = VideoReader::open(path);
    if (auto *e = ff::errorOf(opened)) {
        std::fprintf(stderr, "%s: %s\n", qPrintable(e->code), qPrintable(e->message));
        return 1;
    }
    auto reader = std::move(std::get<std::unique_ptr<VideoReader>>(opened));
    reader->setSkipLoopFilterOnNonReference(true); // as runScenes() reads
    scenes::SceneDetector detector(reader->frameRate());
    FrameScaler scaler;
    while (const AVFrame *frame = reader->next()) {
        ff::Frame own(av_frame_clone(frame));
        const auto features = own ? scenes::analyseFrame(own.get(), scaler) : std::nullopt;
        if (!features) {
            std::fprintf(stderr, "a frame could not be analysed\n");
            return 1;
        }
        detector.push(*features);
    }
    detector.finish();
    std::printf("frames %lld\n", static_cast<long long>(detector.frameCount()));
    for (const scenes::Boundary &b : detector.candidates()) {
        std::printf(
            "frame %5lld [%5lld,%5lld] %-8s score %6.3f scale %3d dist %.3f ratio %6.2f abrupt %.2f blend %.2f\n",
            static_cast<long long>(b.frame), static_cast<long long>(b.firstFrame), static_cast<long long>(b.lastFrame),
            scenes::kindName(b.kind), b.score, b.scale, b.distance, b.ratio, b.abruptness, b.blendError);
    }
    return 0;
}

QJsonObject describe(const fixtures::scenes::Clip &clip, const QString &set)
{
    QJsonArray truth;
    for (const auto &b : clip.boundaries) {
        truth.append(QJsonObject{{QStringLiteral("transition"), b.transition},
                                 {QStringLiteral("kind"), b.kind},
                                 {QStringLiteral("firstFrame"), b.firstFrame},
                                 {QStringLiteral("lastFrame"), b.lastFrame},
                                 {QStringLiteral("startSeconds"), b.startSeconds},
                                 {QStringLiteral("endSeconds"), b.endSeconds}});
    }
    return QJsonObject{{QStringLiteral("name"), clip.name},
                       {QStringLiteral("path"), clip.path},
                       {QStringLiteral("set"), set},
                       {QStringLiteral("frameRate"), clip.frameRate},
                       {QStringLiteral("frames"), clip.frames},
                       {QStringLiteral("boundaries"), truth}};
}

int generateSet(const QString &size, double shotScale, double steadySeconds)
{
    const QStringList wh = size.split(u'x');
    const int w = wh.value(0).toInt();
    const int h = wh.size() == 2 ? wh[1].toInt() : 0;
    if (w <= 0 || h <= 0 || shotScale <= 0 || steadySeconds <= 0)
        return 2;
    QJsonArray clips;
    clips.append(describe(fixtures::scenes::hardCuts(w, h, shotScale), QStringLiteral("cuts")));
    clips.append(describe(fixtures::scenes::gradualA(w, h, shotScale), QStringLiteral("gradual")));
    clips.append(describe(fixtures::scenes::gradualB(w, h, shotScale), QStringLiteral("gradual")));
    for (const auto &clip : fixtures::scenes::steadyShots(w, h, steadySeconds))
        clips.append(describe(clip, QStringLiteral("steady")));
    for (const auto &c : std::as_const(clips)) {
        if (c.toObject().value(QStringLiteral("path")).toString().isEmpty())
            return 1;
    }
    std::printf("%s\n", QJsonDocument(clips).toJson(QJsonDocument::Indented).constData());
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments().mid(1);
    QVariantMap params{{QStringLiteral("thumbnails"), false}};
    QStringList clips;
    bool candidates = false;
    QString keep;
    for (int i = 0; i < args.size(); ++i) {
        const QString &a = args[i];
        if (a == u"--sensitivity" && i + 1 < args.size())
            params.insert(QStringLiteral("sensitivity"), paramFromText(args[++i]));
        else if (a == u"--min-scene" && i + 1 < args.size())
            params.insert(QStringLiteral("minSceneSeconds"), paramFromText(args[++i]));
        else if (a == u"--thumbnails")
            params.insert(QStringLiteral("thumbnails"), true);
        else if (a == u"--candidates")
            candidates = true;
        else if (a == u"--keep" && i + 1 < args.size())
            keep = args[++i];
        else if (a == u"--generate" && i + 3 < args.size())
            return generateSet(args[i + 1], args[i + 2].toDouble(), args[i + 3].toDouble());
        else
            clips.append(a);
    }
    if (clips.isEmpty()) {
        std::fprintf(stderr,
                     "usage: bench_scenes [--sensitivity S] [--min-scene S] [--thumbnails] [--keep DIR] CLIP...\n"
                     "       bench_scenes --candidates CLIP\n"
                     "       bench_scenes --generate WIDTHxHEIGHT SHOT_SCALE STEADY_SECONDS\n");
        return 2;
    }
    if (candidates)
        return printCandidates(clips.first());

    QTemporaryDir out;
    NoControl control;
    for (const QString &clip : std::as_const(clips)) {
        QElapsedTimer clock;
        clock.start();
        const Result result =
            runScenes(Request{clip, keep.isEmpty() ? out.path() : keep, QStringLiteral("bench"), params}, control);
        const double wall = double(clock.nsecsElapsed()) / 1e9;
        if (result.error) {
            std::fprintf(stderr, "%s: %s: %s\n", qPrintable(clip), qPrintable(result.error->code),
                         qPrintable(result.error->message));
            return 1;
        }
        QFile json(result.outputs.first().path);
        if (!json.open(QIODevice::ReadOnly))
            return 1;
        const QJsonObject doc = QJsonDocument::fromJson(json.readAll()).object();
        json.close();
        for (const Output &o : result.outputs) {
            if (keep.isEmpty())
                QFile::remove(o.path);
        }
        const QJsonArray scenesArray = doc.value(QStringLiteral("scenes")).toArray();
        const qint64 frames =
            scenesArray.isEmpty() ? 0 : scenesArray.last().toObject().value(QStringLiteral("endFrame")).toInteger();
        const QJsonObject line{
            {QStringLiteral("clip"), clip},
            {QStringLiteral("frames"), frames},
            {QStringLiteral("wallSeconds"), wall},
            {QStringLiteral("fps"), wall > 0 ? double(frames) / wall : 0.0},
            {QStringLiteral("boundaries"), doc.value(QStringLiteral("boundaries"))},
        };
        std::printf("%s\n", QJsonDocument(line).toJson(QJsonDocument::Compact).constData());
        std::fflush(stdout);
    }
    return 0;
}
