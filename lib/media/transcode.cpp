#include "media/transcode.h"

#include "media/boundedqueue_p.h"
#include "media/ffmpeg_p.h"
#include "media/outputfile_p.h"
#include "media/outputio_p.h"
#include "media/params_p.h"
#include "media/presets.h"
#include "media/probe_p.h"
#include "media/videoreader_p.h"

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include <QFileInfo>
#include <QSize>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

// The transcode pipeline
// ======================
//
// Up to five threads besides the caller's, joined by bounded queues (boundedqueue_p.h):
//
//   demux ─┬─ video packets ─► video decode ─ frames ─► video filter ─ frames ─► video encode ─┐
//          │                                   (trim)    (rotate, fps, scale,      (thread_count 0)│
//          │                                              pixel format)                           ├─► packets ─► caller: mux,
//          └─ audio packets ─► audio: decode ─► trim, resample, reframe ─► encode ────────────────┘   progress, checkpoint
//
// Why: the ffmpeg 5.1 CLI runs demuxing, decoder feeding, filtering and encoder feeding one after
// another on one thread, so the codec worker threads sit idle while it scales a frame or encodes
// audio. Here every stage runs as soon as its input is ready, bounded queues keep memory flat
// and make a slow stage hold back the fast ones, and codecs still get all cores (decoders via
// ff::openDecoder, encoders with thread_count 0). When the video chain does no pixel work (same
// size, orientation and pixel format: it only keeps the frame rate) it runs on the encoder's
// thread instead of its own: a hand-off per frame would buy no overlap.
//
// The caller's thread muxes. That keeps all use of the output context on one thread, and it is
// where Control::checkpoint runs: when the job is paused checkpoint blocks, nothing is muxed,
// the packet queue fills, and every stage behind it stalls within a few frames — a pause really
// stops the work. On cancel or error every queue is aborted, which wakes every thread.
//
// Frame-accurate trim: the demuxer seeks to the keyframe at or before `in` (minus the stream's
// reorder delay, since the index holds decode times), decoding starts there, and frames before
// `in` are decoded but dropped. Timestamps are shifted so that `in` is 0 and frames at or after
// `out` end the stream. Audio is cut to the sample by atrim on the same timeline.
//
// libavfilter does the picture work (the ffmpeg CLI's own scale/fps filters, so results match
// it; swscale inside uses slice threads) and the audio conversion (aresample + frame sizes the
// encoder wants).

namespace clipdeck::media {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Share of the progress bar for encoding; the rest is the finalising write (faststart moves
// the whole file, which on a slow disk takes a noticeable while).
constexpr double EncodingShare = 0.98;
constexpr auto CheckpointInterval = 30ms;

// Queue sizes: deep enough to absorb bursts (a B-frame reorder, an audio packet run), shallow
// enough that a pause or a cancel takes effect within a few frames and memory stays small.
constexpr std::size_t PacketQueueSize = 64;
constexpr std::size_t FrameQueueSize = 6;
constexpr std::size_t MuxQueueSize = 64;

// A few undecodable packets happen in real recordings (a broken first GOP); more than this many
// (plus 1% of the packets read) means the file is damaged and the export would show it.
constexpr int ToleratedBadPackets = 5;

// ---------------------------------------------------------------------------------------------
// Parameters

struct Settings
{
    Preset preset;
    double in = 0;
    std::optional<double> out;
    int width = 0;
    int height = 0;
    double fps = 0;
    std::optional<double> quality;
    bool audio = true;
};

const QStringList &knownParams()
{
    static const QStringList keys{QStringLiteral("preset"),  QStringLiteral("in"),     QStringLiteral("out"),
                                  QStringLiteral("width"),   QStringLiteral("height"), QStringLiteral("fps"),
                                  QStringLiteral("quality"), QStringLiteral("audio")};
    return keys;
}

std::variant<Settings, Error> readSettings(const QVariantMap &params, const QString &defaultPreset)
{
    ParamReader r(params);
    r.allowOnly(knownParams());
    const QString presetName = r.string(QStringLiteral("preset"), defaultPreset);
    Settings s;
    s.in = r.time(QStringLiteral("in")).value_or(0);
    s.out = r.time(QStringLiteral("out"));
    s.width = r.integer(QStringLiteral("width"), 0, 16, 8192);
    s.height = r.integer(QStringLiteral("height"), 0, 16, 8192);
    s.fps = r.number(QStringLiteral("fps"), 0, 1, 240);
    const bool hasQuality =
        params.contains(QStringLiteral("quality")) && !params.value(QStringLiteral("quality")).isNull();
    const double quality = r.number(QStringLiteral("quality"), 0, -1e6, 1e6);
    s.audio = r.boolean(QStringLiteral("audio"), true);
    if (auto e = r.error())
        return *e;

    auto found = findPreset(presetName);
    if (auto *e = std::get_if<Error>(&found))
        return *e;
    s.preset = std::get<Preset>(std::move(found));

    auto invalid = [](const QString &message) { return Error{errors::InvalidParams, message}; };
    if (s.out && *s.out <= s.in)
        return invalid(QStringLiteral("Parameter 'out' (%1 s) must be after 'in' (%2 s).").arg(*s.out).arg(s.in));
    const VideoPreset *video = s.preset.video ? &*s.preset.video : nullptr;
    if (!video && (s.width || s.height || s.fps > 0 || hasQuality)) {
        return invalid(QStringLiteral("The preset '%1' is audio-only: width, height, fps and quality do not apply.")
                           .arg(s.preset.name));
    }
    if (!video && !s.audio)
        return invalid(QStringLiteral("The preset '%1' is audio-only: it cannot drop the audio.").arg(s.preset.name));
    if (hasQuality) {
        if (video->qualityOption.isEmpty())
            return invalid(QStringLiteral("The preset '%1' has no quality setting to override.").arg(s.preset.name));
        if (quality < video->qualityMin || quality > video->qualityMax) {
            return invalid(
                QStringLiteral("Parameter 'quality' must be between %1 and %2 for the preset '%3' (%4), not %5.")
                    .arg(video->qualityMin)
                    .arg(video->qualityMax)
                    .arg(s.preset.name, video->qualityOption)
                    .arg(quality));
        }
        s.quality = quality;
    }
    return s;
}

// ---------------------------------------------------------------------------------------------
// Small FFmpeg helpers

struct GraphDeleter
{
    void operator()(AVFilterGraph *g) const { avfilter_graph_free(&g); }
};
struct OutputContextDeleter
{
    void operator()(AVFormatContext *c) const { avformat_free_context(c); }
};
struct InOutDeleter
{
    void operator()(AVFilterInOut *io) const { avfilter_inout_free(&io); }
};
struct DictionaryDeleter
{
    void operator()(AVDictionary *d) const { av_dict_free(&d); }
};

struct FilterChain
{
    std::unique_ptr<AVFilterGraph, GraphDeleter> graph;
    AVFilterContext *source = nullptr;
    AVFilterContext *sink = nullptr;
};

// Builds source -> `description` -> sink and configures it.
ff::Expected<FilterChain> makeChain(const char *sourceFilter, const QString &sourceArgs, const char *sinkFilter,
                                    const QString &description)
{
    FilterChain chain;
    chain.graph.reset(avfilter_graph_alloc());
    if (!chain.graph)
        return Error{errors::Internal, QStringLiteral("Out of memory creating a filter graph.")};
    chain.graph->nb_threads = 0; // slice threads on all cores (swscale in scale)
    // Automatically inserted converters scale like the ffmpeg CLI's default.
    av_opt_set(chain.graph.get(), "scale_sws_opts", "flags=bicubic", 0);
    int rc = avfilter_graph_create_filter(&chain.source, avfilter_get_by_name(sourceFilter), "in",
                                          sourceArgs.toUtf8().constData(), nullptr, chain.graph.get());
    if (rc >= 0)
        rc = avfilter_graph_create_filter(&chain.sink, avfilter_get_by_name(sinkFilter), "out", nullptr, nullptr,
                                          chain.graph.get());
    if (rc < 0) {
        return Error{errors::Internal, QStringLiteral("Cannot create the %1 filter (%2).")
                                           .arg(QString::fromUtf8(sourceFilter), ff::averrorText(rc))};
    }
    std::unique_ptr<AVFilterInOut, InOutDeleter> outputs(avfilter_inout_alloc());
    std::unique_ptr<AVFilterInOut, InOutDeleter> inputs(avfilter_inout_alloc());
    outputs->name = av_strdup("in");
    outputs->filter_ctx = chain.source;
    inputs->name = av_strdup("out");
    inputs->filter_ctx = chain.sink;
    AVFilterInOut *in = inputs.release();
    AVFilterInOut *out = outputs.release();
    rc = avfilter_graph_parse_ptr(chain.graph.get(), description.toUtf8().constData(), &in, &out, nullptr);
    avfilter_inout_free(&in);
    avfilter_inout_free(&out);
    if (rc >= 0)
        rc = avfilter_graph_config(chain.graph.get(), nullptr);
    if (rc < 0) {
        return Error{errors::Internal,
                     QStringLiteral("Cannot set up the filters '%1' (%2).").arg(description, ff::averrorText(rc))};
    }
    return chain;
}

QString layoutName(const AVChannelLayout &layout)
{
    char buffer[128] = {};
    av_channel_layout_describe(&layout, buffer, sizeof buffer);
    return QString::fromUtf8(buffer);
}

// A native-order layout for `layout`: decoders may leave the order unspecified, which the audio
// filters cannot mix from.
AVChannelLayout nativeLayout(const AVChannelLayout &layout)
{
    AVChannelLayout out{};
    if (layout.order == AV_CHANNEL_ORDER_NATIVE || layout.order == AV_CHANNEL_ORDER_AMBISONIC)
        av_channel_layout_copy(&out, &layout);
    else
        av_channel_layout_default(&out, std::max(1, layout.nb_channels));
    return out;
}

// The sample format to encode in: the decoder's when the encoder takes it (no conversion),
// else its planar/packed twin, else float, else the encoder's first.
AVSampleFormat chooseSampleFormat(const AVCodec *encoder, AVSampleFormat decoded)
{
    const AVSampleFormat *formats = encoder->sample_fmts;
    if (!formats)
        return decoded;
    auto supported = [&](AVSampleFormat f) {
        for (const AVSampleFormat *p = formats; *p != AV_SAMPLE_FMT_NONE; ++p) {
            if (*p == f)
                return true;
        }
        return false;
    };
    for (AVSampleFormat f : {decoded, av_get_packed_sample_fmt(decoded), av_get_planar_sample_fmt(decoded),
                             AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_FLT}) {
        if (f != AV_SAMPLE_FMT_NONE && supported(f))
            return f;
    }
    return formats[0];
}

int64_t frameDuration(const AVFrame *frame)
{
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
    return frame->duration;
#else
    return frame->pkt_duration;
#endif
}

bool isFullRangeFormat(AVPixelFormat f)
{
    return f == AV_PIX_FMT_YUVJ420P || f == AV_PIX_FMT_YUVJ422P || f == AV_PIX_FMT_YUVJ444P || f == AV_PIX_FMT_YUVJ440P
           || f == AV_PIX_FMT_YUVJ411P;
}

int evenAtMost(double v, int bound)
{
    // Clamped first: an extreme aspect ratio must not overflow the int (the size is refused later).
    int e = std::max(2, int(std::lround(std::clamp(v, 0.0, 1e9) / 2.0)) * 2);
    if (bound > 0 && e > bound)
        e = std::max(2, bound & ~1);
    return e;
}

// The frame rate to encode at: the source's, or 25 when it does not say anything usable.
AVRational sourceFrameRate(AVFormatContext *fmt, AVStream *stream)
{
    AVRational r = av_guess_frame_rate(fmt, stream, nullptr);
    auto sane = [](AVRational q) { return q.num > 0 && q.den > 0 && av_q2d(q) >= 1 && av_q2d(q) <= 240; };
    if (sane(r))
        return r;
    if (sane(stream->avg_frame_rate))
        return stream->avg_frame_rate;
    return AVRational{25, 1};
}

// ---------------------------------------------------------------------------------------------
// The pipeline

class Transcoder
{
public:
    Transcoder(const Request &request, Control &control, Settings settings)
        : m_request(request), m_control(control), m_settings(std::move(settings))
    { }

    ~Transcoder()
    {
        stopAll();
        joinAll();
    }

    Result run();

private:
    // Setup, on the caller's thread ("analysing").
    std::optional<Error> openSource();
    std::optional<Error> setupVideo();
    std::optional<Error> setupAudio();
    std::optional<Error> openOutput();
    std::optional<Error> planTimeline();
    std::optional<Error> seekToIn();

    // The stage threads.
    void demuxLoop();
    void videoDecodeLoop();
    void videoFilterLoop();
    // Feeds one decoded frame (nullptr: the end) through the video chain, handing each result to
    // `deliver`; false when the pipeline must stop.
    bool filterVideo(AVFrame *frame, const std::function<bool(ff::Frame)> &deliver);
    void videoEncodeLoop();
    void audioLoop();

    // The caller's thread after setup.
    std::optional<Error> muxUntilDone();
    std::optional<Error> finalise();
    std::optional<Error> checkComplete() const;
    Progress encodingProgress();
    bool report(const Progress &p);

    void fail(const Error &e);
    void stopAll();
    void joinAll();
    bool stopping() const { return m_stop.load(std::memory_order_relaxed); }
    void producerDone();
    Error canceled() const { return Error{errors::Canceled, QStringLiteral("The transcode was canceled.")}; }
    bool badPacket(std::atomic<int> &bad, int64_t packets);
    Error writeFailure(int averror) const;

    const Request &m_request;
    Control &m_control;
    Settings m_settings;

    // Input
    ff::InputContext m_input;
    int m_videoIndex = -1;
    int m_audioIndex = -1;
    ff::CodecContext m_videoDecoder;
    ff::CodecContext m_audioDecoder;
    int64_t m_offsetUs = 0;         // source time (AV_TIME_BASE) that becomes output time 0
    int64_t m_videoOffsetTicks = 0; // the same in the video stream's time base, exactly
    int64_t m_videoEndTicks = std::numeric_limits<int64_t>::max(); // output time of `out` there
    int64_t m_videoFrameTicks = 1;                                 // one source frame in the video time base
    AVRational m_sourceFrameRate{25, 1};
    double m_rangeSeconds = 0;              // duration of the output; 0 when unknown
    double m_expectedSeconds = 0;           // how much of it the main stream covers, per the header
    std::optional<double> m_trimEndSeconds; // output time where `out` cuts; nullopt: to the end

    // Video
    FilterChain m_videoChain;
    AVRational m_frameRate{25, 1};
    AVRational m_videoSourceTimeBase{1, 25};
    int m_sourceWidth = 0;
    int m_sourceHeight = 0;
    AVPixelFormat m_sourceFormat = AV_PIX_FMT_NONE;
    ff::CodecContext m_videoEncoder;
    AVStream *m_videoOut = nullptr;
    bool m_filterInline = false; // the chain does no pixel work: run it on the encoder's thread
    FrameScaler m_resizer;

    // Audio
    QString m_audioFilters; // the chain between abuffer and abuffersink
    ff::CodecContext m_audioEncoder;
    AVStream *m_audioOut = nullptr;

    // Output
    std::optional<OutputFile> m_file;
    std::unique_ptr<OutputIO> m_io;
    std::unique_ptr<AVFormatContext, OutputContextDeleter> m_output;

    // Queues between the threads (see the top of the file).
    BoundedQueue<ff::Packet> m_videoPackets{PacketQueueSize};
    BoundedQueue<ff::Packet> m_audioPackets{PacketQueueSize};
    BoundedQueue<ff::Frame> m_decodedFrames{FrameQueueSize};
    BoundedQueue<ff::Frame> m_filteredFrames{FrameQueueSize};
    BoundedQueue<ff::Packet> m_muxQueue{MuxQueueSize};
    std::vector<std::thread> m_threads;
    std::atomic<int> m_muxProducers{0};

    std::atomic<bool> m_stop{false};
    mutable std::mutex m_errorMutex;
    std::optional<Error> m_error;

    // Facts the stage threads leave for the caller's thread.
    std::atomic<bool> m_videoDone{false}; // the video decoder has passed `out`
    std::atomic<bool> m_audioDone{false};
    std::atomic<int> m_readError{0}; // av_read_frame's failure other than EOF
    std::atomic<int64_t> m_inputPosition{0};
    std::atomic<int64_t> m_videoEofPts{0}; // in the video source time base, after shifting
    std::atomic<int> m_videoBad{0};
    std::atomic<int> m_audioBad{0};
    std::atomic<int64_t> m_videoFramesDecoded{0};
    std::atomic<int64_t> m_audioFramesDecoded{0};
    std::atomic<double> m_videoDecodedEnd{0}; // output seconds reached by decoded video
    std::atomic<double> m_audioDecodedEnd{0};

    // Progress, on the caller's thread.
    double m_lastFraction = 0;
    double m_mediaSeconds = 0;
    int64_t m_packetsMuxed = 0;
    int64_t m_videoPacketsMuxed = 0;
    std::deque<std::pair<Clock::time_point, int64_t>> m_rateWindow;
    Clock::time_point m_lastCheckpoint{};
};

void Transcoder::fail(const Error &e)
{
    {
        std::lock_guard lock(m_errorMutex);
        if (!m_error)
            m_error = e;
    }
    stopAll();
}

void Transcoder::stopAll()
{
    m_stop = true;
    m_videoPackets.abort();
    m_audioPackets.abort();
    m_decodedFrames.abort();
    m_filteredFrames.abort();
    m_muxQueue.abort();
}

void Transcoder::joinAll()
{
    for (std::thread &t : m_threads) {
        if (t.joinable())
            t.join();
    }
    m_threads.clear();
}

void Transcoder::producerDone()
{
    if (--m_muxProducers == 0)
        m_muxQueue.close();
}

bool Transcoder::badPacket(std::atomic<int> &bad, int64_t packets)
{
    return ++bad > ToleratedBadPackets + packets / 100;
}

Error Transcoder::writeFailure(int averror) const
{
    const QString name = m_file ? QFileInfo(m_file->finalPath()).fileName() : QStringLiteral("the output");
    if (m_io && m_io->failedErrno())
        return ff::writeError(AVERROR(m_io->failedErrno()), name);
    if (averror == AVERROR(ENOSPC) || averror == AVERROR(EACCES) || averror == AVERROR(EROFS)
        || averror == AVERROR(EDQUOT))
        return ff::writeError(averror, name);
    return Error{errors::EncoderFailed, QStringLiteral("Writing %1 failed (%2).").arg(name, ff::averrorText(averror))};
}

bool Transcoder::report(const Progress &p)
{
    m_lastCheckpoint = Clock::now();
    return m_control.checkpoint(p);
}

// ---------------------------------------------------------------------------------------------
// Setup

std::optional<Error> Transcoder::openSource()
{
    auto opened = ff::openInput(m_request.inputPath, m_request.limits);
    if (auto *e = ff::errorOf(opened))
        return *e;
    m_input = std::move(std::get<ff::InputContext>(opened));
    AVFormatContext *fmt = m_input.get();
    const Preset &preset = m_settings.preset;

    if (preset.video) {
        m_videoIndex = ff::bestStream(fmt, AVMEDIA_TYPE_VIDEO);
        if (m_videoIndex < 0) {
            return Error{
                errors::NoVideo,
                QStringLiteral("%1 has no video, and the preset '%2' makes a video. Choose an audio preset for it.")
                    .arg(QFileInfo(m_request.inputPath).fileName(), preset.name)};
        }
    }
    if (preset.audio && m_settings.audio)
        m_audioIndex = ff::bestStream(fmt, AVMEDIA_TYPE_AUDIO);
    if (!preset.video && m_audioIndex < 0) {
        return Error{errors::NoAudio, QStringLiteral("%1 has no audio, and the preset '%2' makes an audio file.")
                                          .arg(QFileInfo(m_request.inputPath).fileName(), preset.name)};
    }
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        if (int(i) != m_videoIndex && int(i) != m_audioIndex)
            fmt->streams[i]->discard = AVDISCARD_ALL; // the demuxer drops them early
    }
    if (m_videoIndex >= 0) {
        // Held besides the decoder's own: the decoded and filtered queues and the frame in the filter.
        auto dec = ff::openDecoder(fmt->streams[m_videoIndex], m_request.limits,
                                   ff::MemoryUse{int(2 * FrameQueueSize + 1), 0});
        if (auto *e = ff::errorOf(dec))
            return *e;
        m_videoDecoder = std::move(std::get<ff::CodecContext>(dec));
    }
    if (m_audioIndex >= 0) {
        auto dec = ff::openDecoder(fmt->streams[m_audioIndex], m_request.limits);
        if (auto *e = ff::errorOf(dec)) {
            Error err = *e;
            err.message += QStringLiteral(" To export the picture alone, turn the audio off.");
            return err;
        }
        m_audioDecoder = std::move(std::get<ff::CodecContext>(dec));
    }

    return planTimeline();
}

// The output timeline. With video, `in` and `out` are rounded up to the source's frame grid:
// the output starts exactly on the first frame at or after `in` (time 0 is that frame, and the
// audio is cut at the same instant, so they stay in sync), and ends before the first frame at
// or after `out`. Frame times are computed in the stream's own time base from frame numbers, so
// no rounding through seconds can move a frame across the cut.
std::optional<Error> Transcoder::planTimeline()
{
    AVFormatContext *fmt = m_input.get();
    const int64_t baseUs = fmt->start_time != AV_NOPTS_VALUE ? fmt->start_time : 0;
    const double base = double(baseUs) / AV_TIME_BASE;
    const double total = ff::durationSeconds(fmt);
    if (total > 0 && m_settings.in >= total) {
        return Error{errors::InvalidParams,
                     QStringLiteral("'in' (%1 s) is past the end of the clip, which is %2 s long.")
                         .arg(m_settings.in)
                         .arg(total, 0, 'f', 3)};
    }
    double inAbs = base + m_settings.in; // source seconds
    std::optional<double> outAbs;
    if (m_settings.out)
        outAbs = base + *m_settings.out;

    if (m_videoIndex >= 0) {
        AVStream *stream = fmt->streams[m_videoIndex];
        const AVRational tb = stream->time_base;
        m_sourceFrameRate = sourceFrameRate(fmt, stream);
        m_frameRate = m_settings.fps > 0 ? av_d2q(m_settings.fps, 1001000) : m_sourceFrameRate;
        const AVRational frameTime = av_inv_q(m_sourceFrameRate);
        m_videoFrameTicks = std::max<int64_t>(1, av_rescale_q(1, frameTime, tb));
        const int64_t baseTicks = av_rescale_q(baseUs, AV_TIME_BASE_Q, tb);
        const int64_t startTicks = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : baseTicks;
        const double start = ff::toSeconds(startTicks, tb);
        const double rate = av_q2d(m_sourceFrameRate);
        // The first frame number at or after a time (tolerating float noise in typed times).
        auto frameAt = [&](double t) { return std::max<int64_t>(0, int64_t(std::ceil((t - start) * rate - 1e-6))); };
        if (m_settings.in > 0) {
            const int64_t first = frameAt(inAbs);
            m_videoOffsetTicks = startTicks + av_rescale_q(first, frameTime, tb);
            inAbs = start + first / rate;
            if (outAbs) {
                const int64_t last = std::max(first + 1, frameAt(*outAbs));
                m_videoEndTicks = av_rescale_q(last - first, frameTime, tb);
                outAbs = start + last / rate;
            }
        } else {
            m_videoOffsetTicks = baseTicks;
            if (outAbs) {
                const int64_t last = std::max<int64_t>(1, frameAt(*outAbs));
                m_videoEndTicks = startTicks + av_rescale_q(last, frameTime, tb) - baseTicks;
                outAbs = start + last / rate;
            }
        }
    }
    m_offsetUs = int64_t(std::llround(inAbs * AV_TIME_BASE));
    if (outAbs)
        m_trimEndSeconds = *outAbs - inAbs;
    double end = total > 0 ? base + total : 0;
    if (outAbs && (end <= 0 || *outAbs < end))
        end = *outAbs;
    m_rangeSeconds = end > 0 ? std::max(0.0, end - inAbs) : 0;

    // How far the main stream should get: the range, or less when that stream itself is shorter
    // than the file (audio that runs on after the picture ends is not a truncated picture).
    m_expectedSeconds = m_rangeSeconds;
    const int primary = m_videoIndex >= 0 ? m_videoIndex : m_audioIndex;
    if (primary >= 0) {
        const AVStream *st = fmt->streams[primary];
        if (st->duration > 0 && st->duration != AV_NOPTS_VALUE) {
            const double streamStart =
                st->start_time != AV_NOPTS_VALUE ? ff::toSeconds(st->start_time, st->time_base) : base;
            const double streamEnd = streamStart + ff::toSeconds(st->duration, st->time_base);
            if (m_expectedSeconds > 0)
                m_expectedSeconds = std::min(m_expectedSeconds, std::max(0.0, streamEnd - inAbs));
        }
    }
    return std::nullopt;
}

std::optional<Error> Transcoder::setupVideo()
{
    const VideoPreset &vp = *m_settings.preset.video;
    AVStream *stream = m_input->streams[m_videoIndex];
    const AVCodecContext *dec = m_videoDecoder.get();
    m_videoSourceTimeBase = stream->time_base;
    m_sourceWidth = dec->width;
    m_sourceHeight = dec->height;
    m_sourceFormat = dec->pix_fmt;
    if (m_sourceFormat == AV_PIX_FMT_NONE) {
        return Error{errors::CorruptStream,
                     QStringLiteral("The video's pixel format cannot be determined; the file may be damaged.")};
    }
    if (m_rangeSeconds > 0 && m_rangeSeconds * av_q2d(m_frameRate) < 0.5) {
        return Error{errors::InvalidParams, QStringLiteral("The range from 'in' to 'out' is shorter than one frame.")};
    }

    AVRational sar = stream->sample_aspect_ratio.num > 0 ? stream->sample_aspect_ratio : dec->sample_aspect_ratio;
    if (sar.num <= 0 || sar.den <= 0)
        sar = AVRational{1, 1};

    // Upright the picture as players show it (as the ffmpeg CLI does), then size the result.
    QStringList filters;
    const int rotation = displayRotation(stream);
    int w = dec->width;
    int h = dec->height;
    AVRational displaySar = sar;
    if (rotation == 90 || rotation == 270) {
        filters << (rotation == 90 ? QStringLiteral("transpose=cclock") : QStringLiteral("transpose=clock"));
        std::swap(w, h);
        displaySar = AVRational{sar.den, sar.num};
    } else if (rotation == 180) {
        filters << QStringLiteral("hflip") << QStringLiteral("vflip");
    }
    // Constant frame rate from output time 0: a first frame a little after `in` fills the start.
    filters << QStringLiteral("fps=fps=%1/%2:start_time=0").arg(m_frameRate.num).arg(m_frameRate.den);

    const double displayWidth = w * av_q2d(displaySar);
    const double aspect = displayWidth / h;
    int outW = 0;
    int outH = 0;
    if (m_settings.width && m_settings.height) {
        outW = evenAtMost(m_settings.width, 0);
        outH = evenAtMost(m_settings.height, 0);
    } else if (m_settings.width) {
        outW = evenAtMost(m_settings.width, 0);
        outH = evenAtMost(m_settings.width / aspect, 0);
    } else if (m_settings.height) {
        outH = evenAtMost(m_settings.height, 0);
        outW = evenAtMost(m_settings.height * aspect, 0);
    } else {
        // The preset's rule: fit both sides, never upscale.
        const double longSide = std::max(displayWidth, double(h));
        const double shortSide = std::min(displayWidth, double(h));
        double scale = 1.0;
        if (vp.maxLongSide > 0)
            scale = std::min(scale, vp.maxLongSide / longSide);
        if (vp.maxShortSide > 0)
            scale = std::min(scale, vp.maxShortSide / shortSide);
        outW = evenAtMost(displayWidth * scale, int(std::floor(displayWidth)));
        outH = evenAtMost(h * scale, h);
    }
    // A width or height given with a picture of extreme shape makes the other side follow it:
    // the output's pictures are held to the same limits as the input's.
    if (qint64(outW) * outH > m_request.limits.maxFramePixels || outW > 16384 || outH > 16384) {
        return Error{errors::MediaTooLarge,
                     QStringLiteral("The output would have pictures of %1×%2; the largest allowed is %3 pixels "
                                    "(set with %4), at most 16384 on a side. Give a smaller 'width' or 'height'.")
                         .arg(outW)
                         .arg(outH)
                         .arg(m_request.limits.maxFramePixels)
                         .arg(limitOption::MaxFramePixels)};
    }
    const bool scaling = outW != w || outH != h || av_cmp_q(displaySar, AVRational{1, 1}) != 0;
    if (scaling)
        filters << QStringLiteral("scale=w=%1:h=%2:flags=bicubic").arg(outW).arg(outH) << QStringLiteral("setsar=1");
    m_filterInline = !scaling && rotation == 0 && av_get_pix_fmt(vp.pixelFormat.toUtf8().constData()) == dec->pix_fmt;
    filters << QStringLiteral("format=pix_fmts=%1").arg(vp.pixelFormat);

    const QString sourceArgs =
        QStringLiteral("video_size=%1x%2:pix_fmt=%3:time_base=%4/%5:pixel_aspect=%6/%7:frame_rate=%8/%9")
            .arg(dec->width)
            .arg(dec->height)
            .arg(int(dec->pix_fmt))
            .arg(stream->time_base.num)
            .arg(stream->time_base.den)
            .arg(sar.num)
            .arg(sar.den)
            .arg(m_frameRate.num)
            .arg(m_frameRate.den);
    auto chain = makeChain("buffer", sourceArgs, "buffersink", filters.join(u','));
    if (auto *e = ff::errorOf(chain))
        return *e;
    m_videoChain = std::move(std::get<FilterChain>(chain));

    // The encoder, opened now so that a refusal is an error before any work is done.
    const AVCodec *codec = avcodec_find_encoder_by_name(vp.encoder.toUtf8().constData());
    if (!codec)
        return Error{errors::UnsupportedCodec, QStringLiteral("This FFmpeg has no %1 encoder.").arg(vp.encoder)};
    m_videoEncoder.reset(avcodec_alloc_context3(codec));
    AVCodecContext *enc = m_videoEncoder.get();
    enc->width = av_buffersink_get_w(m_videoChain.sink);
    enc->height = av_buffersink_get_h(m_videoChain.sink);
    enc->pix_fmt = AVPixelFormat(av_buffersink_get_format(m_videoChain.sink));
    enc->sample_aspect_ratio = av_buffersink_get_sample_aspect_ratio(m_videoChain.sink);
    enc->framerate = m_frameRate;
    enc->time_base = av_inv_q(m_frameRate);
    enc->color_primaries = dec->color_primaries;
    enc->color_trc = dec->color_trc;
    enc->colorspace = dec->colorspace;
    enc->chroma_sample_location = dec->chroma_sample_location;
    // swscale turns full-range "J" formats into limited range when converting to a non-J format.
    enc->color_range =
        isFullRangeFormat(dec->pix_fmt) && !isFullRangeFormat(enc->pix_fmt) ? AVCOL_RANGE_MPEG : dec->color_range;
    enc->thread_count = 0; // all cores; the default of 1 would make this far slower than the CLI
    if (vp.bitRate > 0)
        enc->bit_rate = vp.bitRate;
    if (vp.keyframeInterval > 0)
        enc->gop_size = std::max(1, int(std::lround(vp.keyframeInterval * av_q2d(m_frameRate))));

    AVDictionary *raw = nullptr;
    for (auto it = vp.options.begin(); it != vp.options.end(); ++it)
        av_dict_set(&raw, it.key().toUtf8().constData(), it.value().toUtf8().constData(), 0);
    const std::optional<double> quality = m_settings.quality ? m_settings.quality : vp.quality;
    if (quality && !vp.qualityOption.isEmpty()) {
        if (vp.qualityOption == u"qscale") {
            enc->flags |= AV_CODEC_FLAG_QSCALE;
            enc->global_quality = int(std::lround(*quality * FF_QP2LAMBDA));
        } else {
            av_dict_set(&raw, vp.qualityOption.toUtf8().constData(), QByteArray::number(*quality).constData(), 0);
        }
    }
    std::unique_ptr<AVDictionary, DictionaryDeleter> options(raw);
    if (m_output->oformat->flags & AVFMT_GLOBALHEADER)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (vp.encoder == u"libsvtav1") {
        // SVT-AV1 prints a banner and its settings to stderr (over clipdeck-cli's progress bar)
        // unless its SVT_LOG variable says otherwise; FFmpeg has no option for it. Set once,
        // and only when the user has not chosen a level.
        static std::once_flag once;
        std::call_once(once, [] {
            if (qEnvironmentVariableIsEmpty("SVT_LOG"))
                qputenv("SVT_LOG", "1"); // errors only
        });
    }

    raw = options.release();
    int rc = avcodec_open2(enc, codec, &raw);
    options.reset(raw);
    if (rc < 0) {
        return Error{errors::EncoderFailed,
                     QStringLiteral("The %1 encoder refused the settings for a %2×%3 video (%4).")
                         .arg(vp.encoder)
                         .arg(enc->width)
                         .arg(enc->height)
                         .arg(ff::averrorText(rc))};
    }
    if (const AVDictionaryEntry *left = av_dict_get(options.get(), "", nullptr, AV_DICT_IGNORE_SUFFIX)) {
        return Error{errors::EncoderFailed, QStringLiteral("The %1 encoder does not take the preset's option '%2'.")
                                                .arg(vp.encoder, QString::fromUtf8(left->key))};
    }

    m_videoOut = avformat_new_stream(m_output.get(), nullptr);
    if (!m_videoOut)
        return Error{errors::Internal, QStringLiteral("Out of memory adding the video stream.")};
    rc = avcodec_parameters_from_context(m_videoOut->codecpar, enc);
    if (rc < 0)
        return Error{errors::Internal,
                     QStringLiteral("Cannot describe the video stream (%1).").arg(ff::averrorText(rc))};
    if (!vp.codecTag.isEmpty()) {
        const QByteArray t = vp.codecTag.toLatin1();
        m_videoOut->codecpar->codec_tag = MKTAG(t[0], t[1], t[2], t[3]);
    }
    m_videoOut->time_base = enc->time_base;
    m_videoOut->avg_frame_rate = m_frameRate;
    if (const AVDictionaryEntry *lang = av_dict_get(stream->metadata, "language", nullptr, 0))
        av_dict_set(&m_videoOut->metadata, "language", lang->value, 0);
    return std::nullopt;
}

std::optional<Error> Transcoder::setupAudio()
{
    const AudioPreset &ap = *m_settings.preset.audio;
    AVStream *stream = m_input->streams[m_audioIndex];
    const AVCodecContext *dec = m_audioDecoder.get();
    if (dec->sample_rate <= 0 || dec->sample_fmt == AV_SAMPLE_FMT_NONE || dec->ch_layout.nb_channels <= 0)
        return Error{errors::CorruptStream,
                     QStringLiteral("The audio's format cannot be determined; the file may be damaged.")};

    const AVCodec *codec = avcodec_find_encoder_by_name(ap.encoder.toUtf8().constData());
    if (!codec)
        return Error{errors::UnsupportedCodec, QStringLiteral("This FFmpeg has no %1 encoder.").arg(ap.encoder)};
    m_audioEncoder.reset(avcodec_alloc_context3(codec));
    AVCodecContext *enc = m_audioEncoder.get();

    AVChannelLayout inLayout = nativeLayout(dec->ch_layout);
    const int channels = std::min(inLayout.nb_channels, ap.channels);
    av_channel_layout_default(&enc->ch_layout, channels);
    enc->sample_rate = ap.sampleRate;
    enc->sample_fmt = chooseSampleFormat(codec, dec->sample_fmt);
    enc->time_base = AVRational{1, enc->sample_rate};
    enc->thread_count = 0;
    if (ap.bitRate > 0)
        enc->bit_rate = ap.bitRate;
    if (m_output->oformat->flags & AVFMT_GLOBALHEADER)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *raw = nullptr;
    for (auto it = ap.options.begin(); it != ap.options.end(); ++it)
        av_dict_set(&raw, it.key().toUtf8().constData(), it.value().toUtf8().constData(), 0);
    int rc = avcodec_open2(enc, codec, &raw);
    std::unique_ptr<AVDictionary, DictionaryDeleter> options(raw);
    if (rc < 0) {
        av_channel_layout_uninit(&inLayout);
        return Error{errors::EncoderFailed, QStringLiteral("The %1 encoder refused %2 Hz, %3 channels (%4).")
                                                .arg(ap.encoder)
                                                .arg(enc->sample_rate)
                                                .arg(channels)
                                                .arg(ff::averrorText(rc))};
    }

    av_channel_layout_uninit(&inLayout);
    // Source timeline in samples; trimming on it is sample-exact. The chain itself is built
    // from the first decoded frame (audioLoop): only then is the decoded format certain.
    QStringList filters;
    if (m_settings.in > 0 || m_trimEndSeconds) {
        QString trim = QStringLiteral("atrim=start=0");
        if (m_trimEndSeconds)
            trim += QStringLiteral(":end=%1").arg(*m_trimEndSeconds, 0, 'f', 6);
        filters << trim;
    }
    filters << QStringLiteral("aresample=%1").arg(enc->sample_rate)
            << QStringLiteral("aformat=sample_fmts=%1:sample_rates=%2:channel_layouts=%3")
                   .arg(QString::fromUtf8(av_get_sample_fmt_name(enc->sample_fmt)))
                   .arg(enc->sample_rate)
                   .arg(layoutName(enc->ch_layout));
    m_audioFilters = filters.join(u',');

    m_audioOut = avformat_new_stream(m_output.get(), nullptr);
    if (!m_audioOut)
        return Error{errors::Internal, QStringLiteral("Out of memory adding the audio stream.")};
    rc = avcodec_parameters_from_context(m_audioOut->codecpar, enc);
    if (rc < 0)
        return Error{errors::Internal,
                     QStringLiteral("Cannot describe the audio stream (%1).").arg(ff::averrorText(rc))};
    m_audioOut->time_base = enc->time_base;
    if (const AVDictionaryEntry *lang = av_dict_get(stream->metadata, "language", nullptr, 0))
        av_dict_set(&m_audioOut->metadata, "language", lang->value, 0);
    return std::nullopt;
}

std::optional<Error> Transcoder::openOutput()
{
    const Preset &preset = m_settings.preset;
    auto reserved = OutputFile::reserve(m_request.outputDir, m_request.baseName, u'.' + preset.extension);
    if (auto *e = ff::errorOf(reserved))
        return *e;
    m_file.emplace(std::move(std::get<OutputFile>(reserved)));

    AVFormatContext *raw = nullptr;
    const QByteArray path = QFile::encodeName(m_file->temporaryPath());
    int rc = avformat_alloc_output_context2(&raw, nullptr, preset.format.toUtf8().constData(), path.constData());
    if (rc < 0 || !raw) {
        return Error{errors::Internal,
                     QStringLiteral("Cannot create a %1 file (%2).").arg(preset.format, ff::averrorText(rc))};
    }
    m_output.reset(raw);
    auto io = OutputIO::open(m_file->temporaryPath());
    if (auto *e = ff::errorOf(io))
        return *e;
    m_io = std::move(std::get<std::unique_ptr<OutputIO>>(io));
    m_output->pb = m_io->context();
    // Keep the source's descriptive tags (title, creation time ...), as the ffmpeg CLI does.
    av_dict_copy(&m_output->metadata, m_input->metadata, 0);
    return std::nullopt;
}

std::optional<Error> Transcoder::seekToIn()
{
    if (m_settings.in <= 0)
        return std::nullopt;
    // Index entries hold decode times, which run ahead of presentation times by the reorder
    // delay: aim that much earlier so the keyframe found is at or before `in` on screen too.
    int64_t target = m_offsetUs;
    if (m_videoIndex >= 0) {
        const AVCodecParameters *par = m_input->streams[m_videoIndex]->codecpar;
        const int reorder = std::max(par->video_delay, 2) + 1;
        target -= int64_t(reorder * AV_TIME_BASE / av_q2d(m_sourceFrameRate));
    }
    const int rc = avformat_seek_file(m_input.get(), -1, std::numeric_limits<int64_t>::min(), target, target, 0);
    if (rc < 0) {
        // Not seekable: decode from the start instead; frames before `in` are dropped all the same.
        avformat_seek_file(m_input.get(), -1, std::numeric_limits<int64_t>::min(), 0, 0, 0);
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Stage threads

void Transcoder::demuxLoop()
{
    AVFormatContext *fmt = m_input.get();
    const bool video = m_videoIndex >= 0;
    const bool audio = m_audioIndex >= 0;
    bool videoOpen = video;
    bool audioOpen = audio;
    ff::Packet packet = ff::makePacket();
    while (!stopping() && (videoOpen || audioOpen)) {
        if (videoOpen && m_videoDone)
            videoOpen = false;
        if (audioOpen && m_audioDone)
            audioOpen = false;
        const int rc = av_read_frame(fmt, packet.get());
        if (rc == AVERROR(EAGAIN)) {
            std::this_thread::sleep_for(5ms);
            continue;
        }
        if (rc < 0) {
            // EOF, or a read error at a truncated or damaged tail: the stream ends here; what
            // was decoded stays good, and checkComplete() decides whether enough of it came.
            if (rc != AVERROR_EOF)
                m_readError = rc;
            break;
        }
        if (packet->pos > 0)
            m_inputPosition = packet->pos;
        if (videoOpen && packet->stream_index == m_videoIndex) {
            videoOpen = m_videoPackets.push(std::move(packet));
            packet = ff::makePacket();
        } else if (audioOpen && packet->stream_index == m_audioIndex) {
            audioOpen = m_audioPackets.push(std::move(packet));
            packet = ff::makePacket();
        } else {
            av_packet_unref(packet.get());
        }
    }
    m_videoPackets.close();
    m_audioPackets.close();
}

void Transcoder::videoDecodeLoop()
{
    AVCodecContext *dec = m_videoDecoder.get();
    const AVRational tb = m_videoSourceTimeBase;
    const int64_t offset = m_videoOffsetTicks;
    const int64_t end = m_videoEndTicks;
    const int64_t nominalDuration = m_videoFrameTicks;
    // Cuts fall on frame times (planTimeline); half a frame of slack absorbs timestamps that are
    // a tick off the grid (rounded time bases, 29.97 fps) without letting a neighbour in.
    const int64_t slack = nominalDuration / 2;
    int64_t lastEnd = 0;
    int64_t lastPts = AV_NOPTS_VALUE;
    int64_t packets = 0;
    bool done = false;

    // Takes every frame the decoder has ready; false when the pipeline must stop.
    auto drain = [&]() -> bool {
        for (;;) {
            ff::Frame frame = ff::makeFrame();
            const int rc = avcodec_receive_frame(dec, frame.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return true;
            if (rc < 0) {
                if (badPacket(m_videoBad, packets)) {
                    fail(ff::decodeError(rc, QStringLiteral("The video")));
                    return false;
                }
                continue;
            }
            if (frame->decode_error_flags && badPacket(m_videoBad, packets)) {
                fail(Error{errors::CorruptStream,
                           QStringLiteral("The video is damaged around %1 s; it cannot be decoded cleanly.")
                               .arg(ff::toSeconds(frame->best_effort_timestamp, tb), 0, 'f', 1)});
                return false;
            }
            int64_t ts = frame->best_effort_timestamp;
            if (ts == AV_NOPTS_VALUE)
                ts = lastPts == AV_NOPTS_VALUE ? offset : lastPts + nominalDuration;
            lastPts = ts;
            int64_t pts = ts - offset;
            if (pts < -slack)
                continue; // decoded from the keyframe before `in`: not part of the output
            pts = std::max<int64_t>(0, pts);
            if (end != std::numeric_limits<int64_t>::max() && pts >= end - slack) {
                done = true; // frames come in presentation order: nothing later belongs in
                return true;
            }
            const int64_t duration = frameDuration(frame.get()) > 0 ? frameDuration(frame.get()) : nominalDuration;
            lastEnd = std::max(lastEnd, pts + duration);
            frame->pts = pts;
            ++m_videoFramesDecoded;
            m_videoDecodedEnd = ff::toSeconds(lastEnd, tb);
            if (!m_decodedFrames.push(std::move(frame)))
                return false;
        }
    };

    while (!done) {
        std::optional<ff::Packet> packet = m_videoPackets.pop();
        if (!packet)
            break;
        ++packets;
        int rc = avcodec_send_packet(dec, packet->get());
        while (rc == AVERROR(EAGAIN)) { // the decoder is full: take its frames and retry
            if (!drain())
                return;
            rc = avcodec_send_packet(dec, packet->get());
        }
        if (rc < 0 && rc != AVERROR_EOF && badPacket(m_videoBad, packets)) {
            fail(ff::decodeError(rc, QStringLiteral("The video")));
            return;
        }
        if (!drain())
            return;
    }
    if (stopping())
        return;
    if (done) {
        m_videoDone = true;
        m_videoPackets.abort(); // the demuxer need not read any more video
    } else {
        avcodec_send_packet(dec, nullptr); // flush the frames the decoder still holds
        if (!drain())
            return;
    }
    // Where the filter's fps conversion ends: at `out` when the source reaches it.
    const int64_t eof = end != std::numeric_limits<int64_t>::max() && done ? end : lastEnd;
    m_videoEofPts = eof;
    m_decodedFrames.close();
}

bool Transcoder::filterVideo(AVFrame *f, const std::function<bool(ff::Frame)> &deliver)
{
    int rc = 0;
    if (f) {
        if (f->width != m_sourceWidth || f->height != m_sourceHeight || f->format != m_sourceFormat) {
            // A stream that changes size or format part-way: back to what the chain was built for.
            const AVFrame *converted = m_resizer.convert(f, m_sourceWidth, m_sourceHeight, m_sourceFormat);
            if (!converted) {
                fail(Error{errors::CorruptStream,
                           QStringLiteral("The video changes to a size that cannot be converted.")});
                return false;
            }
            // The scaler reuses its buffer and the filters may hold frames: give them a copy.
            ff::Frame copy = ff::makeFrame();
            copy->width = converted->width;
            copy->height = converted->height;
            copy->format = converted->format;
            rc = av_frame_get_buffer(copy.get(), 0);
            if (rc >= 0)
                rc = av_frame_copy(copy.get(), converted);
            if (rc >= 0) {
                av_frame_copy_props(copy.get(), f);
                rc = av_buffersrc_add_frame_flags(m_videoChain.source, copy.get(), 0);
            }
        } else {
            rc = av_buffersrc_add_frame_flags(m_videoChain.source, f, 0);
        }
    } else {
        rc = av_buffersrc_close(m_videoChain.source, m_videoEofPts, AV_BUFFERSRC_FLAG_PUSH);
    }
    for (;;) {
        if (rc < 0) {
            fail(Error{errors::Internal, QStringLiteral("Filtering the video failed (%1).").arg(ff::averrorText(rc))});
            return false;
        }
        ff::Frame out = ff::makeFrame();
        rc = av_buffersink_get_frame(m_videoChain.sink, out.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return true;
        if (rc >= 0 && !deliver(std::move(out)))
            return false;
    }
}

void Transcoder::videoFilterLoop()
{
    const auto deliver = [this](ff::Frame frame) { return m_filteredFrames.push(std::move(frame)); };
    while (std::optional<ff::Frame> frame = m_decodedFrames.pop()) {
        if (!filterVideo(frame->get(), deliver))
            return;
    }
    if (stopping() || !filterVideo(nullptr, deliver))
        return;
    m_filteredFrames.close();
}

void Transcoder::videoEncodeLoop()
{
    AVCodecContext *enc = m_videoEncoder.get();
    const AVRational sinkTb = av_buffersink_get_time_base(m_videoChain.sink);

    auto receive = [&]() -> bool {
        for (;;) {
            ff::Packet packet = ff::makePacket();
            const int rc = avcodec_receive_packet(enc, packet.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return true;
            if (rc < 0) {
                fail(Error{errors::EncoderFailed, QStringLiteral("The %1 encoder failed (%2).")
                                                      .arg(QString::fromUtf8(enc->codec->name), ff::averrorText(rc))});
                return false;
            }
            if (packet->duration <= 0)
                packet->duration = std::max<int64_t>(1, av_rescale_q(1, av_inv_q(enc->framerate), enc->time_base));
            av_packet_rescale_ts(packet.get(), enc->time_base, m_videoOut->time_base);
            packet->stream_index = m_videoOut->index;
            if (!m_muxQueue.push(std::move(packet)))
                return false;
        }
    };
    auto send = [&](AVFrame *frame) -> bool {
        if (frame) {
            frame->pts = av_rescale_q(frame->pts, sinkTb, enc->time_base);
            frame->pict_type = AV_PICTURE_TYPE_NONE; // the encoder chooses; no decoder decision carries over
        }
        int rc = avcodec_send_frame(enc, frame);
        while (rc == AVERROR(EAGAIN)) {
            if (!receive())
                return false;
            rc = avcodec_send_frame(enc, frame);
        }
        if (rc < 0 && rc != AVERROR_EOF) {
            fail(Error{errors::EncoderFailed, QStringLiteral("The %1 encoder failed (%2).")
                                                  .arg(QString::fromUtf8(enc->codec->name), ff::averrorText(rc))});
            return false;
        }
        return receive();
    };

    if (m_filterInline) {
        // Nothing to scale or convert: the filters only pass frames on (and keep the rate), so a
        // thread of their own would cost a hand-off per frame and buy no overlap.
        const auto deliver = [&](ff::Frame frame) { return send(frame.get()); };
        while (std::optional<ff::Frame> frame = m_decodedFrames.pop()) {
            if (!filterVideo(frame->get(), deliver))
                return;
        }
        if (stopping() || !filterVideo(nullptr, deliver))
            return;
    } else {
        while (std::optional<ff::Frame> frame = m_filteredFrames.pop()) {
            if (!send(frame->get()))
                return;
        }
    }
    if (stopping() || !send(nullptr))
        return;
    producerDone();
}

void Transcoder::audioLoop()
{
    AVCodecContext *dec = m_audioDecoder.get();
    AVCodecContext *enc = m_audioEncoder.get();
    const AVRational streamTb = m_input->streams[m_audioIndex]->time_base;
    const int64_t offset = av_rescale_q(m_offsetUs, AV_TIME_BASE_Q, streamTb);
    const int64_t endUs =
        m_trimEndSeconds ? std::llround(*m_trimEndSeconds * AV_TIME_BASE) : std::numeric_limits<int64_t>::max();
    // The chain is (re)built for the format of the frames it gets: decoders may only settle on
    // their format with the first frame, and some streams change it part-way.
    FilterChain chain;
    int chainRate = 0;
    int chainFormat = -1;
    AVChannelLayout chainLayout{};
    int64_t nextPts = AV_NOPTS_VALUE; // in the chain's samples, after shifting
    int64_t packets = 0;
    bool done = false;

    auto failEncoder = [&](int rc) {
        fail(Error{errors::EncoderFailed, QStringLiteral("The %1 encoder failed (%2).")
                                              .arg(QString::fromUtf8(enc->codec->name), ff::averrorText(rc))});
    };
    auto receivePackets = [&]() -> bool {
        for (;;) {
            ff::Packet packet = ff::makePacket();
            const int rc = avcodec_receive_packet(enc, packet.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return true;
            if (rc < 0) {
                failEncoder(rc);
                return false;
            }
            av_packet_rescale_ts(packet.get(), enc->time_base, m_audioOut->time_base);
            packet->stream_index = m_audioOut->index;
            if (!m_muxQueue.push(std::move(packet)))
                return false;
        }
    };
    auto encode = [&](AVFrame *frame) -> bool {
        int rc = avcodec_send_frame(enc, frame);
        while (rc == AVERROR(EAGAIN)) {
            if (!receivePackets())
                return false;
            rc = avcodec_send_frame(enc, frame);
        }
        if (rc < 0 && rc != AVERROR_EOF) {
            failEncoder(rc);
            return false;
        }
        return receivePackets();
    };
    auto pullFiltered = [&]() -> bool {
        const AVRational sinkTb = av_buffersink_get_time_base(chain.sink);
        for (;;) {
            ff::Frame out = ff::makeFrame();
            const int rc = av_buffersink_get_frame(chain.sink, out.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return true;
            if (rc < 0) {
                fail(Error{errors::Internal,
                           QStringLiteral("Converting the audio failed (%1).").arg(ff::averrorText(rc))});
                return false;
            }
            out->pts = av_rescale_q(out->pts, sinkTb, enc->time_base);
            if (!encode(out.get()))
                return false;
        }
    };
    auto closeChain = [&](int64_t eofPts) -> bool {
        if (!chain.graph)
            return true;
        av_buffersrc_close(chain.source, eofPts, AV_BUFFERSRC_FLAG_PUSH);
        return pullFiltered();
    };
    auto openChain = [&](const AVFrame *frame) -> bool {
        const QString args = QStringLiteral("time_base=1/%1:sample_rate=%1:sample_fmt=%2:channel_layout=%3")
                                 .arg(frame->sample_rate)
                                 .arg(QString::fromUtf8(av_get_sample_fmt_name(AVSampleFormat(frame->format))),
                                      layoutName(frame->ch_layout));
        auto made = makeChain("abuffer", args, "abuffersink", m_audioFilters);
        if (auto *e = ff::errorOf(made)) {
            fail(*e);
            return false;
        }
        chain = std::move(std::get<FilterChain>(made));
        // Encoders with a fixed frame size (AAC: 1024, Opus: 960) get exactly that many samples.
        if (enc->frame_size > 0 && !(enc->codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE))
            av_buffersink_set_frame_size(chain.sink, unsigned(enc->frame_size));
        chainRate = frame->sample_rate;
        chainFormat = frame->format;
        av_channel_layout_uninit(&chainLayout);
        av_channel_layout_copy(&chainLayout, &frame->ch_layout);
        return true;
    };
    auto drainDecoder = [&]() -> bool {
        for (;;) {
            ff::Frame frame = ff::makeFrame();
            const int rc = avcodec_receive_frame(dec, frame.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return true;
            if (rc < 0) {
                if (badPacket(m_audioBad, packets)) {
                    fail(ff::decodeError(rc, QStringLiteral("The audio")));
                    return false;
                }
                continue;
            }
            if (frame->sample_rate <= 0 || frame->nb_samples <= 0 || frame->ch_layout.nb_channels <= 0)
                continue;
            if (frame->ch_layout.order != AV_CHANNEL_ORDER_NATIVE
                && frame->ch_layout.order != AV_CHANNEL_ORDER_AMBISONIC) {
                const int n = frame->ch_layout.nb_channels;
                av_channel_layout_uninit(&frame->ch_layout);
                av_channel_layout_default(&frame->ch_layout, n);
            }
            const AVRational rateTb{1, frame->sample_rate};
            int64_t pts = frame->best_effort_timestamp;
            if (pts != AV_NOPTS_VALUE)
                pts = av_rescale_q(pts - offset, streamTb, rateTb);
            else
                pts = nextPts == AV_NOPTS_VALUE ? 0
                                                : av_rescale_q(nextPts, AVRational{1, std::max(1, chainRate)}, rateTb);
            const int64_t end =
                endUs == std::numeric_limits<int64_t>::max() ? endUs : av_rescale_q(endUs, AV_TIME_BASE_Q, rateTb);
            if (pts + frame->nb_samples <= 0)
                continue; // wholly before `in`
            if (pts >= end) {
                done = true;
                return true;
            }
            if (!chain.graph || frame->sample_rate != chainRate || frame->format != chainFormat
                || av_channel_layout_compare(&frame->ch_layout, &chainLayout) != 0) {
                if (!closeChain(pts) || !openChain(frame.get()))
                    return false;
            }
            frame->pts = pts;
            nextPts = pts + frame->nb_samples;
            ++m_audioFramesDecoded;
            m_audioDecodedEnd = double(std::min(nextPts, end)) / frame->sample_rate;
            const int added = av_buffersrc_add_frame_flags(chain.source, frame.get(), 0);
            if (added < 0) {
                fail(Error{errors::Internal,
                           QStringLiteral("Converting the audio failed (%1).").arg(ff::averrorText(added))});
                return false;
            }
            if (!pullFiltered())
                return false;
        }
    };
    auto run = [&]() -> bool {
        while (!done) {
            std::optional<ff::Packet> packet = m_audioPackets.pop();
            if (!packet)
                break;
            ++packets;
            int rc = avcodec_send_packet(dec, packet->get());
            while (rc == AVERROR(EAGAIN)) {
                if (!drainDecoder())
                    return false;
                rc = avcodec_send_packet(dec, packet->get());
            }
            if (rc < 0 && rc != AVERROR_EOF && badPacket(m_audioBad, packets)) {
                fail(ff::decodeError(rc, QStringLiteral("The audio")));
                return false;
            }
            if (!drainDecoder())
                return false;
        }
        if (stopping())
            return false;
        if (done) {
            m_audioDone = true;
            m_audioPackets.abort(); // the demuxer need not read any more audio
        } else {
            avcodec_send_packet(dec, nullptr);
            if (!drainDecoder())
                return false;
        }
        int64_t eof = nextPts == AV_NOPTS_VALUE ? 0 : nextPts;
        if (endUs != std::numeric_limits<int64_t>::max() && chainRate > 0)
            eof = std::min(eof, av_rescale_q(endUs, AV_TIME_BASE_Q, AVRational{1, chainRate}));
        return closeChain(eof) && encode(nullptr);
    };
    const bool ok = run();
    av_channel_layout_uninit(&chainLayout);
    if (ok)
        producerDone();
}

// ---------------------------------------------------------------------------------------------
// Muxing, progress and the end

Progress Transcoder::encodingProgress()
{
    const auto now = Clock::now();
    m_rateWindow.emplace_back(now, m_videoOut ? m_videoPacketsMuxed : m_packetsMuxed);
    while (m_rateWindow.size() > 2 && now - m_rateWindow.front().first > 1s)
        m_rateWindow.pop_front();
    double fps = 0;
    if (m_videoOut && m_rateWindow.size() >= 2) {
        const double seconds = std::chrono::duration<double>(now - m_rateWindow.front().first).count();
        if (seconds > 0.05)
            fps = double(m_rateWindow.back().second - m_rateWindow.front().second) / seconds;
    }
    double fraction = 0;
    if (m_rangeSeconds > 0) {
        fraction = std::min(1.0, m_mediaSeconds / m_rangeSeconds);
    } else if (m_input->pb) {
        const int64_t size = avio_size(m_input->pb);
        if (size > 0)
            fraction = std::min(1.0, double(m_inputPosition) / double(size));
    }
    m_lastFraction = std::max(m_lastFraction, EncodingShare * fraction);
    return Progress{m_lastFraction, QStringLiteral("encoding"), fps, m_mediaSeconds};
}

std::optional<Error> Transcoder::muxUntilDone()
{
    AVFormatContext *out = m_output.get();
    const int primary = m_videoOut ? m_videoOut->index : m_audioOut->index;
    for (;;) {
        ff::Packet packet;
        const auto wait = m_muxQueue.popFor(packet, 20ms);
        if (wait == BoundedQueue<ff::Packet>::Wait::End)
            break;
        if (wait == BoundedQueue<ff::Packet>::Wait::Item) {
            const AVStream *stream = out->streams[packet->stream_index];
            if (packet->stream_index == primary && packet->pts != AV_NOPTS_VALUE) {
                m_mediaSeconds =
                    std::max(m_mediaSeconds, ff::toSeconds(packet->pts + packet->duration, stream->time_base));
            }
            ++m_packetsMuxed;
            if (m_videoOut && packet->stream_index == m_videoOut->index)
                ++m_videoPacketsMuxed;
            const int rc = av_interleaved_write_frame(out, packet.get());
            if (rc < 0) {
                fail(writeFailure(rc));
                break;
            }
        }
        if (Clock::now() - m_lastCheckpoint >= CheckpointInterval && !report(encodingProgress())) {
            stopAll();
            return canceled();
        }
    }
    joinAll();
    std::lock_guard lock(m_errorMutex);
    return m_error;
}

std::optional<Error> Transcoder::checkComplete() const
{
    const bool video = m_videoOut != nullptr;
    if ((video ? m_videoFramesDecoded : m_audioFramesDecoded) == 0) {
        return Error{errors::CorruptStream, QStringLiteral("No %1 could be decoded from %2; the file is damaged.")
                                                .arg(video ? QStringLiteral("video frame") : QStringLiteral("audio"),
                                                     QFileInfo(m_request.inputPath).fileName())};
    }
    // A file cut short (an interrupted copy or download) still has a header that promises the
    // whole duration; exporting the stub silently would lose the rest.
    if (m_expectedSeconds > 0) {
        const double reached = video ? m_videoDecodedEnd.load() : m_audioDecodedEnd.load();
        const double slack = std::max(1.0, 0.05 * m_expectedSeconds);
        if (reached < m_expectedSeconds - slack) {
            QString why = QStringLiteral("%1 ends after %2 s of the expected %3 s: it is truncated or damaged")
                              .arg(QFileInfo(m_request.inputPath).fileName())
                              .arg(m_settings.in + reached, 0, 'f', 1)
                              .arg(m_settings.in + m_expectedSeconds, 0, 'f', 1);
            if (m_readError)
                why += QStringLiteral(" (%1)").arg(ff::averrorText(m_readError));
            return Error{errors::CorruptStream, why + u'.'};
        }
    }
    return std::nullopt;
}

std::optional<Error> Transcoder::finalise()
{
    // The trailer writes the index; with +faststart the muxer then moves the whole file up to
    // put the index first. Every write of that passes through OutputIO's hook: progress, and
    // the chance to pause or cancel, until the last byte.
    const double totalBytes = std::max<qint64>(1, m_io->size());
    bool canceledHere = false;
    if (!report(Progress{EncodingShare, QStringLiteral("finalising"), 0, m_mediaSeconds}))
        return canceled();
    m_io->setWriteHook([&](qint64 written) {
        if (Clock::now() - m_lastCheckpoint < CheckpointInterval)
            return true;
        const double share = std::min(1.0, double(written) / totalBytes);
        const double fraction = std::max(m_lastFraction, EncodingShare + (1 - EncodingShare) * share);
        m_lastFraction = std::min(fraction, 0.999);
        if (!report(Progress{m_lastFraction, QStringLiteral("finalising"), 0, m_mediaSeconds})) {
            canceledHere = true;
            return false;
        }
        return true;
    });
    const int rc = av_write_trailer(m_output.get());
    m_io->setWriteHook({});
    if (canceledHere)
        return canceled();
    if (rc < 0)
        return writeFailure(rc);
    if (const int err = m_io->close())
        return ff::writeError(AVERROR(err), QFileInfo(m_file->finalPath()).fileName());
    if (!report(Progress{1.0, QStringLiteral("finalising"), 0, m_mediaSeconds}))
        return canceled();
    return std::nullopt;
}

Result Transcoder::run()
{
    auto failed = [](const Error &e) { return Result{e, {}}; };
    if (!report(Progress{0, QStringLiteral("analysing"), 0, 0}))
        return failed(canceled());
    if (auto e = openSource())
        return failed(*e);
    if (auto e = openOutput())
        return failed(*e);
    if (m_videoIndex >= 0) {
        if (auto e = setupVideo())
            return failed(*e);
    }
    if (m_audioIndex >= 0) {
        if (auto e = setupAudio())
            return failed(*e);
    }
    if (auto e = seekToIn())
        return failed(*e);

    AVDictionary *raw = nullptr;
    if (m_settings.preset.faststart)
        av_dict_set(&raw, "movflags", "+faststart", 0);
    int rc = avformat_write_header(m_output.get(), &raw);
    av_dict_free(&raw);
    if (rc < 0)
        return failed(writeFailure(rc));
    if (!report(Progress{0, QStringLiteral("encoding"), 0, 0}))
        return failed(canceled());

    m_muxProducers = (m_videoOut ? 1 : 0) + (m_audioOut ? 1 : 0);
    m_threads.emplace_back([this] { demuxLoop(); });
    if (m_videoOut) {
        m_threads.emplace_back([this] { videoDecodeLoop(); });
        if (!m_filterInline)
            m_threads.emplace_back([this] { videoFilterLoop(); });
        m_threads.emplace_back([this] { videoEncodeLoop(); });
    }
    if (m_audioOut)
        m_threads.emplace_back([this] { audioLoop(); });

    if (auto e = muxUntilDone())
        return failed(*e);
    if (auto e = checkComplete())
        return failed(*e);
    if (auto e = finalise())
        return failed(*e);
    if (auto e = m_file->commit())
        return failed(*e);
    return Result{std::nullopt, {m_file->output(m_settings.preset.outputRole(), m_settings.preset.mimeType)}};
}

Result transcodeWith(const Request &request, Control &control, const QString &defaultPreset)
{
    auto settings = readSettings(request.params, defaultPreset);
    if (auto *e = std::get_if<Error>(&settings))
        return Result{*e, {}};
    ff::initialise();
    Transcoder transcoder(request, control, std::get<Settings>(std::move(settings)));
    return transcoder.run();
}

} // namespace

std::optional<Error> validateTranscode(const QVariantMap &params)
{
    auto s = readSettings(params, QStringLiteral("web-h264"));
    if (auto *e = std::get_if<Error>(&s))
        return *e;
    return std::nullopt;
}

Result runTranscode(const Request &request, Control &control)
{
    return transcodeWith(request, control, QStringLiteral("web-h264"));
}

std::optional<Error> validateProxy(const QVariantMap &params)
{
    auto s = readSettings(params, QStringLiteral("proxy-540p"));
    if (auto *e = std::get_if<Error>(&s))
        return *e;
    return std::nullopt;
}

Result runProxy(const Request &request, Control &control)
{
    return transcodeWith(request, control, QStringLiteral("proxy-540p"));
}

} // namespace clipdeck::media
