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
#include <optional>
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

// Opens `path` for demuxing and reads stream info, within `limits`:
//  - what the path is, checked before FFmpeg opens it (which would block on a FIFO and read a
//    device forever): missing -> file_not_found, a folder -> is_directory, a FIFO or socket ->
//    is_pipe, a device -> is_device, not readable -> permission_denied, zero bytes -> empty_file;
//  - unknown format -> not_media; unreadable header or stream info -> corrupt_stream;
//  - after the header, before anything is decoded, and again after the stream info (which may
//    add streams and learn picture sizes): more streams than limits.maxStreams ->
//    too_many_streams, a picture over limits.maxFramePixels -> media_too_large. The stream info
//    itself decodes with one thread per stream and refuses pictures over the limit.
Expected<InputContext> openInput(const QString &path, const Limits &limits);

// The best stream of a type, or -1.
int bestStream(AVFormatContext *input, AVMediaType type);

// What a job holds besides a decoder's own pictures, for the memory budget (Limits).
struct MemoryUse
{
    int heldPictures = 0;  // decoded pictures of this stream the operation keeps (its queues)
    qint64 otherBytes = 0; // anything else it builds in memory (canvases, peaks)
};

// Bytes of one decoded picture: its pixel format's planes (4 bytes a pixel when the format is not
// known yet).
qint64 pictureBytes(int width, int height, int pixelFormat);
// The memory a video decoder of `stream` needs with `threads` threads: a picture per thread and
// the reference pictures the codec may keep (16, or 6 at 8K sizes, as H.264/HEVC levels allow).
qint64 decoderBytes(const AVCodecParameters *par, int threads);
// `bytes` within limits.memoryBudgetBytes, else media_too_large saying `what` needs them.
std::optional<Error> checkBudget(qint64 bytes, const Limits &limits, const QString &what);

// How a decoder threads: throughput (the operations: frame + slice threads, as many as fit) or
// the latency of one seek (the exact-frame reader chooses its own).
struct DecoderThreads
{
    int type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    int maxCount = 0; // 0: FFmpeg's automatic count
};

// Opens a decoder for `stream`. Video: as many threads as FFmpeg's automatic count (cores + 1,
// at most 16, frame + slice threads: the default of 1 thread makes an in-process pipeline far
// slower than the ffmpeg CLI), or threading.maxCount, as fit the memory budget with `use`;
// media_too_large when not even one does, or the picture is over the pixel limit (also set as the
// decoder's max_pixels, so a stream that grows mid-way is stopped too). Unknown decoder ->
// unsupported_codec; video sizes of 0 or beyond 16384 -> invalid_dimensions.
Expected<CodecContext> openDecoder(const AVStream *stream, const Limits &limits, const MemoryUse &use = {},
                                   const DecoderThreads &threading = {});

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
