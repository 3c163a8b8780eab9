#pragma once

// Internal to lib/media: owning wrappers around FFmpeg objects and the one place where opening
// an input and its decoders turns FFmpeg's failures into media::Error codes. Every operation
// (probe, transcode, thumbnails, scenes, waveform) opens media through here.

#include "media/operation.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

#include <QString>

#include <memory>
#include <variant>

namespace clipdeck::media::ff {

struct FormatInputDeleter
{
    void operator()(AVFormatContext *c) const { avformat_close_input(&c); }
};
struct CodecContextDeleter
{
    void operator()(AVCodecContext *c) const { avcodec_free_context(&c); }
};
struct FrameDeleter
{
    void operator()(AVFrame *f) const { av_frame_free(&f); }
};
struct PacketDeleter
{
    void operator()(AVPacket *p) const { av_packet_free(&p); }
};

using InputContext = std::unique_ptr<AVFormatContext, FormatInputDeleter>;
using CodecContext = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using Frame = std::unique_ptr<AVFrame, FrameDeleter>;
using Packet = std::unique_ptr<AVPacket, PacketDeleter>;

inline Frame makeFrame()
{
    return Frame(av_frame_alloc());
}
inline Packet makePacket()
{
    return Packet(av_packet_alloc());
}

template <typename T>
using Expected = std::variant<T, Error>;

template <typename T>
const Error *errorOf(const Expected<T> &e)
{
    return std::get_if<Error>(&e);
}

// FFmpeg's text for an AVERROR code.
QString averrorText(int averror);

// Quiets FFmpeg's logging to errors (once per process); operations report their own errors.
void initialise();

// Opens `path` for demuxing and reads stream info. Missing file -> file_not_found, zero bytes
// -> empty_file, unknown format -> not_media, unreadable stream info -> corrupt_stream.
Expected<InputContext> openInput(const QString &path);

// The best stream of a type, or -1.
int bestStream(AVFormatContext *input, AVMediaType type);

// Opens a decoder for `stream` using all cores (thread_count 0, frame + slice threads: the
// default of 1 thread makes an in-process pipeline far slower than the ffmpeg CLI).
// Unknown decoder -> unsupported_codec; video sizes of 0 or beyond 16384 -> invalid_dimensions.
// The exact-frame reader chooses its own threading (latency of one seek, not throughput).
Expected<CodecContext> openDecoder(const AVStream *stream, int threadType = FF_THREAD_FRAME | FF_THREAD_SLICE,
                                   int threadCount = 0);

// Maps a failure while writing a file (an AVERROR or errno-derived code) to disk_full or
// output_unwritable, with `what` naming the file for the message.
Error writeError(int averror, const QString &what);

// Maps a failure while decoding to corrupt_stream with context.
Error decodeError(int averror, const QString &what);

// Seconds of a stream timestamp, or NaN for AV_NOPTS_VALUE.
double toSeconds(int64_t ts, AVRational timeBase);

// The duration of the input in seconds: the container's, else the longest stream's; 0 if unknown.
double durationSeconds(const AVFormatContext *input);

} // namespace clipdeck::media::ff
