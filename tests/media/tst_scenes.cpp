// Scene detection against clips with known boundaries (tests/support/scenefixtures), plus the
// operation's contract: outputs, thumbnails, parameters, progress, cancel, broken inputs.

#include "media/scenedetector_p.h"
#include "media/scenes.h"
#include "media/videoreader_p.h"

#include "livepartial.h"
#include "mediafixtures.h"
#include "scenefixtures.h"

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
#include <optional>
#include <vector>

using namespace clipdeck::media;
namespace fx = fixtures::scenes;

namespace {

class RecordingControl : public Control
{
public:
    // Returns false (cancel) at the checkpoint number `cancelAt` (from 1), or at the first
    // checkpoint of `cancelStage`; never when both are unset.
    int cancelAt = -1;
    QString cancelStage;
    QList<Progress> seen;

    bool checkpoint(const Progress &progress) override
    {
        seen.append(progress);
        if (cancelAt > 0 && seen.size() >= cancelAt)
            return false;
        if (!cancelStage.isEmpty() && progress.stage == cancelStage)
            return false;
        return true;
    }
};

struct Found
{
    qint64 frame = 0;
    double time = 0;
    QString kind;
    double score = 0;
    qint64 duration = 0;
};

QJsonObject scenesJson(const Result &result)
{
    for (const Output &o : result.outputs) {
        if (o.role == u"scenes") {
            QFile f(o.path);
            if (!f.open(QIODevice::ReadOnly))
                return {};
            return QJsonDocument::fromJson(f.readAll()).object();
        }
    }
    return {};
}

QList<Found> boundariesOf(const QJsonObject &doc)
{
    QList<Found> list;
    for (const QJsonValue &v : doc.value(QStringLiteral("boundaries")).toArray()) {
        const QJsonObject b = v.toObject();
        list.append(Found{b.value(QStringLiteral("frame")).toInteger(),
                          b.value(QStringLiteral("timeSeconds")).toDouble(), b.value(QStringLiteral("kind")).toString(),
                          b.value(QStringLiteral("score")).toDouble(),
                          b.value(QStringLiteral("durationFrames")).toInteger()});
    }
    return list;
}

QString describe(const QList<Found> &found)
{
    QStringList parts;
    for (const Found &f : found)
        parts << QStringLiteral("%1:%2(%3)").arg(f.frame).arg(f.kind).arg(f.score);
    return parts.join(u' ');
}

// A true gradual transition counts as found when a boundary lies within its span (one frame of
// slack either side: xfade's first and last frames are nearly pure pictures).
bool within(const Found &f, const fx::TrueBoundary &t, qint64 slack = 1)
{
    return f.frame >= t.firstFrame - slack && f.frame <= t.lastFrame + slack;
}

// A pixel of a synthetic picture.
struct Yuv
{
    double y = 0;
    double u = 128;
    double v = 128;
};

Yuv mix(const Yuv &a, const Yuv &b, double t)
{
    return {a.y + t * (b.y - a.y), a.u + t * (b.u - a.u), a.v + t * (b.v - a.v)};
}

Yuv dim(const Yuv &a, double level)
{
    return {a.y * level, 128 + (a.u - 128) * level, 128 + (a.v - 128) * level};
}

// A 128×72 picture drawn by `shade(x, y)`, as detector features (chroma sampled at even x, y).
template <typename Shade>
scenes::FrameFeatures synthetic(Shade shade)
{
    constexpr int W = scenes::AnalysisWidth;
    constexpr int H = scenes::AnalysisHeight;
    std::vector<uint8_t> y(size_t(W * H)), u(size_t(W * H / 4)), v(size_t(W * H / 4));
    auto clamp = [](double value) { return uint8_t(std::clamp(int(std::lround(value)), 0, 255)); };
    for (int row = 0; row < H; ++row) {
        for (int col = 0; col < W; ++col) {
            const Yuv p = shade(col, row);
            y[size_t(row * W + col)] = clamp(p.y);
            if (row % 2 == 0 && col % 2 == 0) {
                u[size_t(row / 2 * W / 2 + col / 2)] = clamp(p.u);
                v[size_t(row / 2 * W / 2 + col / 2)] = clamp(p.v);
            }
        }
    }
    return scenes::extractFeatures(y.data(), W, u.data(), W / 2, v.data(), W / 2);
}

// A smooth bluish pattern drifting a quarter pixel per frame (at 1280 wide: a slow pan, 60 px/s).
Yuv drifting(int x, int y, int frame)
{
    return {128 + 90 * std::sin((x + frame * 0.25) / 16.0) * std::cos(y / 12.0), 150, 110};
}

// Reddish diagonal stripes.
Yuv stripes(int x, int y)
{
    return {40.0 + (y * 7 + x) % 180, 100, 175};
}

} // namespace

class TestScenes : public QObject
{
    Q_OBJECT

private:
    Result run(const QString &input, const QVariantMap &params, Control &control)
    {
        return runScenes(Request{input, m_out.path(), QFileInfo(input).completeBaseName(), params}, control);
    }
    Result run(const QString &input, const QVariantMap &params = {})
    {
        RecordingControl control;
        return run(input, params, control);
    }
    void clearOutputs()
    {
        QDir dir(m_out.path());
        for (const QString &name : dir.entryList(QDir::Files | QDir::Hidden))
            dir.remove(name);
    }
    QStringList outputFiles() const { return QDir(m_out.path()).entryList(QDir::Files | QDir::Hidden); }

    QTemporaryDir m_out;
    fx::Clip m_cuts;
    fx::Clip m_gradualA;
    fx::Clip m_gradualB;
    QList<fx::Clip> m_steady;

private slots:
    void initTestCase()
    {
        QVERIFY(m_out.isValid());
        m_cuts = fx::hardCuts();
        m_gradualA = fx::gradualA();
        m_gradualB = fx::gradualB();
        m_steady = fx::steadyShots();
        QVERIFY2(!m_cuts.path.isEmpty(), "ffmpeg could not generate the hard-cut clip");
        QVERIFY(!m_gradualA.path.isEmpty());
        QVERIFY(!m_gradualB.path.isEmpty());
        QCOMPARE(m_steady.size(), 5);
        for (const fx::Clip &c : std::as_const(m_steady))
            QVERIFY2(!c.path.isEmpty(), qPrintable(c.name));
    }

    void cleanup() { clearOutputs(); }

    void everyHardCutFrameExact()
    {
        const Result result = run(m_cuts.path, {{QStringLiteral("thumbnails"), false}});
        QVERIFY2(!result.error, qPrintable(result.error ? result.error->message : QString()));
        const QList<Found> found = boundariesOf(scenesJson(result));
        QCOMPARE(m_cuts.boundaries.size(), 7);
        for (const fx::TrueBoundary &cut : m_cuts.boundaries) {
            const bool hit = std::any_of(found.begin(), found.end(), [&](const Found &f) {
                return std::abs(f.frame - cut.firstFrame) <= 1 && f.kind == u"cut" && f.duration == 0;
            });
            QVERIFY2(
                hit,
                qPrintable(
                    QStringLiteral("cut at frame %1 not found; found: %2").arg(cut.firstFrame).arg(describe(found))));
        }
        // Nothing else: fast motion (testsrc2, life, cellauto, noise) inside the shots is no cut.
        QCOMPARE(found.size(), m_cuts.boundaries.size());
    }

    void gradualTransitions_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("A: fade, fadeblack, wipeleft, dissolve, fadewhite, wipeup") << 0;
        QTest::newRow("B: dissolve, fadeblack, wiperight, fade, wipedown, smoothleft") << 1;
    }
    void gradualTransitions()
    {
        QFETCH(int, which);
        const fx::Clip &clip = which == 0 ? m_gradualA : m_gradualB;
        const Result result = run(clip.path, {{QStringLiteral("thumbnails"), false}});
        QVERIFY(!result.error);
        const QList<Found> found = boundariesOf(scenesJson(result));
        int hits = 0;
        for (const fx::TrueBoundary &t : clip.boundaries) {
            auto match = std::find_if(found.begin(), found.end(), [&](const Found &f) { return within(f, t); });
            if (match == found.end()) {
                qInfo("%s over frames %lld..%lld not found", qPrintable(t.transition), t.firstFrame, t.lastFrame);
                continue;
            }
            ++hits;
            // Kinds for the unambiguous transitions (a soft-edged wipe may pass for a dissolve).
            if (!t.transition.startsWith(u"smooth"))
                QVERIFY2(match->kind == t.kind, qPrintable(QStringLiteral("%1 at %2 reported as %3")
                                                               .arg(t.transition)
                                                               .arg(match->frame)
                                                               .arg(match->kind)));
            QVERIFY2(match->duration > 1, qPrintable(t.transition));
        }
        QVERIFY2(hits * 3 >= clip.boundaries.size() * 2,
                 qPrintable(
                     QStringLiteral("%1 of %2 found: %3").arg(hits).arg(clip.boundaries.size()).arg(describe(found))));
        // And no boundary where there is none.
        for (const Found &f : found) {
            const bool real = std::any_of(clip.boundaries.begin(), clip.boundaries.end(),
                                          [&](const fx::TrueBoundary &t) { return within(f, t); });
            QVERIFY2(real, qPrintable(QStringLiteral("false boundary at frame %1 (%2)").arg(f.frame).arg(f.kind)));
        }
    }

    void noBoundaryInSteadyShots_data()
    {
        QTest::addColumn<int>("index");
        for (int i = 0; i < m_steady.size(); ++i)
            QTest::newRow(qPrintable(m_steady[i].name)) << i;
    }
    void noBoundaryInSteadyShots()
    {
        QFETCH(int, index);
        const fx::Clip &clip = m_steady.at(index);
        const Result result = run(clip.path, {{QStringLiteral("thumbnails"), false}});
        QVERIFY(!result.error);
        const QJsonObject doc = scenesJson(result);
        QVERIFY2(boundariesOf(doc).isEmpty(), qPrintable(clip.name + u' ' + describe(boundariesOf(doc))));
        QCOMPARE(doc.value(QStringLiteral("scenes")).toArray().size(), 1);
    }

    void documentAndThumbnails()
    {
        RecordingControl control;
        const Result result = run(m_cuts.path, {}, control);
        QVERIFY(!result.error);
        const QJsonObject doc = scenesJson(result);
        QCOMPARE(doc.value(QStringLiteral("v")).toInt(), 1);
        QCOMPARE(doc.value(QStringLiteral("frameRate")).toDouble(), 25.0);
        QVERIFY(std::abs(doc.value(QStringLiteral("durationSeconds")).toDouble() - m_cuts.frames / 25.0)
                <= 0.04 + 1e-9);

        const QJsonArray scenesArray = doc.value(QStringLiteral("scenes")).toArray();
        const QList<Found> found = boundariesOf(doc);
        QCOMPARE(scenesArray.size(), found.size() + 1);
        qint64 expectStart = 0;
        QStringList thumbnails;
        for (int i = 0; i < scenesArray.size(); ++i) {
            const QJsonObject s = scenesArray[i].toObject();
            QCOMPARE(s.value(QStringLiteral("index")).toInt(), i);
            QCOMPARE(s.value(QStringLiteral("startFrame")).toInteger(), expectStart);
            QCOMPARE(s.value(QStringLiteral("startSeconds")).toDouble(), double(expectStart) / 25.0);
            const qint64 end = s.value(QStringLiteral("endFrame")).toInteger();
            QVERIFY(end > expectStart);
            if (i + 1 < scenesArray.size()) {
                QCOMPARE(end, found[i].frame);
                QCOMPARE(found[i].time, double(end) / 25.0);
            }
            expectStart = end;
            const QString thumb = s.value(QStringLiteral("thumbnail")).toString();
            QCOMPARE(thumb, QStringLiteral("%1.scene-%2.jpg")
                                .arg(QFileInfo(m_cuts.path).completeBaseName())
                                .arg(i + 1, 3, 10, QLatin1Char('0')));
            thumbnails << thumb;
        }
        QCOMPARE(expectStart, m_cuts.frames);

        // One JPEG per scene, 320 wide, listed as outputs in scene order after the JSON.
        QCOMPARE(result.outputs.size(), scenesArray.size() + 1);
        QCOMPARE(result.outputs.first().role, QStringLiteral("scenes"));
        QCOMPARE(result.outputs.first().mimeType, QStringLiteral("application/json"));
        for (int i = 0; i < thumbnails.size(); ++i) {
            const Output &o = result.outputs[i + 1];
            QCOMPARE(o.role, QStringLiteral("thumbnail"));
            QCOMPARE(o.mimeType, QStringLiteral("image/jpeg"));
            QCOMPARE(QFileInfo(o.path).fileName(), thumbnails[i]);
            QCOMPARE(o.size, QFileInfo(o.path).size());
            auto image = VideoReader::open(o.path);
            QVERIFY(!ff::errorOf(image));
            auto &reader = std::get<std::unique_ptr<VideoReader>>(image);
            QCOMPARE(reader->codec()->codec_id, AV_CODEC_ID_MJPEG);
            QCOMPARE(reader->width(), 320);
            QCOMPARE(reader->height(), 180);
        }
        // Nothing but the outputs is left in the folder (no temporary files).
        QCOMPARE(outputFiles().size(), result.outputs.size());

        // Progress: analysing, then thumbnails; never backwards; ends at 1.
        QVERIFY(!control.seen.isEmpty());
        bool inThumbnails = false;
        double last = 0;
        for (const Progress &p : std::as_const(control.seen)) {
            QVERIFY(p.stage == u"analysing" || p.stage == u"thumbnails");
            if (p.stage == u"thumbnails")
                inThumbnails = true;
            else
                QVERIFY2(!inThumbnails, "analysing after thumbnails");
            QVERIFY(p.fraction >= last);
            last = p.fraction;
        }
        QVERIFY(inThumbnails);
        QCOMPARE(last, 1.0);
    }

    void thumbnailWidthAndNoThumbnails()
    {
        Result result = run(m_cuts.path, {{QStringLiteral("thumbnailWidth"), 160}});
        QVERIFY(!result.error);
        QCOMPARE(result.outputs.size(), 9);
        auto image = VideoReader::open(result.outputs.last().path);
        QVERIFY(!ff::errorOf(image));
        QCOMPARE(std::get<std::unique_ptr<VideoReader>>(image)->width(), 160);
        QCOMPARE(std::get<std::unique_ptr<VideoReader>>(image)->height(), 90);
        clearOutputs();

        result = run(m_cuts.path, {{QStringLiteral("thumbnails"), false}});
        QVERIFY(!result.error);
        QCOMPARE(result.outputs.size(), 1);
        for (const QJsonValue &s : scenesJson(result).value(QStringLiteral("scenes")).toArray())
            QVERIFY(s.toObject().value(QStringLiteral("thumbnail")).isNull());
    }

    void existingOutputsAreNotOverwritten()
    {
        const QString base = QFileInfo(m_cuts.path).completeBaseName();
        QFile existing(m_out.filePath(base + QStringLiteral(".scenes.json")));
        QVERIFY(existing.open(QIODevice::WriteOnly));
        existing.write("keep me");
        existing.close();
        const Result result = run(m_cuts.path);
        QVERIFY(!result.error);
        QCOMPARE(QFileInfo(result.outputs.first().path).fileName(), base + QStringLiteral("-2.scenes.json"));
        QCOMPARE(QFileInfo(result.outputs[1].path).fileName(), base + QStringLiteral("-2.scene-001.jpg"));
        QCOMPARE(scenesJson(result)
                     .value(QStringLiteral("scenes"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QStringLiteral("thumbnail"))
                     .toString(),
                 base + QStringLiteral("-2.scene-001.jpg"));
        QVERIFY(existing.open(QIODevice::ReadOnly));
        QCOMPARE(existing.readAll(), QByteArray("keep me"));
    }

    // One job's outputs share one name: when any of `<base>.*` is taken, all are `<base>-2.*`,
    // and the scene list names the pictures by their final names.
    void oneJobsOutputsShareOneName_data()
    {
        QTest::addColumn<QString>("taken"); // after the base name
        QTest::newRow("scene list exists") << QStringLiteral(".scenes.json");
        QTest::newRow("a scene picture exists") << QStringLiteral(".scene-003.jpg");
        // Another job's reservation (its temporary file) of the third picture: met after the
        // JSON is reserved and two pictures are written, so the set moves on with them.
        QTest::newRow("held by another job") << QStringLiteral(".scene-003.partial.jpg");
    }
    void oneJobsOutputsShareOneName()
    {
        QFETCH(QString, taken);
        const QString base = QFileInfo(m_cuts.path).completeBaseName();
        const QString takenName = (taken.contains(u".partial.") ? QStringLiteral(".") : QString()) + base + taken;
        QFile existing(m_out.filePath(takenName));
        QVERIFY(existing.open(QIODevice::WriteOnly));
        existing.write("keep me");
        existing.close();
        // Another job's partial file is held by its live writer.
        std::optional<fixtures::LivePartial> writer;
        if (taken.contains(QStringLiteral(".partial.")))
            QVERIFY(writer.emplace(existing.fileName()).isHeld());
        const Result result = run(m_cuts.path);
        QVERIFY(!result.error);
        QVERIFY(result.outputs.size() >= 4);
        const QString stem = base + QStringLiteral("-2");
        QCOMPARE(QFileInfo(result.outputs.first().path).fileName(), stem + QStringLiteral(".scenes.json"));
        const QJsonArray scenesArray = scenesJson(result).value(QStringLiteral("scenes")).toArray();
        QCOMPARE(result.outputs.size(), scenesArray.size() + 1);
        QStringList expected{stem + QStringLiteral(".scenes.json")};
        for (int i = 0; i < scenesArray.size(); ++i) {
            const QString name = stem + QStringLiteral(".scene-%1.jpg").arg(i + 1, 3, 10, QLatin1Char('0'));
            const Output &o = result.outputs[i + 1];
            QCOMPARE(QFileInfo(o.path).fileName(), name);
            QCOMPARE(scenesArray[i].toObject().value(QStringLiteral("thumbnail")).toString(), name);
            QCOMPARE(o.size, QFileInfo(o.path).size());
            auto image = VideoReader::open(o.path); // written content moved along
            QVERIFY(!ff::errorOf(image));
            QCOMPARE(std::get<std::unique_ptr<VideoReader>>(image)->width(), 320);
            expected << name;
        }
        // Nothing else left: no `<base>.*` output, no temporary file; the taken file untouched.
        expected << takenName;
        expected.sort();
        QStringList files = outputFiles();
        files.sort();
        QCOMPARE(files, expected);
        QVERIFY(existing.open(QIODevice::ReadOnly));
        QCOMPARE(existing.readAll(), QByteArray("keep me"));
    }

    void clipOfAFewFrames()
    {
        // Five frames: too short for any boundary, still one scene with its thumbnail.
        const QString clip =
            fixtures::generate(QStringLiteral("scenes-five-frames.mp4"),
                               {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                                QStringLiteral("testsrc2=size=320x180:rate=25:duration=0.2"), QStringLiteral("-c:v"),
                                QStringLiteral("libx264"), QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p")});
        QVERIFY(!clip.isEmpty());
        const Result result = run(clip);
        QVERIFY2(!result.error, qPrintable(result.error ? result.error->message : QString()));
        const QJsonObject doc = scenesJson(result);
        const QJsonArray scenesArray = doc.value(QStringLiteral("scenes")).toArray();
        QCOMPARE(scenesArray.size(), 1);
        QCOMPARE(scenesArray[0].toObject().value(QStringLiteral("endFrame")).toInteger(), 5);
        QCOMPARE(doc.value(QStringLiteral("durationSeconds")).toDouble(), 0.2);
        QCOMPARE(result.outputs.size(), 2);
        // Asked wider than the video: the thumbnail stays at the video's size.
        clearOutputs();
        const Result wide = run(clip, {{QStringLiteral("thumbnailWidth"), 1280}});
        QVERIFY(!wide.error);
        auto image = VideoReader::open(wide.outputs.last().path);
        QVERIFY(!ff::errorOf(image));
        QCOMPARE(std::get<std::unique_ptr<VideoReader>>(image)->width(), 320);
    }

    void sensitivityIsMonotone()
    {
        // End to end, on the clip with the weakest transition (a soft wipe into busy content).
        QList<int> counts;
        for (double s : {0.0, 0.5, 1.0}) {
            const Result result =
                run(m_gradualB.path, {{QStringLiteral("thumbnails"), false}, {QStringLiteral("sensitivity"), s}});
            QVERIFY(!result.error);
            counts << int(boundariesOf(scenesJson(result)).size());
            clearOutputs();
        }
        QVERIFY2(counts[0] <= counts[1] && counts[1] <= counts[2],
                 qPrintable(QStringLiteral("%1 %2 %3").arg(counts[0]).arg(counts[1]).arg(counts[2])));
        QVERIFY2(counts[0] < counts[2], "sensitivity changes nothing");

        // Finely, on one analysis of every clip, also with no minimum scene length.
        QList<fx::Clip> clips{m_cuts, m_gradualA, m_gradualB};
        clips += m_steady;
        for (const fx::Clip &clip : std::as_const(clips)) {
            auto opened = VideoReader::open(clip.path);
            QVERIFY(!ff::errorOf(opened));
            auto &reader = std::get<std::unique_ptr<VideoReader>>(opened);
            reader->setSkipLoopFilterOnNonReference(true); // as runScenes() reads
            scenes::SceneDetector detector(reader->frameRate());
            FrameScaler scaler;
            while (const AVFrame *frame = reader->next()) {
                ff::Frame own(av_frame_clone(frame));
                QVERIFY(own);
                const auto features = scenes::analyseFrame(own.get(), scaler);
                QVERIFY(features);
                detector.push(*features);
            }
            detector.finish();
            QCOMPARE(detector.frameCount(), clip.frames);
            for (int64_t minScene : {0, 12, 50}) {
                size_t previous = 0;
                for (int step = 0; step <= 20; ++step) {
                    const size_t n = detector.select(step / 20.0, minScene).size();
                    QVERIFY2(n >= previous, qPrintable(QStringLiteral("%1: %2 boundaries at sensitivity %3, %4 below")
                                                           .arg(clip.name)
                                                           .arg(n)
                                                           .arg(step / 20.0)
                                                           .arg(previous)));
                    previous = n;
                }
            }
        }
    }

    void minSceneSecondsSpacesBoundaries()
    {
        const Result result =
            run(m_cuts.path, {{QStringLiteral("thumbnails"), false}, {QStringLiteral("minSceneSeconds"), 2}});
        QVERIFY(!result.error);
        const QList<Found> found = boundariesOf(scenesJson(result));
        QVERIFY(!found.isEmpty());
        QVERIFY(found.size() < m_cuts.boundaries.size()); // cuts 37..61 frames apart, 50 required
        qint64 previous = 0;
        for (const Found &f : found) {
            QVERIFY2(f.frame - previous >= 50, qPrintable(describe(found)));
            previous = f.frame;
        }
        QVERIFY(m_cuts.frames - previous >= 50);
    }

    // The detector on synthetic pictures: what must and must not be a boundary.
    void detectorOnSyntheticFrames()
    {
        constexpr int Shot = 60;
        constexpr int Length = 20;
        using Frames = std::function<scenes::FrameFeatures(int)>;
        auto detect = [](const Frames &frame, int frames) {
            scenes::SceneDetector detector(25);
            for (int i = 0; i < frames; ++i)
                detector.push(frame(i));
            detector.finish();
            return detector.select(0.5, 12);
        };
        auto text = [](const std::vector<scenes::Boundary> &list) {
            QStringList parts;
            for (const scenes::Boundary &b : list) {
                parts << QStringLiteral("%1 [%2..%3] %4 score %5 abruptness %6 blend error %7")
                             .arg(b.frame)
                             .arg(b.firstFrame)
                             .arg(b.lastFrame)
                             .arg(QLatin1String(scenes::kindName(b.kind)))
                             .arg(b.score)
                             .arg(b.abruptness)
                             .arg(b.blendError);
            }
            return parts.join(QStringLiteral("; "));
        };
        const auto a = [](int i) { return synthetic([i](int x, int y) { return drifting(x, y, i); }); };
        const auto b = [](int) { return synthetic(stripes); };

        // A single white frame (a flash) in a moving shot is not a boundary.
        auto found =
            detect([&](int i) { return i == Shot ? synthetic([](int, int) { return Yuv{255}; }) : a(i); }, 2 * Shot);
        QVERIFY2(found.empty(), qPrintable(text(found)));

        // A whip pan (3 px per frame at 128 wide) over a non-repeating pattern is not a boundary.
        found = detect(
            [&](int i) {
                return synthetic([i](int x, int y) {
                    return Yuv{128 + 60 * std::sin((x + 3 * i) / 7.0) + 50 * std::sin((x + 3 * i) / 23.0 + y / 11.0),
                               120, 140};
                });
            },
            2 * Shot);
        QVERIFY2(found.empty(), qPrintable(text(found)));

        // A hard cut, on its first frame.
        found = detect([&](int i) { return i < Shot ? a(i) : b(i); }, 2 * Shot);
        QVERIFY2(found.size() == 1 && found[0].frame == Shot && found[0].kind == scenes::Kind::Cut,
                 qPrintable(text(found)));

        // A cross-dissolve over frames Shot+1 .. Shot+Length-1 (as xfade mixes them).
        const auto blend = [&](int i) {
            const double t = std::clamp(double(i - Shot) / Length, 0.0, 1.0);
            return synthetic([&](int x, int y) { return mix(drifting(x, y, i), stripes(x, y), t); });
        };
        found = detect(blend, 2 * Shot + Length);
        QVERIFY2(found.size() == 1 && found[0].kind == scenes::Kind::Dissolve, qPrintable(text(found)));
        QVERIFY2(std::abs(found[0].frame - (Shot + Length / 2)) <= 1 && std::abs(found[0].firstFrame - (Shot + 1)) <= 1
                     && std::abs(found[0].lastFrame - (Shot + Length - 1)) <= 1,
                 qPrintable(text(found)));

        // A dip to black and up into the other picture: one boundary, at the black frame.
        const auto fade = [&](int i) {
            const double level = i < Shot                ? 1.0
                                 : i < Shot + Length / 2 ? 1.0 - double(i - Shot) / (Length / 2)
                                                         : std::min(1.0, double(i - Shot - Length / 2) / (Length / 2));
            return synthetic(
                [&](int x, int y) { return dim(i < Shot + Length / 2 ? drifting(x, y, i) : stripes(x, y), level); });
        };
        found = detect(fade, 2 * Shot + Length);
        QVERIFY2(found.size() == 1 && found[0].kind == scenes::Kind::Fade
                     && std::abs(found[0].frame - (Shot + Length / 2)) <= 1,
                 qPrintable(text(found)));

        // The same with the black held for a second: still one boundary, in the black.
        const auto held = [&](int i) {
            if (i < Shot + Length / 2)
                return fade(i);
            if (i < Shot + Length / 2 + 25)
                return synthetic([](int, int) { return Yuv{16}; });
            return fade(i - 25);
        };
        found = detect(held, 2 * Shot + Length + 25);
        QVERIFY2(found.size() == 1 && found[0].kind == scenes::Kind::Fade && found[0].frame > Shot + Length / 2
                     && found[0].frame < Shot + Length / 2 + 25,
                 qPrintable(text(found)));

        // A wipe: the new picture pushes in from the left over the same frames.
        const auto wipe = [&](int i) {
            const int edge = std::clamp((i - Shot) * scenes::AnalysisWidth / Length, 0, scenes::AnalysisWidth);
            return synthetic([&](int x, int y) { return x < edge ? stripes(x, y) : drifting(x, y, i); });
        };
        found = detect(wipe, 2 * Shot + Length);
        QVERIFY2(found.size() == 1 && found[0].kind == scenes::Kind::Wipe
                     && std::abs(found[0].frame - (Shot + Length / 2)) <= 1,
                 qPrintable(text(found)));
    }

    void cancelLeavesNothing_data()
    {
        QTest::addColumn<int>("cancelAt");
        QTest::addColumn<QString>("cancelStage");
        QTest::newRow("at the start") << 1 << QString();
        QTest::newRow("while analysing") << 5 << QString();
        QTest::newRow("while writing thumbnails") << -1 << QStringLiteral("thumbnails");
    }
    void cancelLeavesNothing()
    {
        QFETCH(int, cancelAt);
        QFETCH(QString, cancelStage);
        RecordingControl control;
        control.cancelAt = cancelAt;
        control.cancelStage = cancelStage;
        const Result result = run(m_cuts.path, {}, control);
        QVERIFY(result.error);
        QCOMPARE(result.error->code, QString(errors::Canceled));
        QVERIFY(result.outputs.isEmpty());
        QVERIFY2(outputFiles().isEmpty(), qPrintable(outputFiles().join(u' ')));
        if (!cancelStage.isEmpty())
            QCOMPARE(control.seen.last().stage, cancelStage);
    }

    void brokenInputsFailWithTheirCodes_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("code");
        QTest::newRow("missing") << m_out.filePath(QStringLiteral("no-such-clip.mp4")) << QString(errors::FileNotFound);
        QTest::newRow("zero bytes") << fixtures::zeroByteFile() << QString(errors::EmptyFile);
        QTest::newRow("text named .mp4") << fixtures::textFileNamedMp4() << QString(errors::NotMedia);
        QTest::newRow("random bytes") << fixtures::randomBytesFile() << QString(errors::NotMedia);
        QTest::newRow("truncated") << fixtures::truncatedClip() << QString(errors::CorruptStream);
        QTest::newRow("audio only") << fx::audioOnly() << QString(errors::NoVideo);
    }
    void brokenInputsFailWithTheirCodes()
    {
        QFETCH(QString, path);
        QFETCH(QString, code);
        const Result result = run(path);
        QVERIFY(result.error);
        QCOMPARE(result.error->code, code);
        QVERIFY(!result.error->message.isEmpty());
        QVERIFY(result.outputs.isEmpty());
        QVERIFY(outputFiles().isEmpty());
    }

    void damagedMiddleStillAnalyses()
    {
        // Zeros over a quarter of the stream: the damaged packets are skipped, the rest analysed,
        // and every thumbnail listed is there.
        const Result result = run(fixtures::corruptedClip());
        QVERIFY2(!result.error,
                 qPrintable(result.error ? result.error->code + u' ' + result.error->message : QString()));
        const QJsonArray scenesArray = scenesJson(result).value(QStringLiteral("scenes")).toArray();
        QVERIFY(!scenesArray.isEmpty());
        QVERIFY(scenesArray.last().toObject().value(QStringLiteral("endFrame")).toInteger() > 0);
        int thumbnails = 0;
        for (const QJsonValue &s : scenesArray) {
            const QJsonValue thumb = s.toObject().value(QStringLiteral("thumbnail"));
            if (thumb.isNull())
                continue;
            ++thumbnails;
            QVERIFY(QFileInfo::exists(m_out.filePath(thumb.toString())));
        }
        QCOMPARE(result.outputs.size(), thumbnails + 1);
        QCOMPARE(outputFiles().size(), thumbnails + 1);
    }

    void unwritableOutputFolder()
    {
        QFile blocker(m_out.filePath(QStringLiteral("a-file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        RecordingControl control;
        const Result result = runScenes(
            Request{m_cuts.path, blocker.fileName() + QStringLiteral("/sub"), QStringLiteral("clip"), {}}, control);
        QVERIFY(result.error);
        QCOMPARE(result.error->code, QString(errors::OutputUnwritable));
        QCOMPARE(outputFiles(), QStringList{QStringLiteral("a-file")});
    }

    void parameters_data()
    {
        QTest::addColumn<QVariantMap>("params");
        QTest::addColumn<bool>("valid");
        QTest::newRow("defaults") << QVariantMap{} << true;
        QTest::newRow("all set") << QVariantMap{{QStringLiteral("sensitivity"), 0.8},
                                                {QStringLiteral("minSceneSeconds"), 1.5},
                                                {QStringLiteral("thumbnails"), false},
                                                {QStringLiteral("thumbnailWidth"), 480}}
                                 << true;
        // Typed as in JSON: a number in a string, or a word for a flag, is refused.
        QTest::newRow("number as text") << QVariantMap{{QStringLiteral("minSceneSeconds"), QStringLiteral("1.5")}}
                                        << false;
        QTest::newRow("flag as text") << QVariantMap{{QStringLiteral("thumbnails"), QStringLiteral("yes")}} << false;
        QTest::newRow("flag as number") << QVariantMap{{QStringLiteral("thumbnails"), 1}} << false;
        QTest::newRow("number as flag") << QVariantMap{{QStringLiteral("sensitivity"), true}} << false;
        QTest::newRow("sensitivity above 1") << QVariantMap{{QStringLiteral("sensitivity"), 1.5}} << false;
        QTest::newRow("sensitivity not a number")
            << QVariantMap{{QStringLiteral("sensitivity"), QStringLiteral("high")}} << false;
        QTest::newRow("negative min scene") << QVariantMap{{QStringLiteral("minSceneSeconds"), -1}} << false;
        QTest::newRow("thumbnail width 0") << QVariantMap{{QStringLiteral("thumbnailWidth"), 0}} << false;
        QTest::newRow("thumbnail width fractional") << QVariantMap{{QStringLiteral("thumbnailWidth"), 320.5}} << false;
        QTest::newRow("thumbnails not a bool")
            << QVariantMap{{QStringLiteral("thumbnails"), QStringLiteral("maybe")}} << false;
        QTest::newRow("unknown key") << QVariantMap{{QStringLiteral("sensitivty"), 0.5}} << false;
    }
    void parameters()
    {
        QFETCH(QVariantMap, params);
        QFETCH(bool, valid);
        const auto error = validateScenes(params);
        QCOMPARE(!error.has_value(), valid);
        if (!valid) {
            QCOMPARE(error->code, QString(errors::InvalidParams));
            const Result result = run(m_cuts.path, params);
            QVERIFY(result.error);
            QCOMPARE(result.error->code, QString(errors::InvalidParams));
            QVERIFY(outputFiles().isEmpty());
        }
    }
};

QTEST_GUILESS_MAIN(TestScenes)
#include "tst_scenes.moc"
