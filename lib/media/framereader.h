#pragma once

// Exact frames for the viewer: frame N of a clip is the N-th picture in presentation order,
// never the nearest keyframe. A FrameReader maps frame numbers to timestamps through the
// stream's index, seeks to the keyframe decoding N starts from, decodes forward to N's
// timestamp exactly, and keeps the pictures it decoded on the way (the current GOP) so that
// stepping back costs no decode. AsyncFrameReader runs one on a worker thread for a view:
// the newest request wins.
//
// Frame numbers. Containers with a complete sample table (MP4/MOV) give every frame's number
// at open. Other containers (Matroska/WebM, MPEG-TS/PS, ...) are indexed by reading their
// packets (no decoding) on a thread of the reader's own: open() returns at once, frame numbers
// are exact and final as far as the scan has gone (indexedFrameCount()), and a request beyond
// that waits for the scan to get there. Until isIndexComplete(), frameCount() is an estimate
// from the duration.
//
// Pictures are delivered as decoded (a reference to FFmpeg's buffers, no copy) in a layout a
// QVideoFrame takes as is (PixelFormat); other decoder formats are converted once per delivered
// picture. Pictures are stored as the file stores them: rotation() says how the view turns them
// upright (a transform in the view costs nothing; turning the pixels would cost a copy of
// every picture).
//
// Threading. A FrameReader's const functions may be called from any thread at any time; the
// others (decode()) from one thread at a time. AsyncFrameReader::request() may be called from
// any thread; its callbacks run on its worker thread, one at a time, in the order the pictures
// were decoded.

#include "media/operation.h"

#include <QString>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <variant>

struct AVFrame;

namespace clipdeck::media {

// Layouts of delivered pictures; each is a QVideoFrameFormat pixel format (in brackets).
enum class PixelFormat {
    Yuv420P,   // 8-bit planar 4:2:0, planes Y, U, V (Format_YUV420P)
    Yuv422P,   // 8-bit planar 4:2:2 (Format_YUV422P); also 10-bit 4:2:2 and 4:4:4 sources, converted
    Yuv420P10, // 10-bit planar 4:2:0 in 16-bit little-endian words (Format_YUV420P10)
    Nv12,      // 8-bit Y plane and interleaved UV plane (Format_NV12)
    P010,      // 10-bit Y and interleaved UV in the high bits of 16-bit words (Format_P010)
    Gray8,     // luma only (Format_Y8)
    Rgba8888,  // bytes R, G, B, A (Format_RGBA8888): RGB sources
};

enum class ColorSpace { Unspecified, Bt601, Bt709, Bt2020 };
enum class ColorTransfer { Unspecified, Bt709, Pq, Hlg, Other };
enum class ColorRange { Unspecified, Limited, Full };

struct Rational
{
    int num = 0;
    int den = 1;
    double toDouble() const { return den != 0 ? double(num) / den : 0.0; }
};

// What a viewer needs to know of the clip's video.
struct VideoProperties
{
    QString codec; // FFmpeg's name, e.g. "h264"
    int width = 0; // stored picture size, before rotation
    int height = 0;
    Rational sampleAspectRatio{1, 1};
    int rotation = 0;               // degrees clockwise the view turns pictures to show them upright: 0/90/180/270
    Rational frameRate;             // nominal (the container's average); timecode counts in it
    bool variableFrameRate = false; // frame durations differ (known for certain once the index is complete)
    Rational timeBase;              // of pts
    int64_t firstPts = 0;           // pts of frame 0
    double durationSeconds = 0;
    QString sourcePixelFormat;                      // the decoder's, e.g. "yuv422p10le"
    PixelFormat pixelFormat = PixelFormat::Yuv420P; // of delivered pictures
    ColorSpace colorSpace = ColorSpace::Unspecified;
    ColorTransfer colorTransfer = ColorTransfer::Unspecified;
    ColorRange colorRange = ColorRange::Unspecified;
    bool indexFromContainer = false; // frame numbers from the container's sample table (else a packet scan)
};

// A decoded picture, shared (copying a DecodedFrame copies a reference, never pixels).
class DecodedFrame
{
public:
    DecodedFrame() = default;
    bool isNull() const { return !m_frame; }

    qint64 frameNumber() const { return m_frameNumber; } // presentation order, from 0
    int64_t pts() const;                                 // in VideoProperties::timeBase
    double seconds() const { return m_seconds; }         // from frame 0
    // False for the quick picture of the keyframe decoding started from, delivered while the
    // exact frame is still being decoded (AsyncFrameReader::QuickKeyframe).
    bool isExact() const { return m_exact; }

    int width() const;
    int height() const;
    PixelFormat pixelFormat() const { return m_format; }
    int planeCount() const;
    const uint8_t *bits(int plane) const;
    int bytesPerLine(int plane) const;
    int planeHeight(int plane) const; // rows of the plane (chroma planes of 4:2:0 have half)
    ColorSpace colorSpace() const;
    ColorTransfer colorTransfer() const;
    ColorRange colorRange() const;

    // FFmpeg's frame, for consumers that wrap it without a copy (Qt 6.8's QAbstractVideoBuffer).
    const AVFrame *avFrame() const { return m_frame.get(); }

private:
    friend class FrameReader;
    std::shared_ptr<const AVFrame> m_frame;
    qint64 m_frameNumber = -1;
    double m_seconds = 0;
    PixelFormat m_format = PixelFormat::Yuv420P;
    bool m_exact = true;
};

// FFmpeg runs a decoder with frame threads where it has them, else slice threads.
enum class DecoderThreading {
    Frame,         // several pictures at once; decoders without frame threads (MPEG-2) get one thread
    Slice,         // parts of one picture at once: only streams coded in slices/tiles/WPP gain
    FrameAndSlice, // frame threads where the decoder has them, else slice threads
};

struct FrameReaderOptions
{
    qint64 cacheBytes = qint64(512) << 20; // decoded pictures kept (the current GOP, and more)
    int threads = 0;                       // decoder threads; 0: one per core
    // Frame threads lag a picture per thread behind the input; a fastest decode drains them at
    // the target instead (docs/benchmarks.md has frame against slice threads).
    DecoderThreading threading = DecoderThreading::FrameAndSlice;
    // Called on the index scan's thread as frame numbers become final and when the scan ends.
    std::function<void(qint64 indexedFrames, bool complete)> indexProgress;
    // The same limits as the operations: pictures over the pixel limit and files with too many
    // streams are refused at open; the kept pictures count against the memory budget.
    Limits limits;
};

// Counters for tests and benchmarks (not timings).
struct FrameReaderStatistics
{
    qint64 requests = 0;       // decode() calls
    qint64 cacheHits = 0;      // answered from kept pictures without decoding
    qint64 seeks = 0;          // decodes (re)started at a keyframe
    qint64 retries = 0;        // restarts one keyframe earlier (leading pictures of open GOPs)
    qint64 packetsDecoded = 0; // packets sent to the decoder
    qint64 framesDecoded = 0;  // pictures the decoder returned
    qint64 keptFrames = 0;     // pictures kept now
    qint64 keptBytes = 0;
    qint64 indexRebuilds = 0; // container index found wrong by a decoded timestamp, rebuilt by a scan
};

class FrameReader
{
public:
    // Errors: those of opening media (file_not_found, empty_file, not_media, corrupt_stream),
    // no_video_stream (a file with audio but no video: show its waveform), unsupported_codec,
    // invalid_dimensions.
    static std::variant<std::unique_ptr<FrameReader>, Error> open(const QString &path, FrameReaderOptions options = {});
    ~FrameReader();
    FrameReader(const FrameReader &) = delete;
    FrameReader &operator=(const FrameReader &) = delete;

    VideoProperties properties() const;

    // Exact once isIndexComplete(); before, the frames indexed so far or the estimate from the
    // duration, whichever is larger.
    qint64 frameCount() const;
    bool isIndexComplete() const;
    qint64 indexedFrameCount() const; // frames whose numbers are final now
    void waitForIndex() const;        // blocks until the index is complete

    // pts (VideoProperties::timeBase) and seconds from frame 0 of frame `frame`; nullopt when not
    // (yet) indexed.
    std::optional<int64_t> ptsOfFrame(qint64 frame) const;
    std::optional<double> secondsOfFrame(qint64 frame) const;
    // The frame showing at `seconds` from frame 0 (the last one starting at or before it), among
    // the frames indexed so far; 0 before frame 0.
    qint64 frameAtSeconds(double seconds) const;

    // Decodes frame `frame` exactly, waiting for the index to reach it. Errors: invalid_params
    // (no such frame), corrupt_stream (it cannot be decoded: damaged or truncated file).
    std::variant<DecodedFrame, Error> decode(qint64 frame);

    FrameReaderStatistics statistics() const;

    // --- for AsyncFrameReader ------------------------------------------------------------------
    struct DecodeHooks
    {
        // Gets the keyframe a decode (re)starts from, before the exact frame is reached.
        std::function<void(const DecodedFrame &)> quickPicture;
        // Asked at every frame boundary with the frames still to decode as far as known (-1
        // while waiting for the index); true stops (the result is then errors::Canceled).
        std::function<bool(qint64 remaining)> abandon;
        // The fastest way to one picture, exact all the same: the decoder skips pictures
        // before the target that no other picture refers to (as mpv's hr-seek does), and a
        // decode that starts at a keyframe drains the decoder at the target instead of decoding
        // on past it (the reorder delay and frame threads' lag); only the pictures it shows are
        // kept. What this leaves out, settle() restores.
        bool fastest = false;
    };
    std::variant<DecodedFrame, Error> decode(qint64 frame, const DecodeHooks &hooks);
    // Prepares for steps from `frame`, decoding without skipping: every picture from its
    // keyframe to it kept and the decoder standing just after it (what a fastest decode() left
    // out); then `ahead` more pictures kept (stepping forward), or, with `gopBefore`, every
    // picture of the GOP before (stepping back across the boundary). Returns false when
    // `abandon` stopped it.
    bool settle(qint64 frame, int ahead, bool gopBefore, const std::function<bool(qint64 remaining)> &abandon);
    // Decode work a request for `frame` would cost now, in frames: 0 when kept, otherwise from
    // its keyframe (or from where decoding stands) to it; -1 when not indexed yet. Like decode(),
    // from the decoding thread only.
    qint64 estimatedCost(qint64 frame);

private:
    struct Private;
    explicit FrameReader(std::unique_ptr<Private> d);
    std::unique_ptr<Private> d;
};

// A FrameReader on a worker thread of its own, for a view. request() returns at once; the
// newest request wins: a request not yet started is replaced by a newer one, and a decode in
// progress is abandoned at its next frame boundary for a newer one unless what is left of it
// costs no more than the newer request (so a drag keeps showing exact frames). Requests decode
// the fastest way (DecodeHooks::fastest); while nothing is asked for, the worker settles:
// decodes what that left out, a dozen pictures ahead after a step forward, the GOP before
// after a step back, so that held arrow keys find their pictures kept.
// Frames delivered are the ones asked for, exactly; quick keyframe pictures are marked !isExact().
class AsyncFrameReader
{
public:
    struct Callbacks
    {
        // Exact frames and quick pictures, on the worker thread. Copy what you need and return.
        std::function<void(const DecodedFrame &frame)> frameReady;
        // A request that failed (not called for requests replaced by newer ones).
        std::function<void(qint64 frame, const Error &error)> failed;
    };
    enum RequestFlag { NoFlags = 0, QuickKeyframe = 1 };

    AsyncFrameReader(std::unique_ptr<FrameReader> reader, Callbacks callbacks);
    // Abandons what is pending and joins the worker: no callback runs after it returns.
    ~AsyncFrameReader();

    void request(qint64 frame, int flags = NoFlags);
    // Blocks until nothing is pending or being decoded (tests, tools).
    void waitUntilIdle();

    // The reader's const functions (properties, index) may be used from any thread.
    const FrameReader &reader() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace clipdeck::media
