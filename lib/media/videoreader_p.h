#pragma once

// Internal to lib/media: reads the decoded frames of a file's main video stream. Thumbnails,
// scene detection and the poster frame all read video through this one decode loop.

#include "media/ffmpeg_p.h"

extern "C" {
#include <libswscale/swscale.h>
}

#include <QList>
#include <QSize>

#include <functional>
#include <memory>
#include <optional>

namespace clipdeck::media {

class VideoReader
{
public:
    // `use`: what the caller holds besides the decoder's own pictures, given the stream (its
    // size decides the caller's canvases), for the memory budget in `limits`.
    static ff::Expected<std::unique_ptr<VideoReader>>
    open(const QString &path, const Limits &limits = {},
         const std::function<ff::MemoryUse(const AVStream *)> &use = {});
    ~VideoReader();

    AVFormatContext *format() const { return m_input.get(); }
    const AVStream *stream() const { return m_stream; }
    const AVCodecContext *codec() const { return m_codec.get(); }
    int width() const { return m_codec->width; }
    int height() const { return m_codec->height; }
    double durationSeconds() const { return m_duration; }
    double frameRate() const; // average frames per second, 25 when the file does not say

    // Decode only keyframes (AVDISCARD_NONKEY): what a thumbnailer wants, many times faster.
    void setKeyframesOnly(bool on);

    // Skip H.264/HEVC's in-loop deblocking filter (AVDISCARD_ALL): decoding a keyframe gets
    // markedly cheaper, at the price of block edges nobody sees once the picture is scaled down
    // to a thumbnail. Never for pictures shown at full size.
    void setSkipLoopFilter(bool on);

    // Skip deblocking only on pictures no other picture is predicted from (AVDISCARD_NONREF):
    // unlike setSkipLoopFilter(), nothing drifts, because no picture is decoded from an
    // undeblocked one; ~10 % off H.264 decoding with B-frames. For analysis that reads every
    // frame at a small size (scene detection).
    void setSkipLoopFilterOnNonReference(bool on);

    // Positions reading at the keyframe at or before `seconds` (relative to the stream start).
    bool seek(double seconds);

    // The keyframes the container's index lists up front (MP4/MOV sync samples, Matroska cues),
    // in seconds like seek() takes them, ascending; seek() to a time a little (half a frame)
    // past one lands on it. Empty when the container has no such
    // index (MPEG-TS, raw streams): FFmpeg's generic index only grows while reading, so a partial
    // one is not returned; a demuxer that fills its index as it reads (Matroska without cues) may
    // return only the first keyframes. May seek to the start (Matroska loads its cues then).
    // Lets a thumbnailer pick keyframes without decoding its way to them.
    QList<double> keyframeTimes();

    // Decodes the keyframe at or before each of `seconds` (ascending) and hands each picture to
    // onFrame(index into seconds, frame), which returns false to stop. One seek and one packet per
    // picture, sent to the decoder back to back and drained at the end: a frame-threaded decoder
    // works on several at once, and no picture waits in the decoder's reorder buffer for the next
    // keyframe to push it out (as it does with keyframes-only next() after a seek, which thus
    // decodes two keyframes and reads a GOP of packets per picture). Keyframes that fail to
    // decode are left out. Returns false when stopped by onFrame. Reading goes on from the start
    // of the stream afterwards.
    bool decodeKeyframes(const QList<double> &seconds, const std::function<bool(int, const AVFrame *)> &onFrame);

    // The next decoded frame, or nullptr at the end of the stream or on error (see error()).
    // The frame stays valid until the next call. Damaged packets are skipped; a stream that
    // yields no frame at all after many of them is an error.
    const AVFrame *next();

    // Seconds of a frame from the stream start (best-effort timestamp).
    double frameSeconds(const AVFrame *frame) const;

    const std::optional<Error> &error() const { return m_error; }

private:
    VideoReader() = default;
    ff::InputContext m_input;
    ff::CodecContext m_codec;
    const AVStream *m_stream = nullptr;
    int m_streamIndex = -1;
    double m_duration = 0;
    double m_startSeconds = 0;
    ff::Packet m_packet = ff::makePacket();
    ff::Frame m_frame = ff::makeFrame();
    bool m_draining = false;
    bool m_finished = false;
    int m_consecutiveBadPackets = 0;
    std::optional<Error> m_error;
};

// Converts frames to one size and pixel format, reusing its swscale context and buffer.
class FrameScaler
{
public:
    FrameScaler() = default;
    ~FrameScaler();
    FrameScaler(const FrameScaler &) = delete;
    FrameScaler &operator=(const FrameScaler &) = delete;

    // The converted frame (owned by the scaler, valid until the next call), or nullptr when
    // swscale refuses the conversion. `flags` e.g. SWS_BILINEAR, SWS_FAST_BILINEAR, SWS_AREA.
    const AVFrame *convert(const AVFrame *source, int width, int height, AVPixelFormat format,
                           int flags = SWS_BILINEAR);

private:
    SwsContext *m_context = nullptr;
    ff::Frame m_output;
};

// Fits (width, height) inside (maxWidth, maxHeight) keeping the aspect ratio (sample aspect
// ratio applied), with even dimensions; a 0 bound means "unbounded".
QSize fitWithin(int width, int height, AVRational sampleAspect, int maxWidth, int maxHeight);

} // namespace clipdeck::media
