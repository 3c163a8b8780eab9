#pragma once

// Internal to lib/media: the frames of a video stream in presentation order (frame number ->
// pts) and the keyframes decoding can start from, for FrameReader. Built from the container's
// sample table where that says where every frame is presented (MP4/MOV, see
// indexFromContainer), else by reading every packet of the stream without decoding
// (IndexScanner), on a thread of its own while the reader is already in use.
//
// Thread-safe: the scanner appends while the reader looks frames up.

#include "media/ffmpeg_p.h"

#include <QString>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace clipdeck::media {

struct IndexedKeyframe
{
    qint64 decodeIndex = 0; // its packet's position among the stream's packets, in decode order
    int64_t dts = AV_NOPTS_VALUE;
    int64_t pos = -1;             // byte position of its packet; -1 when the demuxer does not say
    int64_t pts = AV_NOPTS_VALUE; // when !ptsKnown: a lower bound (see indexFromContainer)
    bool ptsKnown = false;
};

class FrameIndex
{
public:
    enum class Source { Container, Scan };
    explicit FrameIndex(Source source) : m_source(source) { }

    Source source() const { return m_source; }

    // --- building (one thread) -----------------------------------------------------------------
    // The stream's next packet in decode order. `pts` may be AV_NOPTS_VALUE for a packet that is
    // never shown (it then only counts for decodeIndex).
    void addPacket(int64_t pts, int64_t dts, int64_t pos, bool keyframe, bool shown);
    // No more packets: every frame is final. `failure` says why a scan stopped short.
    void finish(std::optional<Error> failure = std::nullopt);
    // For a container index whose keyframes' pts are estimates: their packets, in decode order.
    void addKeyframe(const IndexedKeyframe &keyframe);
    void addFramePts(int64_t pts); // presentation order, ascending

    // --- lookups ---------------------------------------------------------------------------------
    qint64 count() const; // frames whose numbers are final
    bool isComplete() const;
    std::optional<Error> failure() const;
    // Until frame `frame` is final or the index complete; false when `stop` returned true first
    // (asked every few milliseconds).
    bool waitFor(qint64 frame, const std::function<bool()> &stop) const;
    void waitForComplete() const;

    std::optional<int64_t> pts(qint64 frame) const;
    std::optional<qint64> frameOfPts(int64_t pts) const;
    qint64 frameShowingAt(int64_t pts) const; // the last final frame with pts <= it; -1 before frame 0
    int64_t firstPts() const;                 // AV_NOPTS_VALUE when empty
    // Mean frame duration in pts units over the final frames; 0 with fewer than two.
    double meanFrameDuration() const;
    bool isVariableFrameRate() const;

    int keyframeCount() const;
    IndexedKeyframe keyframe(int k) const;
    // The keyframe with the largest pts at or before `pts` (known or lower bound); -1 if none.
    int keyframeFor(int64_t pts) const;
    void learnKeyframePts(int k, int64_t pts);

private:
    void updateFinal(); // m_mutex held

    const Source m_source;
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_changed;
    std::vector<int64_t> m_pts; // ascending; the first m_final are final
    qint64 m_final = 0;
    std::vector<IndexedKeyframe> m_keyframes;
    qint64 m_packets = 0;
    bool m_complete = false;
    std::optional<Error> m_failure;
    mutable qint64 m_vfrCheckedAt = -1;
    mutable bool m_vfr = false;
};

// The index from an MP4/MOV sample table read at open: complete, no packet read. Only when the
// table says where every frame is presented: without reordering (no B-frames) a frame shows at
// its decode time plus a constant; with reordering only when every sample lasts the same (then
// frames show at start + n * duration, and a keyframe's own pts is known once its packet has
// been read). nullptr otherwise (then scan).
std::shared_ptr<FrameIndex> indexFromContainer(AVFormatContext *input, const AVStream *stream);

// Reads every packet of one stream of `path` (its own demuxer; no decoding) into `index` on a
// thread of its own. The destructor stops it.
class IndexScanner
{
public:
    IndexScanner(const QString &path, const Limits &limits, int streamIndex, std::shared_ptr<FrameIndex> index,
                 std::function<void(qint64 indexedFrames, bool complete)> progress);
    ~IndexScanner();
    IndexScanner(const IndexScanner &) = delete;
    IndexScanner &operator=(const IndexScanner &) = delete;

private:
    void run(const QString &path, const Limits &limits, int streamIndex);

    std::shared_ptr<FrameIndex> m_index;
    std::function<void(qint64, bool)> m_progress;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

} // namespace clipdeck::media
