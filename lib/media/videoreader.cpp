#include "media/videoreader_p.h"

extern "C" {
#include <libavutil/imgutils.h>
}

#include <QSize>

#include <cmath>
#include <vector>

namespace clipdeck::media {

// A damaged stream may still have good frames after a bad patch; give up only when a long run
// of packets in a row fails, as it does when a file is mostly garbage.
static constexpr int MaxConsecutiveBadPackets = 200;

ff::Expected<std::unique_ptr<VideoReader>> VideoReader::open(const QString &path, const Limits &limits,
                                                             const std::function<ff::MemoryUse(const AVStream *)> &use)
{
    auto input = ff::openInput(path, limits);
    if (auto *e = ff::errorOf(input))
        return *e;
    std::unique_ptr<VideoReader> reader(new VideoReader);
    reader->m_input = std::move(std::get<ff::InputContext>(input));
    reader->m_streamIndex = ff::bestStream(reader->m_input.get(), AVMEDIA_TYPE_VIDEO);
    if (reader->m_streamIndex < 0)
        return Error{errors::NoVideo, QStringLiteral("The file has no video stream.")};
    reader->m_stream = reader->m_input->streams[reader->m_streamIndex];
    auto codec = ff::openDecoder(reader->m_stream, limits, use ? use(reader->m_stream) : ff::MemoryUse{});
    if (auto *e = ff::errorOf(codec))
        return *e;
    reader->m_codec = std::move(std::get<ff::CodecContext>(codec));
    // Only our stream is decoded: let the demuxer drop the others' packets early.
    for (unsigned i = 0; i < reader->m_input->nb_streams; ++i) {
        if (int(i) != reader->m_streamIndex)
            reader->m_input->streams[i]->discard = AVDISCARD_ALL;
    }
    const AVStream *s = reader->m_stream;
    reader->m_startSeconds = s->start_time != AV_NOPTS_VALUE ? ff::toSeconds(s->start_time, s->time_base) : 0;
    reader->m_duration =
        s->duration > 0 ? ff::toSeconds(s->duration, s->time_base) : ff::durationSeconds(reader->m_input.get());
    return reader;
}

VideoReader::~VideoReader() = default;

double VideoReader::frameRate() const
{
    const AVRational r = m_stream->avg_frame_rate.num > 0 ? m_stream->avg_frame_rate : m_stream->r_frame_rate;
    const double fps = r.den > 0 ? av_q2d(r) : 0;
    return fps > 0 && fps < 1000 ? fps : 25.0;
}

void VideoReader::setKeyframesOnly(bool on)
{
    m_codec->skip_frame = on ? AVDISCARD_NONKEY : AVDISCARD_DEFAULT;
}

void VideoReader::setSkipLoopFilter(bool on)
{
    // Read by the decoder per picture (and copied to frame threads), so it may change any time.
    m_codec->skip_loop_filter = on ? AVDISCARD_ALL : AVDISCARD_DEFAULT;
}

void VideoReader::setSkipLoopFilterOnNonReference(bool on)
{
    m_codec->skip_loop_filter = on ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
}

QList<double> VideoReader::keyframeTimes()
{
    QList<double> times;
    if (m_input->iformat->flags & AVFMT_GENERIC_INDEX)
        return times;
    auto *stream = m_input->streams[m_streamIndex];
    int count = avformat_index_get_entries_count(stream);
    if (count < 2) {
        // Matroska reads cues at the end of the file only when first asked to seek.
        seek(0);
        count = avformat_index_get_entries_count(stream);
    }
    // MP4 indexes decode times, seeking goes by presentation times, and with B-frames the two
    // differ by the reorder delay: measured from the first keyframe (the stream's first picture)
    // the entries line up with what seek() takes, for MP4 and Matroska (which indexes
    // presentation times) alike.
    int64_t first = AV_NOPTS_VALUE;
    for (int i = 0; i < count; ++i) {
        const AVIndexEntry *e = avformat_index_get_entry(stream, i);
        if (!e || !(e->flags & AVINDEX_KEYFRAME) || (e->flags & AVINDEX_DISCARD_FRAME)
            || e->timestamp == AV_NOPTS_VALUE)
            continue;
        if (first == AV_NOPTS_VALUE)
            first = e->timestamp;
        const double t = ff::toSeconds(e->timestamp - first, stream->time_base);
        if (times.isEmpty() || t > times.constLast())
            times.append(t);
    }
    return times;
}

bool VideoReader::seek(double seconds)
{
    const auto target = int64_t(std::llround((seconds + m_startSeconds) / av_q2d(m_stream->time_base)));
    const int rc = av_seek_frame(m_input.get(), m_streamIndex, target, AVSEEK_FLAG_BACKWARD);
    if (rc < 0)
        return false;
    avcodec_flush_buffers(m_codec.get());
    m_draining = false;
    m_finished = false;
    return true;
}

bool VideoReader::decodeKeyframes(const QList<double> &seconds,
                                  const std::function<bool(int, const AVFrame *)> &onFrame)
{
    // Which request a picture answers: its packet's timestamp.
    std::vector<std::pair<int64_t, int>> pending;
    bool stopped = false;
    auto deliver = [&](bool draining) {
        for (;;) {
            av_frame_unref(m_frame.get());
            const int rc = avcodec_receive_frame(m_codec.get(), m_frame.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return;
            if (rc < 0) {
                if (!draining)
                    return;
                continue; // a keyframe that failed: the others may still come
            }
            const int64_t ts = m_frame->pts != AV_NOPTS_VALUE ? m_frame->pts : m_frame->best_effort_timestamp;
            for (auto it = pending.begin(); it != pending.end();) {
                if (it->first != ts) {
                    ++it;
                    continue;
                }
                if (!stopped && !onFrame(it->second, m_frame.get()))
                    stopped = true;
                it = pending.erase(it);
            }
        }
    };

    avcodec_flush_buffers(m_codec.get());
    int64_t previousPacket = AV_NOPTS_VALUE;
    for (int i = 0; i < seconds.size() && !stopped; ++i) {
        const auto target = int64_t(std::llround((seconds[i] + m_startSeconds) / av_q2d(m_stream->time_base)));
        if (av_seek_frame(m_input.get(), m_streamIndex, target, AVSEEK_FLAG_BACKWARD) < 0)
            continue;
        // The first keyframe packet of our stream from there (imprecise seeking, as in MPEG-TS,
        // may land a little before one).
        bool found = false;
        for (int packets = 0; packets < 2000 && av_read_frame(m_input.get(), m_packet.get()) >= 0; ++packets) {
            if (m_packet->stream_index == m_streamIndex && (m_packet->flags & AV_PKT_FLAG_KEY)) {
                found = true;
                break;
            }
            av_packet_unref(m_packet.get());
        }
        if (!found)
            continue;
        const int64_t ts = m_packet->pts != AV_NOPTS_VALUE ? m_packet->pts : m_packet->dts;
        if (ts == previousPacket) { // two requests, one keyframe: decode it once
            av_packet_unref(m_packet.get());
            pending.emplace_back(ts, i);
            continue;
        }
        previousPacket = ts;
        pending.emplace_back(ts, i);
        for (;;) {
            const int rc = avcodec_send_packet(m_codec.get(), m_packet.get());
            if (rc != AVERROR(EAGAIN))
                break;
            deliver(false); // the decoder is full: take a picture out first
        }
        av_packet_unref(m_packet.get());
        deliver(false);
    }
    avcodec_send_packet(m_codec.get(), nullptr);
    deliver(true);
    // Ready for seek()/next() again.
    avcodec_flush_buffers(m_codec.get());
    av_seek_frame(m_input.get(), m_streamIndex, m_stream->start_time != AV_NOPTS_VALUE ? m_stream->start_time : 0,
                  AVSEEK_FLAG_BACKWARD);
    m_draining = false;
    m_finished = false;
    return !stopped;
}

const AVFrame *VideoReader::next()
{
    if (m_finished)
        return nullptr;
    for (;;) {
        av_frame_unref(m_frame.get());
        int rc = avcodec_receive_frame(m_codec.get(), m_frame.get());
        if (rc == 0) {
            m_consecutiveBadPackets = 0;
            return m_frame.get();
        }
        if (rc == AVERROR_EOF) {
            m_finished = true;
            return nullptr;
        }
        if (rc != AVERROR(EAGAIN)) {
            // A frame the decoder could not finish: count it like a bad packet and go on.
            if (++m_consecutiveBadPackets > MaxConsecutiveBadPackets) {
                m_error = ff::decodeError(rc, QStringLiteral("The video"));
                m_finished = true;
                return nullptr;
            }
            continue;
        }
        if (m_draining) {
            m_finished = true;
            return nullptr;
        }
        // The decoder wants input.
        for (;;) {
            rc = av_read_frame(m_input.get(), m_packet.get());
            if (rc < 0) {
                // EOF and read errors at the tail (a truncated file) both end the stream; frames
                // decoded so far stay good. Drain what the decoder holds.
                avcodec_send_packet(m_codec.get(), nullptr);
                m_draining = true;
                break;
            }
            if (m_packet->stream_index != m_streamIndex) {
                av_packet_unref(m_packet.get());
                continue;
            }
            rc = avcodec_send_packet(m_codec.get(), m_packet.get());
            av_packet_unref(m_packet.get());
            if (rc < 0 && rc != AVERROR(EAGAIN)) {
                if (++m_consecutiveBadPackets > MaxConsecutiveBadPackets) {
                    m_error = ff::decodeError(rc, QStringLiteral("The video"));
                    m_finished = true;
                    return nullptr;
                }
                continue;
            }
            break;
        }
    }
}

double VideoReader::frameSeconds(const AVFrame *frame) const
{
    const int64_t ts = frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp : frame->pts;
    const double s = ff::toSeconds(ts, m_stream->time_base);
    return std::isnan(s) ? 0 : s - m_startSeconds;
}

FrameScaler::~FrameScaler()
{
    sws_freeContext(m_context);
}

const AVFrame *FrameScaler::convert(const AVFrame *source, int width, int height, AVPixelFormat format, int flags)
{
    m_context = sws_getCachedContext(m_context, source->width, source->height, AVPixelFormat(source->format), width,
                                     height, format, flags, nullptr, nullptr, nullptr);
    if (!m_context)
        return nullptr;
    if (!m_output || m_output->width != width || m_output->height != height || m_output->format != format) {
        m_output = ff::makeFrame();
        m_output->width = width;
        m_output->height = height;
        m_output->format = format;
        if (av_frame_get_buffer(m_output.get(), 0) < 0)
            return nullptr;
    }
    sws_scale(m_context, source->data, source->linesize, 0, source->height, m_output->data, m_output->linesize);
    m_output->pts = source->pts;
    return m_output.get();
}

QSize fitWithin(int width, int height, AVRational sampleAspect, int maxWidth, int maxHeight)
{
    double displayWidth = width;
    if (sampleAspect.num > 0 && sampleAspect.den > 0)
        displayWidth = width * av_q2d(sampleAspect);
    double scale = 1.0;
    if (maxWidth > 0)
        scale = std::min(scale, maxWidth / displayWidth);
    if (maxHeight > 0)
        scale = std::min(scale, double(maxHeight) / height);
    auto even = [](double v) { return std::max(2, int(std::lround(v / 2.0)) * 2); };
    return QSize(even(displayWidth * scale), even(height * scale));
}

} // namespace clipdeck::media
