#pragma once

// Internal to lib/media: reads the decoded frames of a file's main video stream. Thumbnails,
// scene detection and the poster frame all read video through this one decode loop.

#include "media/ffmpeg_p.h"

extern "C" {
#include <libswscale/swscale.h>
}

#include <QSize>

#include <memory>
#include <optional>

namespace clipdeck::media {

class VideoReader
{
public:
    static ff::Expected<std::unique_ptr<VideoReader>> open(const QString &path);
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

    // Positions reading at the keyframe at or before `seconds` (relative to the stream start).
    bool seek(double seconds);

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
