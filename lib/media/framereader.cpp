#include "media/framereader.h"

#include "media/ffmpeg_p.h"
#include "media/framecache_p.h"
#include "media/frameindex_p.h"
#include "media/probe_p.h"

extern "C" {
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <QFileInfo>

#include <cmath>
#include <limits>
#include <mutex>

namespace clipdeck::media {

namespace {

// A damaged stream may still have good pictures after a bad patch: give up on a request only
// after this many packets or pictures in a row fail.
constexpr int MaxConsecutiveFailures = 200;
// A target in the GOP after the one being decoded is reached by decoding on, rather than by a
// seek, when at most this many packets precede its keyframe.
constexpr qint64 DecodeOnWindow = 8;
// A keyframe found this many packets past a seek's landing point means the seek went wrong.
constexpr int MaxPacketsToKeyframe = 100000;

struct AVFrameDeleter
{
    void operator()(AVFrame *f) const { av_frame_free(&f); }
};

std::shared_ptr<AVFrame> sharedFrame(AVFrame *f)
{
    return std::shared_ptr<AVFrame>(f, AVFrameDeleter());
}

// How a decoder's pixel format is delivered: as is (possibly relabelled) or converted.
struct Delivery
{
    PixelFormat format = PixelFormat::Yuv420P;
    AVPixelFormat target = AV_PIX_FMT_NONE;  // what to convert to; AV_PIX_FMT_NONE: deliver as is
    AVPixelFormat relabel = AV_PIX_FMT_NONE; // same memory layout under another name (yuvj*)
};

Delivery deliveryFor(AVPixelFormat source)
{
    switch (source) {
    case AV_PIX_FMT_YUV420P: return {PixelFormat::Yuv420P};
    case AV_PIX_FMT_YUVJ420P: return {PixelFormat::Yuv420P, AV_PIX_FMT_NONE, AV_PIX_FMT_YUV420P};
    case AV_PIX_FMT_YUV422P: return {PixelFormat::Yuv422P};
    case AV_PIX_FMT_YUVJ422P: return {PixelFormat::Yuv422P, AV_PIX_FMT_NONE, AV_PIX_FMT_YUV422P};
    case AV_PIX_FMT_YUV420P10LE: return {PixelFormat::Yuv420P10};
    case AV_PIX_FMT_NV12: return {PixelFormat::Nv12};
    case AV_PIX_FMT_P010LE: return {PixelFormat::P010};
    case AV_PIX_FMT_GRAY8: return {PixelFormat::Gray8};
    case AV_PIX_FMT_RGBA: return {PixelFormat::Rgba8888};
    default: break;
    }
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(source);
    if (!desc || (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)))
        return {PixelFormat::Rgba8888, AV_PIX_FMT_RGBA};
    if (desc->nb_components <= 2) // grey, grey + alpha
        return {PixelFormat::Gray8, AV_PIX_FMT_GRAY8};
    if (desc->log2_chroma_w == 1 && desc->log2_chroma_h == 1) {
        if (desc->comp[0].depth > 8)
            return {PixelFormat::Yuv420P10, AV_PIX_FMT_YUV420P10LE};
        return {PixelFormat::Yuv420P, AV_PIX_FMT_YUV420P};
    }
    // 4:2:2 at any depth (ProRes 422 is 10-bit), 4:4:4, 4:1:1 (DV), 4:4:0: Qt 6.4 has no planar
    // 4:4:4 or 10-bit 4:2:2 layout; 8-bit 4:2:2 keeps the chroma of 4:2:2 sources whole.
    return {PixelFormat::Yuv422P, AV_PIX_FMT_YUV422P};
}

ColorSpace colorSpaceOf(AVColorSpace space)
{
    switch (space) {
    case AVCOL_SPC_BT709: return ColorSpace::Bt709;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
    case AVCOL_SPC_SMPTE240M: return ColorSpace::Bt601;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return ColorSpace::Bt2020;
    default: return ColorSpace::Unspecified;
    }
}

ColorTransfer colorTransferOf(AVColorTransferCharacteristic trc)
{
    switch (trc) {
    case AVCOL_TRC_UNSPECIFIED:
    case AVCOL_TRC_RESERVED0:
    case AVCOL_TRC_RESERVED: return ColorTransfer::Unspecified;
    case AVCOL_TRC_BT709:
    case AVCOL_TRC_SMPTE170M:
    case AVCOL_TRC_BT2020_10:
    case AVCOL_TRC_BT2020_12: return ColorTransfer::Bt709;
    case AVCOL_TRC_SMPTE2084: return ColorTransfer::Pq;
    case AVCOL_TRC_ARIB_STD_B67: return ColorTransfer::Hlg;
    default: return ColorTransfer::Other;
    }
}

ColorRange colorRangeOf(AVColorRange range)
{
    switch (range) {
    case AVCOL_RANGE_MPEG: return ColorRange::Limited;
    case AVCOL_RANGE_JPEG: return ColorRange::Full;
    default: return ColorRange::Unspecified;
    }
}

Rational rationalOf(AVRational r)
{
    return Rational{r.num, r.den};
}

Error canceled()
{
    return Error{errors::Canceled, QStringLiteral("A newer request replaced this one.")};
}

} // namespace

// --- DecodedFrame ---------------------------------------------------------------------------------

int64_t DecodedFrame::pts() const
{
    return m_frame ? m_frame->pts : AV_NOPTS_VALUE;
}

int DecodedFrame::width() const
{
    return m_frame ? m_frame->width : 0;
}

int DecodedFrame::height() const
{
    return m_frame ? m_frame->height : 0;
}

int DecodedFrame::planeCount() const
{
    return m_frame ? av_pix_fmt_count_planes(AVPixelFormat(m_frame->format)) : 0;
}

const uint8_t *DecodedFrame::bits(int plane) const
{
    return m_frame && plane >= 0 && plane < planeCount() ? m_frame->data[plane] : nullptr;
}

int DecodedFrame::bytesPerLine(int plane) const
{
    return m_frame && plane >= 0 && plane < planeCount() ? m_frame->linesize[plane] : 0;
}

int DecodedFrame::planeHeight(int plane) const
{
    if (!m_frame || plane < 0 || plane >= planeCount())
        return 0;
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(AVPixelFormat(m_frame->format));
    // Planes 1 and 2 of YUV layouts carry chroma (NV12/P010: one interleaved plane 1).
    if (plane == 0 || !desc || (desc->flags & AV_PIX_FMT_FLAG_RGB) || plane == 3)
        return m_frame->height;
    return AV_CEIL_RSHIFT(m_frame->height, desc->log2_chroma_h);
}

ColorSpace DecodedFrame::colorSpace() const
{
    return m_frame ? colorSpaceOf(m_frame->colorspace) : ColorSpace::Unspecified;
}

ColorTransfer DecodedFrame::colorTransfer() const
{
    return m_frame ? colorTransferOf(m_frame->color_trc) : ColorTransfer::Unspecified;
}

ColorRange DecodedFrame::colorRange() const
{
    return m_frame ? colorRangeOf(m_frame->color_range) : ColorRange::Unspecified;
}

// --- FrameReader ------------------------------------------------------------------------------------

struct FrameReader::Private
{
    explicit Private(const FrameReaderOptions &o) : options(o), cache(o.cacheBytes) { }
    ~Private()
    {
        scanner.reset(); // joins before the index and the input go
        sws_freeContext(sws);
    }

    // How decode() ended for one attempt.
    enum class Outcome {
        Found,          // the target picture is in `found`
        StartedTooLate, // the first picture from the start keyframe is past the target: start earlier
        Missing,        // the stream went past the target (or ended) without it
        IndexWrong,     // a picture's timestamp is not in the index
        Abandoned,
        Failed, // `failure`
    };

    std::optional<Error> seekTo(int k);
    Outcome decodeUntil(qint64 frame, int64_t target, const DecodeHooks &hooks, bool drainAtTarget = false);
    bool canDecodeOnTo(int k, int64_t target) const;
    // Keeps every picture from `frame`'s keyframe to it, decoding (no skipping) what is not.
    bool keepUpTo(qint64 frame, const std::function<bool(qint64)> &abandon);
    std::shared_ptr<FrameIndex> currentIndex() const
    {
        std::lock_guard lock(indexMutex);
        return frameIndex;
    }
    void rebuildIndexByScan();
    void startScan(std::shared_ptr<FrameIndex> scanned);
    DecodedFrame deliver(qint64 frame, const std::shared_ptr<AVFrame> &picture, bool exact);
    void resetDecoder();
    void countKept()
    {
        std::lock_guard lock(statsMutex);
        stats.keptFrames = cache.count();
        stats.keptBytes = cache.bytes();
    }
    template <typename F>
    void count(F change)
    {
        std::lock_guard lock(statsMutex);
        change(stats);
    }

    QString path;
    FrameReaderOptions options;
    ff::InputContext input;
    ff::CodecContext codec;
    AVStream *stream = nullptr;
    int streamIndex = -1;
    VideoProperties base;       // what open() found; index-derived fields are filled on demand
    double estimatedFrames = 0; // from the duration, while the scan runs

    mutable std::mutex indexMutex; // guards the pointer (replaced by a rebuild)
    std::shared_ptr<FrameIndex> frameIndex;
    std::unique_ptr<IndexScanner> scanner;

    // Where decoding stands. `live`: the decoder continues from keyframe startKeyframe, and
    // pictures shown before startPts are leading pictures of an open GOP that need the GOP
    // before (not decodable from here: dropped, or garbage).
    bool live = false;
    bool draining = false; // the end of the stream was sent to the decoder
    int startKeyframe = -1;
    int64_t startPts = AV_NOPTS_VALUE;
    int gopKeyframe = -1;       // the keyframe of the GOP being read (its packet was sent last)
    qint64 nextDecodeIndex = 0; // decode-order position of the next packet read
    int64_t lastOutputPts = AV_NOPTS_VALUE;
    bool acceptedAny = false;
    bool drainAtTargetWorks = true; // see decode()
    ff::Packet packet = ff::makePacket();
    bool packetPending = false; // `packet` holds the next one to send (the keyframe a seek found)
    ff::Frame decoded = ff::makeFrame();
    std::optional<Error> failure;
    std::shared_ptr<AVFrame> found;

    FrameCache cache;
    SwsContext *sws = nullptr;

    mutable std::mutex statsMutex;
    FrameReaderStatistics stats;
};

std::variant<std::unique_ptr<FrameReader>, Error> FrameReader::open(const QString &path, FrameReaderOptions options)
{
    auto opened = ff::openInput(path, options.limits);
    if (auto *e = ff::errorOf(opened))
        return *e;
    auto d = std::make_unique<Private>(options);
    d->path = path;
    d->input = std::move(std::get<ff::InputContext>(opened));
    d->streamIndex = ff::bestStream(d->input.get(), AVMEDIA_TYPE_VIDEO);
    const QString name = QFileInfo(path).fileName();
    if (d->streamIndex < 0) {
        if (ff::bestStream(d->input.get(), AVMEDIA_TYPE_AUDIO) >= 0) {
            return Error{errors::NoVideo, QStringLiteral("%1 is audio only: there is no picture to show.").arg(name)};
        }
        return Error{errors::NotMedia, QStringLiteral("%1 has neither video nor audio.").arg(name)};
    }
    d->stream = d->input->streams[d->streamIndex];
    const int threadType = options.threading == DecoderThreading::Frame   ? FF_THREAD_FRAME
                           : options.threading == DecoderThreading::Slice ? FF_THREAD_SLICE
                                                                          : FF_THREAD_FRAME | FF_THREAD_SLICE;
    auto codec = ff::openDecoder(d->stream, options.limits, ff::MemoryUse{0, std::max<qint64>(0, options.cacheBytes)},
                                 ff::DecoderThreads{threadType, std::max(0, options.threads)});
    if (auto *e = ff::errorOf(codec))
        return *e;
    d->codec = std::move(std::get<ff::CodecContext>(codec));
    for (unsigned i = 0; i < d->input->nb_streams; ++i)
        d->input->streams[i]->discard = int(i) == d->streamIndex ? AVDISCARD_DEFAULT : AVDISCARD_ALL;

    const AVStream *s = d->stream;
    const AVCodecParameters *par = s->codecpar;
    VideoProperties &p = d->base;
    p.codec = QString::fromUtf8(avcodec_get_name(par->codec_id));
    p.width = par->width;
    p.height = par->height;
    if (par->sample_aspect_ratio.num > 0 && par->sample_aspect_ratio.den > 0)
        p.sampleAspectRatio = rationalOf(par->sample_aspect_ratio);
    // displayRotation: counter-clockwise degrees of the display matrix; the view turns clockwise.
    p.rotation = (360 - displayRotation(s)) % 360;
    const AVRational rate =
        s->avg_frame_rate.num > 0 && s->avg_frame_rate.den > 0 ? s->avg_frame_rate : s->r_frame_rate;
    p.frameRate = rationalOf(rate);
    p.timeBase = rationalOf(s->time_base);
    const auto pixelFormat = AVPixelFormat(par->format);
    const char *formatName = av_get_pix_fmt_name(pixelFormat);
    p.sourcePixelFormat = formatName ? QString::fromUtf8(formatName) : QString();
    p.pixelFormat = deliveryFor(pixelFormat).format;
    p.colorSpace = colorSpaceOf(par->color_space);
    p.colorTransfer = colorTransferOf(par->color_trc);
    p.colorRange = pixelFormat == AV_PIX_FMT_YUVJ420P || pixelFormat == AV_PIX_FMT_YUVJ422P
                       ? ColorRange::Full
                       : colorRangeOf(par->color_range);
    p.durationSeconds =
        s->duration > 0 ? ff::toSeconds(s->duration, s->time_base) : ff::durationSeconds(d->input.get());
    d->estimatedFrames = s->nb_frames > 0 ? double(s->nb_frames) : p.durationSeconds * p.frameRate.toDouble();

    if (auto index = indexFromContainer(d->input.get(), s)) {
        d->frameIndex = std::move(index);
        if (options.indexProgress)
            options.indexProgress(d->frameIndex->count(), true);
    } else {
        d->startScan(std::make_shared<FrameIndex>(FrameIndex::Source::Scan));
    }
    return std::unique_ptr<FrameReader>(new FrameReader(std::move(d)));
}

void FrameReader::Private::startScan(std::shared_ptr<FrameIndex> scanned)
{
    scanner.reset();
    {
        std::lock_guard lock(indexMutex);
        frameIndex = scanned;
    }
    scanner =
        std::make_unique<IndexScanner>(path, options.limits, streamIndex, std::move(scanned), options.indexProgress);
}

FrameReader::FrameReader(std::unique_ptr<Private> dd) : d(std::move(dd)) { }

FrameReader::~FrameReader() = default;

VideoProperties FrameReader::properties() const
{
    VideoProperties p = d->base;
    const auto index = d->currentIndex();
    p.indexFromContainer = index->source() == FrameIndex::Source::Container;
    p.variableFrameRate = index->isVariableFrameRate();
    const int64_t first = index->firstPts();
    if (first != AV_NOPTS_VALUE)
        p.firstPts = first;
    if (index->isComplete()) {
        const qint64 n = index->count();
        const double step = index->meanFrameDuration();
        if (n > 0 && step > 0) {
            // From the first frame's start to the last one's end.
            p.durationSeconds = (double(*index->pts(n - 1) - first) + step) * av_q2d(d->stream->time_base);
        }
        // The container's rate, unless it is off the measured mean by more than 5 % (none at
        // all, or Matroska written from a millisecond time base, which says 1000 fps).
        const double measured = step > 0 ? 1.0 / (step * av_q2d(d->stream->time_base)) : 0;
        if (measured > 0 && (p.frameRate.num <= 0 || std::abs(p.frameRate.toDouble() / measured - 1.0) > 0.05))
            p.frameRate = rationalOf(av_d2q(measured, 1000000));
    }
    return p;
}

qint64 FrameReader::frameCount() const
{
    const auto index = d->currentIndex();
    const qint64 indexed = index->count();
    if (index->isComplete())
        return indexed;
    // The duration over the frame duration the scan has measured so far, else the container's rate.
    double estimate = d->estimatedFrames;
    if (const double step = index->meanFrameDuration(); step > 0 && indexed >= 16)
        estimate = d->base.durationSeconds / (step * av_q2d(d->stream->time_base));
    return std::max(indexed, qint64(std::llround(estimate)));
}

bool FrameReader::isIndexComplete() const
{
    return d->currentIndex()->isComplete();
}

qint64 FrameReader::indexedFrameCount() const
{
    return d->currentIndex()->count();
}

void FrameReader::waitForIndex() const
{
    d->currentIndex()->waitForComplete();
}

std::optional<int64_t> FrameReader::ptsOfFrame(qint64 frame) const
{
    return d->currentIndex()->pts(frame);
}

std::optional<double> FrameReader::secondsOfFrame(qint64 frame) const
{
    const auto index = d->currentIndex();
    const auto pts = index->pts(frame);
    if (!pts)
        return std::nullopt;
    return double(*pts - index->firstPts()) * av_q2d(d->stream->time_base);
}

qint64 FrameReader::frameAtSeconds(double seconds) const
{
    const auto index = d->currentIndex();
    const int64_t first = index->firstPts();
    if (first == AV_NOPTS_VALUE)
        return 0;
    const auto pts = first + int64_t(std::floor(seconds / av_q2d(d->stream->time_base) + 1e-6));
    return std::max<qint64>(0, index->frameShowingAt(pts));
}

FrameReaderStatistics FrameReader::statistics() const
{
    std::lock_guard lock(d->statsMutex);
    return d->stats;
}

std::variant<DecodedFrame, Error> FrameReader::decode(qint64 frame)
{
    return decode(frame, DecodeHooks());
}

void FrameReader::Private::resetDecoder()
{
    avcodec_flush_buffers(codec.get());
    live = false;
    draining = false;
    acceptedAny = false;
    lastOutputPts = AV_NOPTS_VALUE;
    if (packetPending) {
        av_packet_unref(packet.get());
        packetPending = false;
    }
}

bool FrameReader::Private::canDecodeOnTo(int k, int64_t target) const
{
    if (!live)
        return false;
    if (lastOutputPts != AV_NOPTS_VALUE && target <= lastOutputPts)
        return false; // passed (and no longer kept)
    if (k < startKeyframe)
        return false;
    if (draining || k <= gopKeyframe)
        return true; // the decoder will still put it out
    if (k == gopKeyframe + 1) {
        const auto index = currentIndex();
        return index->keyframe(k).decodeIndex - nextDecodeIndex <= DecodeOnWindow;
    }
    return false;
}

std::optional<Error> FrameReader::Private::seekTo(int k)
{
    resetDecoder();
    const auto index = currentIndex();
    const IndexedKeyframe key = index->keyframe(k);
    auto matches = [&key](const AVPacket *p) {
        if (key.pos >= 0 && p->pos >= 0)
            return p->pos == key.pos;
        if (key.ptsKnown && p->pts != AV_NOPTS_VALUE)
            return p->pts == key.pts;
        return p->dts != AV_NOPTS_VALUE && p->dts == key.dts;
    };
    auto isPast = [&key](const AVPacket *p) {
        if (key.pos >= 0 && p->pos >= 0)
            return p->pos > key.pos;
        if (key.dts != AV_NOPTS_VALUE && p->dts != AV_NOPTS_VALUE)
            return p->dts > key.dts;
        return key.ptsKnown && p->pts != AV_NOPTS_VALUE && p->pts > key.pts;
    };
    // Seek to the keyframe's time (demuxers land at or before it), then read up to its packet.
    // A demuxer that lands past it gets an earlier time, and last the start of the file.
    for (int attempt = 0; attempt < 4; ++attempt) {
        int64_t ts = std::numeric_limits<int64_t>::min();
        if (attempt < 3 && k - attempt >= 0) {
            const IndexedKeyframe earlier = index->keyframe(k - attempt);
            ts = earlier.pts != AV_NOPTS_VALUE ? earlier.pts : earlier.dts;
        }
        int rc = av_seek_frame(input.get(), streamIndex, ts, AVSEEK_FLAG_BACKWARD);
        if (rc < 0)
            rc = avformat_seek_file(input.get(), streamIndex, std::numeric_limits<int64_t>::min(), ts, ts, 0);
        if (rc < 0 && ts != std::numeric_limits<int64_t>::min())
            continue;
        for (int n = 0; n < MaxPacketsToKeyframe; ++n) {
            rc = av_read_frame(input.get(), packet.get());
            if (rc < 0)
                break;
            if (packet->stream_index != streamIndex) {
                av_packet_unref(packet.get());
                continue;
            }
            if (matches(packet.get())) {
                packetPending = true;
                const int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : key.pts;
                if (!key.ptsKnown && packet->pts != AV_NOPTS_VALUE)
                    index->learnKeyframePts(k, packet->pts);
                live = true;
                startKeyframe = k;
                gopKeyframe = k;
                startPts = pts;
                nextDecodeIndex = key.decodeIndex;
                count([](FrameReaderStatistics &s) { ++s.seeks; });
                return std::nullopt;
            }
            const bool past = isPast(packet.get());
            av_packet_unref(packet.get());
            if (past)
                break;
        }
    }
    return Error{errors::CorruptStream,
                 QStringLiteral("The keyframe at %1 s cannot be read; the file may be damaged or cut short.")
                     .arg(ff::toSeconds(key.pts != AV_NOPTS_VALUE ? key.pts - index->firstPts() : 0, stream->time_base),
                          0, 'f', 3)};
}

FrameReader::Private::Outcome FrameReader::Private::decodeUntil(qint64 frame, int64_t target, const DecodeHooks &hooks,
                                                                bool drainAtTarget)
{
    const auto index = currentIndex();
    int failures = 0;
    qint64 lastFrame = -1;
    for (;;) {
        // Take out every picture the decoder has ready.
        for (;;) {
            int rc = avcodec_receive_frame(codec.get(), decoded.get());
            if (rc == AVERROR(EAGAIN))
                break;
            if (rc == AVERROR_EOF) {
                live = false;
                return Outcome::Missing;
            }
            if (rc < 0) {
                if (++failures > MaxConsecutiveFailures) {
                    failure = ff::decodeError(rc, QStringLiteral("The video"));
                    live = false;
                    return Outcome::Failed;
                }
                continue;
            }
            count([](FrameReaderStatistics &s) { ++s.framesDecoded; });
            failures = 0;
            const int64_t pts = decoded->pts != AV_NOPTS_VALUE ? decoded->pts : decoded->best_effort_timestamp;
            // A picture shown before the keyframe decoding started from is a leading picture of
            // an open GOP whose references precede that keyframe. FFmpeg's H.264, HEVC and MPEG-2
            // decoders drop those themselves after a seek (tests cover it); a decoder that put
            // out a concealed one must not have it kept under its frame number. Before the first
            // keyframe there is nothing to restart from: such pictures are all there is.
            if (pts == AV_NOPTS_VALUE || (pts < startPts && startKeyframe > 0)) {
                av_frame_unref(decoded.get());
                continue;
            }
            const auto number = index->frameOfPts(pts);
            if (!number) {
                const bool known = index->isComplete() || pts <= index->pts(index->count() - 1).value_or(pts - 1);
                av_frame_unref(decoded.get());
                if (known) {
                    live = false;
                    return Outcome::IndexWrong;
                }
                continue; // not final in the index yet: cannot be the target
            }
            auto picture = sharedFrame(av_frame_alloc());
            av_frame_move_ref(picture.get(), decoded.get());
            // The fastest way keeps only what it shows: settle() decodes the GOP again anyway
            // (skipped pictures cannot be filled in alone), and pictures handed back at once let
            // the decoder reuse their buffers instead of faulting in fresh memory (12 MB at 4K).
            const bool shown = pts == target || (!acceptedAny && hooks.quickPicture && pts == startPts);
            if (!hooks.fastest || shown) {
                cache.insert(*number, picture, frame);
                countKept();
            }
            lastOutputPts = pts;
            lastFrame = *number;
            const bool first = !acceptedAny;
            acceptedAny = true;
            if (first && pts > target)
                return Outcome::StartedTooLate;
            if (pts == target) {
                found = std::move(picture);
                return Outcome::Found;
            }
            if (pts > target)
                return Outcome::Missing;
            if (first && hooks.quickPicture && pts == startPts)
                hooks.quickPicture(deliver(*number, picture, false));
            if (hooks.abandon && hooks.abandon(frame - lastFrame))
                return Outcome::Abandoned;
        }
        if (draining) {
            // Sent the end, nothing more came and no EOF: the decoder holds nothing more.
            live = false;
            return Outcome::Missing;
        }
        // Feed the next packet of our stream.
        if (!packetPending) {
            const int rc = av_read_frame(input.get(), packet.get());
            if (rc < 0) {
                // The end, or a tail that cannot be read: let the decoder put out what it holds.
                avcodec_send_packet(codec.get(), nullptr);
                draining = true;
                continue;
            }
            if (packet->stream_index != streamIndex) {
                av_packet_unref(packet.get());
                continue;
            }
            packetPending = true;
            const int next = gopKeyframe + 1;
            if (next < index->keyframeCount() && index->keyframe(next).decodeIndex == nextDecodeIndex) {
                gopKeyframe = next;
                if (!index->keyframe(next).ptsKnown && packet->pts != AV_NOPTS_VALUE)
                    index->learnKeyframePts(next, packet->pts);
            }
        }
        // A picture shown before the target that nothing refers to may be skipped: it is not
        // the target and no picture decoded later needs it. Read per packet (frame threads too).
        const bool skippable = hooks.fastest && packet->pts != AV_NOPTS_VALUE && packet->pts < target
                               && !(packet->flags & AV_PKT_FLAG_KEY);
        codec->skip_frame = skippable ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
        const bool targetPacket = packet->pts == target;
        const int rc = avcodec_send_packet(codec.get(), packet.get());
        if (rc == AVERROR(EAGAIN))
            continue; // take pictures out first; the packet stays pending
        av_packet_unref(packet.get());
        packetPending = false;
        ++nextDecodeIndex;
        if (rc < 0) {
            if (++failures > MaxConsecutiveFailures) {
                failure = ff::decodeError(rc, QStringLiteral("The video"));
                live = false;
                return Outcome::Failed;
            }
            continue;
        }
        count([](FrameReaderStatistics &s) { ++s.packetsDecoded; });
        if (targetPacket && drainAtTarget) {
            // Everything the target needs is in: take it out now rather than after the reorder
            // delay and the frame threads' lag (the decoder then starts over next time).
            avcodec_send_packet(codec.get(), nullptr);
            draining = true;
        }
        if (hooks.abandon && hooks.abandon(lastFrame >= 0 ? frame - lastFrame : frame))
            return Outcome::Abandoned;
    }
}

std::variant<DecodedFrame, Error> FrameReader::decode(qint64 frame, const DecodeHooks &hooks)
{
    const auto &abandon = hooks.abandon;
    d->count([](FrameReaderStatistics &s) { ++s.requests; });
    if (frame < 0)
        return Error{errors::InvalidParams, QStringLiteral("There is no frame %1: frames count from 0.").arg(frame)};
    bool rebuilt = false;
    for (;;) {
        const auto index = d->currentIndex();
        if (!index->waitFor(frame, abandon ? [&abandon] { return abandon(-1); } : std::function<bool()>()))
            return canceled();
        const auto target = index->pts(frame);
        if (!target) {
            if (auto failure = index->failure())
                return *failure;
            return Error{
                errors::InvalidParams,
                QStringLiteral("There is no frame %1: the video has %2 frames.").arg(frame).arg(index->count())};
        }
        if (auto kept = d->cache.find(frame)) {
            d->count([](FrameReaderStatistics &s) { ++s.cacheHits; });
            return d->deliver(frame, kept, true);
        }
        int k = index->keyframeFor(*target);
        // At most two restarts, each one keyframe earlier: a leading picture of an open GOP needs
        // the GOP before; damage needs no more than that to show it is damage.
        auto outcome = Private::Outcome::Missing;
        for (int restart = 0; restart < 3 && k >= 0; ++restart) {
            const bool decodingOn = d->canDecodeOnTo(k, *target);
            if (!decodingOn) {
                const bool timeKnown = index->keyframe(k).ptsKnown;
                if (auto e = d->seekTo(k))
                    return *e;
                if (!timeKnown && k > 0 && d->startPts > *target) {
                    // The keyframe's time was a lower bound until its packet was read (see
                    // indexFromContainer): the target is a leading picture shown before it.
                    // Start one keyframe earlier, having decoded nothing.
                    d->resetDecoder();
                    --k;
                    --restart;
                    continue;
                }
            }
            const bool drain = hooks.fastest && !decodingOn && d->drainAtTargetWorks;
            outcome = d->decodeUntil(frame, *target, hooks, drain);
            if (outcome == Private::Outcome::Found) {
                if (d->draining)
                    d->resetDecoder(); // drained at the target: nothing follows
                return d->deliver(frame, std::exchange(d->found, nullptr), true);
            }
            if (outcome == Private::Outcome::Abandoned)
                return canceled();
            if (outcome == Private::Outcome::Failed)
                return *std::exchange(d->failure, std::nullopt);
            if (outcome == Private::Outcome::IndexWrong)
                break;
            d->resetDecoder();
            if (outcome == Private::Outcome::Missing && drain) {
                // FFmpeg 5.1's libdav1d wrapper drops the last pictures when drained early:
                // this decoder never drains at the target again.
                d->drainAtTargetWorks = false;
                --restart;
                continue;
            }
            if (decodingOn) {
                --restart; // decoding on went past it: first try a fresh start at its own keyframe
                continue;
            }
            d->count([](FrameReaderStatistics &s) { ++s.retries; });
            --k;
        }
        if (outcome == Private::Outcome::IndexWrong && index->source() == FrameIndex::Source::Container && !rebuilt) {
            // The sample table's timing did not hold (see indexFromContainer): read the packets.
            rebuilt = true;
            d->resetDecoder();
            d->cache.clear();
            d->countKept();
            d->count([](FrameReaderStatistics &s) { ++s.indexRebuilds; });
            d->startScan(std::make_shared<FrameIndex>(FrameIndex::Source::Scan));
            continue;
        }
        return Error{errors::CorruptStream,
                     QStringLiteral("Frame %1 cannot be decoded; the file may be damaged or cut short.").arg(frame)};
    }
}

bool FrameReader::Private::keepUpTo(qint64 frame, const std::function<bool(qint64)> &abandon)
{
    const auto index = currentIndex();
    const auto target = index->pts(frame);
    if (!target)
        return true;
    const int k = index->keyframeFor(*target);
    if (k < 0)
        return true;
    const qint64 first = std::max<qint64>(0, index->frameShowingAt(index->keyframe(k).pts));
    bool allKept = true;
    for (qint64 n = frame; n >= first && allKept; --n)
        allKept = cache.contains(n);
    const bool standingAfter = live && !draining && lastOutputPts != AV_NOPTS_VALUE && lastOutputPts >= *target;
    if (allKept && (standingAfter || !live))
        return true;
    // Decoding on is cheaper than a seek whenever the decoder has not passed the target, even a
    // GOP or more away (this is idle time, not a request).
    const bool decodeOn =
        live && !draining && (lastOutputPts == AV_NOPTS_VALUE || *target > lastOutputPts) && k >= startKeyframe;
    if (!decodeOn && seekTo(k))
        return true; // the keyframe cannot be read: nothing to do
    DecodeHooks hooks;
    hooks.abandon = abandon;
    return decodeUntil(frame, *target, hooks) != Outcome::Abandoned;
}

bool FrameReader::settle(qint64 frame, int ahead, bool gopBefore, const std::function<bool(qint64)> &abandon)
{
    if (!d->keepUpTo(frame, abandon))
        return false;
    const auto index = d->currentIndex();
    if (ahead > 0) {
        const qint64 last = std::min(frame + ahead, index->count() - 1);
        bool allKept = true;
        for (qint64 n = frame + 1; n <= last && allKept; ++n)
            allKept = d->cache.contains(n);
        if (!allKept && !d->keepUpTo(last, abandon))
            return false;
    }
    if (gopBefore) {
        const auto target = index->pts(frame);
        const int k = target ? index->keyframeFor(*target) : -1;
        if (k > 0) {
            const qint64 first = index->frameShowingAt(index->keyframe(k).pts);
            const qint64 firstBefore = std::max<qint64>(0, index->frameShowingAt(index->keyframe(k - 1).pts));
            // Only when both GOPs' pictures up to here fit the cap: else the pictures before
            // `frame` would go to make room, and the steps back to them would decode again.
            const qint64 perPicture = d->cache.count() > 0 ? d->cache.bytes() / d->cache.count() : 0;
            const qint64 needed = (frame - firstBefore + 1) * perPicture;
            if (first > 0 && needed <= d->options.cacheBytes && !d->keepUpTo(first - 1, abandon))
                return false;
        }
    }
    return true;
}

qint64 FrameReader::estimatedCost(qint64 frame)
{
    if (d->cache.contains(frame))
        return 0;
    const auto index = d->currentIndex();
    const auto target = index->pts(frame);
    if (!target)
        return -1;
    const int k = index->keyframeFor(*target);
    if (k < 0)
        return -1;
    if (d->canDecodeOnTo(k, *target) && d->lastOutputPts != AV_NOPTS_VALUE)
        return std::max<qint64>(1, frame - index->frameShowingAt(d->lastOutputPts));
    return std::max<qint64>(1, frame - std::max<qint64>(0, index->frameShowingAt(index->keyframe(k).pts)) + 1);
}

DecodedFrame FrameReader::Private::deliver(qint64 frame, const std::shared_ptr<AVFrame> &picture, bool exact)
{
    DecodedFrame out;
    out.m_frameNumber = frame;
    out.m_exact = exact;
    const auto index = currentIndex();
    out.m_seconds = double(picture->pts - index->firstPts()) * av_q2d(stream->time_base);
    const Delivery how = deliveryFor(AVPixelFormat(picture->format));
    out.m_format = how.format;
    if (how.relabel != AV_PIX_FMT_NONE) {
        // Same planes, another name: yuvj* is yuv* in full range.
        auto relabelled = sharedFrame(av_frame_clone(picture.get()));
        relabelled->format = how.relabel;
        relabelled->color_range = AVCOL_RANGE_JPEG;
        out.m_frame = relabelled;
        cache.insert(frame, relabelled, frame);
        countKept();
        return out;
    }
    if (how.target == AV_PIX_FMT_NONE) {
        out.m_frame = picture;
        return out;
    }
    auto converted = sharedFrame(av_frame_alloc());
    converted->width = picture->width;
    converted->height = picture->height;
    converted->format = how.target;
    sws = sws_getCachedContext(sws, picture->width, picture->height, AVPixelFormat(picture->format), picture->width,
                               picture->height, how.target, SWS_BILINEAR, nullptr, nullptr, nullptr);
    if (!sws || av_frame_get_buffer(converted.get(), 0) < 0) {
        out.m_frame.reset(); // null: the consumer shows nothing rather than garbage
        return out;
    }
    // Between YUV layouts only depth and chroma siting change: keep the range as it is.
    const int full = picture->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
    const int *coefficients = sws_getCoefficients(SWS_CS_DEFAULT);
    sws_setColorspaceDetails(sws, coefficients, full, coefficients, full, 0, 1 << 16, 1 << 16);
    sws_scale(sws, picture->data, picture->linesize, 0, picture->height, converted->data, converted->linesize);
    av_frame_copy_props(converted.get(), picture.get());
    out.m_frame = converted;
    cache.insert(frame, converted, frame); // convert once
    countKept();
    return out;
}

} // namespace clipdeck::media
