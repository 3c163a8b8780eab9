#include "media/scenes.h"

#include "media/imagewriter_p.h"
#include "media/outputfile_p.h"
#include "media/params_p.h"
#include "media/scenedetector_p.h"
#include "media/videoreader_p.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace clipdeck::media {

std::optional<scenes::FrameFeatures> scenes::analyseFrame(AVFrame *frame, FrameScaler &scaler)
{
    // Every other line only, when there are lines to spare: swscale's cost goes with the lines
    // it reads (it was 8 % of all the CPU time at 720p, decoding ~83 %), and a 5-line average is
    // as good as a 10-line one for 8×8-block statistics. (For interlaced video that is one field:
    // no combing either.)
    const AVPixFmtDescriptor *format = av_pix_fmt_desc_get(AVPixelFormat(frame->format));
    if (format && !(format->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM))
        && frame->height >= 4 * AnalysisHeight) {
        for (int plane = 0; plane < AV_NUM_DATA_POINTERS && frame->data[plane]; ++plane)
            frame->linesize[plane] *= 2;
        frame->height /= 2;
    }
    // Area averaging: every source pixel counts. SWS_FAST_BILINEAR samples a few of them and
    // costs ~0.04 ms instead of ~0.3 ms a 720p frame, but its aliasing makes busy textures
    // flicker from frame to frame (the weakest cut's score fell by 20 %).
    const AVFrame *small = scaler.convert(frame, AnalysisWidth, AnalysisHeight, AV_PIX_FMT_YUV420P, SWS_AREA);
    if (!small)
        return std::nullopt;
    return extractFeatures(small->data[0], small->linesize[0], small->data[1], small->linesize[1], small->data[2],
                           small->linesize[2]);
}

namespace {

struct Settings
{
    double sensitivity = 0.5;
    double minSceneSeconds = 0.5;
    bool thumbnails = true;
    int thumbnailWidth = 320;
};

Settings readSettings(const QVariantMap &params, std::optional<Error> &error)
{
    ParamReader reader(params);
    reader.allowOnly({QStringLiteral("sensitivity"), QStringLiteral("minSceneSeconds"), QStringLiteral("thumbnails"),
                      QStringLiteral("thumbnailWidth")});
    Settings s;
    s.sensitivity = reader.number(QStringLiteral("sensitivity"), s.sensitivity, 0.0, 1.0);
    s.minSceneSeconds = reader.number(QStringLiteral("minSceneSeconds"), s.minSceneSeconds, 0.0, 60.0);
    s.thumbnails = reader.boolean(QStringLiteral("thumbnails"), s.thumbnails);
    s.thumbnailWidth = reader.integer(QStringLiteral("thumbnailWidth"), s.thumbnailWidth, 16, 3840);
    error = reader.error();
    return s;
}

// Calls Control::checkpoint often enough (every ~20 ms of work) without calling it per frame,
// and keeps the reported fraction from going backwards.
class Reporter
{
public:
    explicit Reporter(Control &control) : m_control(control) { m_clock.start(); }

    bool report(double fraction, const QString &stage, double mediaSeconds, bool force = false)
    {
        ++m_framesInWindow;
        const qint64 now = m_clock.elapsed();
        if (!force && now - m_lastReport < 20)
            return true;
        m_lastReport = now;
        if (now - m_windowStart >= 500) {
            m_rate = 1000.0 * m_framesInWindow / double(now - m_windowStart);
            m_windowStart = now;
            m_framesInWindow = 0;
        }
        m_fraction = std::clamp(std::max(m_fraction, fraction), 0.0, 1.0);
        return m_control.checkpoint(Progress{m_fraction, stage, m_rate, mediaSeconds});
    }

private:
    Control &m_control;
    QElapsedTimer m_clock;
    qint64 m_lastReport = -1000;
    qint64 m_windowStart = 0;
    qint64 m_framesInWindow = 0;
    double m_rate = 0;
    double m_fraction = 0;
};

// Scales decoded frames down and feeds the detector on a thread of its own, fed references to
// the decoder's frames (no copies) through a short queue. The decoder's frame threads leave part
// of the machine idle (at 720p H.264 on 2 cores, ~1.6 cores busy), while the downscale to 128×72
// costs about a fifth of decoding a frame: on the decoding thread it would add that to the wall
// time, here it mostly hides in the idle part.
class AnalysisThread
{
public:
    explicit AnalysisThread(scenes::SceneDetector &detector) : m_detector(detector), m_thread([this] { run(); }) { }
    ~AnalysisThread()
    {
        {
            std::lock_guard lock(m_mutex);
            m_abort = true;
        }
        m_ready.notify_one();
        m_space.notify_all();
        if (m_thread.joinable())
            m_thread.join();
    }
    AnalysisThread(const AnalysisThread &) = delete;
    AnalysisThread &operator=(const AnalysisThread &) = delete;

    // Queues `frame` (by reference), waiting while the queue is full. False once a frame could
    // not be analysed (then finish() says so).
    bool push(const AVFrame *frame)
    {
        ff::Frame ref = ff::makeFrame();
        if (!ref || av_frame_ref(ref.get(), frame) < 0) {
            std::lock_guard lock(m_mutex);
            m_failed = true;
            return false;
        }
        std::unique_lock lock(m_mutex);
        m_space.wait(lock, [&] { return m_queue.size() < Capacity || m_failed; });
        if (m_failed)
            return false;
        m_queue.push_back(std::move(ref));
        lock.unlock();
        m_ready.notify_one();
        return true;
    }

    // No more frames: waits until all are analysed and the detector has finished. The detector
    // belongs to the caller again afterwards. False when a frame could not be analysed.
    bool finish()
    {
        {
            std::lock_guard lock(m_mutex);
            m_closed = true;
        }
        m_ready.notify_one();
        m_thread.join();
        if (m_failed)
            return false;
        m_detector.finish();
        return true;
    }

    static constexpr size_t Capacity = 6; // decoder pictures waiting for the analysis

private:
    void run()
    {
        FrameScaler scaler;
        for (;;) {
            ff::Frame frame;
            {
                std::unique_lock lock(m_mutex);
                m_ready.wait(lock, [&] { return !m_queue.empty() || m_closed || m_abort; });
                if (m_abort || m_queue.empty())
                    return;
                frame = std::move(m_queue.front());
                m_queue.pop_front();
            }
            m_space.notify_one();
            const auto features = scenes::analyseFrame(frame.get(), scaler);
            if (!features) {
                std::lock_guard lock(m_mutex);
                m_failed = true;
                m_space.notify_all();
                return;
            }
            m_detector.push(*features);
        }
    }

    scenes::SceneDetector &m_detector;
    std::mutex m_mutex;
    std::condition_variable m_ready; // a frame was queued, or closed/aborted
    std::condition_variable m_space; // a frame was taken, or analysis failed
    std::deque<ff::Frame> m_queue;
    bool m_closed = false;
    bool m_abort = false;
    bool m_failed = false;
    std::thread m_thread; // last: starts once the members above exist
};

Error canceled()
{
    return Error{errors::Canceled, QStringLiteral("Scene detection was canceled.")};
}

double rounded(double seconds)
{
    return std::round(seconds * 1e6) / 1e6;
}

struct Scene
{
    int64_t start = 0;
    int64_t end = 0;     // exclusive
    int64_t picture = 0; // the frame its thumbnail shows
    int thumbnail = -1;  // its picture's index in the output set, once written
};

// The frame that shows a scene best: the middle of its settled part (clear of the transitions
// at either end), moved to the nearest frame that is not flat when the middle is (a scene that
// fades through black mid-way should not get a black thumbnail).
int64_t pictureFrame(const scenes::SceneDetector &detector, int64_t start, int64_t end,
                     const scenes::Boundary *incoming, const scenes::Boundary *outgoing)
{
    int64_t first = incoming ? std::max(start, incoming->lastFrame + 1) : start;
    int64_t last = outgoing ? std::min(end - 1, outgoing->firstFrame - 1) : end - 1;
    if (first > last) {
        first = start;
        last = end - 1;
    }
    float liveliest = 0;
    for (int64_t f = first; f <= last; ++f)
        liveliest = std::max(liveliest, detector.lumaDeviation(f));
    const int64_t middle = (first + last) / 2;
    for (int64_t offset = 0; offset <= last - first; ++offset) {
        for (int64_t f : {middle + offset, middle - offset}) {
            if (f >= first && f <= last && detector.lumaDeviation(f) >= 0.5f * liveliest)
                return f;
        }
    }
    return middle;
}

} // namespace

std::optional<Error> validateScenes(const QVariantMap &params)
{
    std::optional<Error> error;
    readSettings(params, error);
    return error;
}

Result runScenes(const Request &request, Control &control)
{
    std::optional<Error> invalid;
    const Settings settings = readSettings(request.params, invalid);
    if (invalid)
        return Result{invalid, {}};

    auto opened = VideoReader::open(request.inputPath, request.limits, [](const AVStream *) {
        // The analysis thread's queue of the decoder's pictures.
        return ff::MemoryUse{int(AnalysisThread::Capacity), 0};
    });
    if (auto *e = ff::errorOf(opened))
        return Result{*e, {}};
    std::unique_ptr<VideoReader> reader = std::move(std::get<std::unique_ptr<VideoReader>>(opened));

    // Claim the JSON's name first: an unwritable folder fails now, not after the whole decode.
    // Reserved first, it is also committed last, once the pictures it names are in place.
    OutputSet outputs(request.outputDir, request.baseName);
    auto json =
        outputs.reserve(QStringLiteral(".scenes.json"), QStringLiteral("scenes"), QStringLiteral("application/json"));
    if (auto *e = ff::errorOf(json))
        return Result{*e, {}};
    const int jsonIndex = std::get<int>(json);

    // --- Analysis: every frame, scaled down to the detector's size. ---
    Reporter reporter(control);
    const QString analysing = QStringLiteral("analysing");
    const double analysisShare = settings.thumbnails ? 0.9 : 1.0;
    const double fps = reader->frameRate();
    const double expected = reader->durationSeconds();
    // Deblocking is invisible at 128×72, so skip it, but only on pictures no other picture is
    // predicted from: skipping it on reference pictures (setSkipLoopFilter) lets prediction
    // drift from the encoder's pictures until the next keyframe resets it, and that reset is a
    // jump the detector takes for a cut (measured: a false cut on a static shot).
    reader->setSkipLoopFilterOnNonReference(true);
    scenes::SceneDetector detector(fps);
    AnalysisThread analysis(detector);
    std::vector<double> times;
    if (!reporter.report(0, analysing, 0, true))
        return Result{canceled(), {}};
    while (const AVFrame *frame = reader->next()) {
        if (!analysis.push(frame))
            break;
        // Timestamps may be missing or repeat in damaged or odd files; keep them increasing.
        double t = reader->frameSeconds(frame);
        if (!times.empty() && !(t > times.back()))
            t = times.back() + 1.0 / fps;
        times.push_back(t);
        const double fraction = expected > 0 ? std::min(0.999, t / expected) : 0;
        if (!reporter.report(analysisShare * fraction, analysing, t))
            return Result{canceled(), {}};
    }
    if (!analysis.finish()) {
        return Result{Error{errors::UnsupportedCodec,
                            QStringLiteral("The video's pixel format cannot be converted for analysis.")},
                      {}};
    }
    if (reader->error())
        return Result{*reader->error(), {}};
    if (times.empty()) {
        return Result{Error{errors::CorruptStream,
                            QStringLiteral("No picture of the video could be decoded; the file may be damaged.")},
                      {}};
    }
    const int64_t frames = detector.frameCount();
    const double duration = times.back() + 1.0 / fps;
    const std::vector<scenes::Boundary> boundaries =
        detector.select(settings.sensitivity, std::llround(settings.minSceneSeconds * fps));

    std::vector<Scene> sceneList;
    for (size_t i = 0; i <= boundaries.size(); ++i) {
        Scene s;
        s.start = i == 0 ? 0 : boundaries[i - 1].frame;
        s.end = i == boundaries.size() ? frames : boundaries[i].frame;
        s.picture = pictureFrame(detector, s.start, s.end, i == 0 ? nullptr : &boundaries[i - 1],
                                 i == boundaries.size() ? nullptr : &boundaries[i]);
        sceneList.push_back(s);
    }

    // --- Thumbnails: seek to each scene's picture (or decode on to it when no keyframe lies
    // between), scale, encode as JPEG. ---
    if (settings.thumbnails) {
        const QString stage = QStringLiteral("thumbnails");
        reader->setSkipLoopFilterOnNonReference(false); // these pictures are looked at
        const QList<double> keyframes = reader->keyframeTimes();
        FrameScaler thumbScaler;
        double position = std::numeric_limits<double>::infinity(); // time of the last frame decoded
        for (size_t i = 0; i < sceneList.size(); ++i) {
            Scene &scene = sceneList[i];
            if (!reporter.report(analysisShare + (1 - analysisShare) * double(i) / double(sceneList.size()), stage,
                                 times.back(), true))
                return Result{canceled(), {}};
            const double target = times[size_t(scene.picture)];
            const double tolerance = 0.5 / fps;
            bool decodeOn = target > position;
            if (decodeOn) {
                if (!keyframes.isEmpty()) {
                    const auto next = std::upper_bound(keyframes.cbegin(), keyframes.cend(), position);
                    decodeOn = next == keyframes.cend() || *next > target + tolerance;
                } else {
                    decodeOn = target - position < 2.0;
                }
            }
            // Our own reference to the latest frame: the reader's is gone once next() returns
            // nullptr at the end of the stream.
            ff::Frame picture = ff::makeFrame();
            bool decoded = false;
            bool ended = true;
            if (decodeOn || reader->seek(target)) {
                while (const AVFrame *frame = reader->next()) {
                    position = reader->frameSeconds(frame);
                    av_frame_unref(picture.get());
                    decoded = av_frame_ref(picture.get(), frame) >= 0;
                    if (position >= target - tolerance) {
                        ended = false;
                        break;
                    }
                    if (!reporter.report(analysisShare + (1 - analysisShare) * double(i) / double(sceneList.size()),
                                         stage, times.back()))
                        return Result{canceled(), {}};
                }
            }
            if (ended)
                position = std::numeric_limits<double>::infinity(); // seek for the next one
            if (!decoded) {
                // The first pass decoded this picture, the second cannot (a damaged file read
                // differently after a seek): the scene keeps a null thumbnail.
                continue;
            }
            AVRational sar = picture->sample_aspect_ratio;
            if (sar.num <= 0 || sar.den <= 0)
                sar = reader->stream()->sample_aspect_ratio;
            const QSize size = fitWithin(picture->width, picture->height, sar, settings.thumbnailWidth, 0);
            const AVFrame *scaled =
                thumbScaler.convert(picture.get(), size.width(), size.height(), AV_PIX_FMT_YUVJ420P, SWS_BICUBIC);
            if (!scaled) {
                return Result{
                    Error{errors::EncoderFailed, QStringLiteral("The picture cannot be scaled for its thumbnail.")},
                    {}};
            }
            auto reserved = outputs.reserve(QStringLiteral(".scene-%1.jpg").arg(i + 1, 3, 10, QLatin1Char('0')),
                                            QStringLiteral("thumbnail"), QStringLiteral("image/jpeg"));
            if (auto *e = ff::errorOf(reserved))
                return Result{*e, {}};
            scene.thumbnail = std::get<int>(reserved);
            if (auto e = writeImage(scaled, ImageFormat::Jpeg, outputs.file(scene.thumbnail).temporaryPath()))
                return Result{e, {}};
        }
    }

    // --- The JSON. Every name is reserved by now, so the set's names are settled. ---
    auto fileName = [&](int index) { return QFileInfo(outputs.file(index).finalPath()).fileName(); };
    auto seconds = [&](int64_t frame) { return rounded(frame >= frames ? duration : times[size_t(frame)]); };
    QJsonArray scenesJson;
    for (size_t i = 0; i < sceneList.size(); ++i) {
        const Scene &s = sceneList[i];
        scenesJson.append(QJsonObject{
            {QStringLiteral("index"), qint64(i)},
            {QStringLiteral("startSeconds"), seconds(s.start)},
            {QStringLiteral("startFrame"), qint64(s.start)},
            {QStringLiteral("endSeconds"), seconds(s.end)},
            {QStringLiteral("endFrame"), qint64(s.end)},
            {QStringLiteral("thumbnail"), s.thumbnail < 0 ? QJsonValue() : QJsonValue(fileName(s.thumbnail))},
        });
    }
    QJsonArray boundariesJson;
    for (const scenes::Boundary &b : boundaries) {
        boundariesJson.append(QJsonObject{
            {QStringLiteral("timeSeconds"), seconds(b.frame)},
            {QStringLiteral("frame"), qint64(b.frame)},
            {QStringLiteral("score"), std::round(b.score * 1000) / 1000},
            {QStringLiteral("kind"), QString::fromLatin1(scenes::kindName(b.kind))},
            {QStringLiteral("durationFrames"), qint64(b.durationFrames())},
        });
    }
    const QJsonObject document{
        {QStringLiteral("v"), 1},
        {QStringLiteral("durationSeconds"), rounded(duration)},
        {QStringLiteral("frameRate"), rounded(fps)},
        {QStringLiteral("scenes"), scenesJson},
        {QStringLiteral("boundaries"), boundariesJson},
    };
    const QByteArray jsonText = QJsonDocument(document).toJson(QJsonDocument::Indented);
    if (auto e = writeWholeFile(outputs.file(jsonIndex).temporaryPath(), jsonText))
        return Result{e, {}};
    if (!reporter.report(1.0, settings.thumbnails ? QStringLiteral("thumbnails") : analysing, times.back(), true))
        return Result{canceled(), {}};

    // --- Commit: all or nothing. ---
    auto committed = outputs.commit();
    if (auto *e = ff::errorOf(committed))
        return Result{*e, {}};
    return Result{std::nullopt, std::get<QList<Output>>(committed)};
}

} // namespace clipdeck::media
