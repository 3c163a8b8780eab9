#include "media/frameindex_p.h"

#include <QElapsedTimer>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

namespace clipdeck::media {

void FrameIndex::addPacket(int64_t pts, int64_t dts, int64_t pos, bool keyframe, bool shown)
{
    std::lock_guard lock(m_mutex);
    if (shown && pts != AV_NOPTS_VALUE) {
        // Packets come in decode order: a picture's place in presentation order is near the end.
        const auto at = std::upper_bound(m_pts.begin(), m_pts.end(), pts);
        if (at == m_pts.begin() || *(at - 1) != pts) // a repeated timestamp is one frame
            m_pts.insert(at, pts);
    }
    if (keyframe) {
        IndexedKeyframe k;
        k.decodeIndex = m_packets;
        k.dts = dts;
        k.pos = pos;
        k.ptsKnown = pts != AV_NOPTS_VALUE;
        k.pts = k.ptsKnown ? pts : dts; // dts <= pts: a lower bound
        m_keyframes.push_back(k);
        updateFinal();
    }
    ++m_packets;
}

void FrameIndex::updateFinal()
{
    // A picture decoded after keyframe K(j) may be shown before it (open GOPs), never before
    // K(j-1): once K(j) is read, every frame shown before K(j-1) is in and its number final.
    if (m_keyframes.size() < 2)
        return;
    const int64_t threshold = m_keyframes[m_keyframes.size() - 2].pts;
    const qint64 final = std::lower_bound(m_pts.begin(), m_pts.end(), threshold) - m_pts.begin();
    if (final > m_final) {
        m_final = final;
        m_changed.notify_all();
    }
}

void FrameIndex::addKeyframe(const IndexedKeyframe &keyframe)
{
    std::lock_guard lock(m_mutex);
    m_keyframes.push_back(keyframe);
}

void FrameIndex::addFramePts(int64_t pts)
{
    std::lock_guard lock(m_mutex);
    m_pts.push_back(pts);
}

void FrameIndex::finish(std::optional<Error> failure)
{
    std::lock_guard lock(m_mutex);
    m_final = qint64(m_pts.size());
    m_complete = true;
    m_failure = std::move(failure);
    m_changed.notify_all();
}

qint64 FrameIndex::count() const
{
    std::lock_guard lock(m_mutex);
    return m_final;
}

bool FrameIndex::isComplete() const
{
    std::lock_guard lock(m_mutex);
    return m_complete;
}

std::optional<Error> FrameIndex::failure() const
{
    std::lock_guard lock(m_mutex);
    return m_failure;
}

bool FrameIndex::waitFor(qint64 frame, const std::function<bool()> &stop) const
{
    std::unique_lock lock(m_mutex);
    while (frame >= m_final && !m_complete) {
        if (stop && stop())
            return false;
        m_changed.wait_for(lock, std::chrono::milliseconds(10));
    }
    return true;
}

void FrameIndex::waitForComplete() const
{
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return m_complete; });
}

std::optional<int64_t> FrameIndex::pts(qint64 frame) const
{
    std::lock_guard lock(m_mutex);
    if (frame < 0 || frame >= m_final)
        return std::nullopt;
    return m_pts[size_t(frame)];
}

std::optional<qint64> FrameIndex::frameOfPts(int64_t pts) const
{
    std::lock_guard lock(m_mutex);
    const auto end = m_pts.begin() + m_final;
    const auto at = std::lower_bound(m_pts.begin(), end, pts);
    if (at == end || *at != pts)
        return std::nullopt;
    return qint64(at - m_pts.begin());
}

qint64 FrameIndex::frameShowingAt(int64_t pts) const
{
    std::lock_guard lock(m_mutex);
    const auto end = m_pts.begin() + m_final;
    return qint64(std::upper_bound(m_pts.begin(), end, pts) - m_pts.begin()) - 1;
}

int64_t FrameIndex::firstPts() const
{
    std::lock_guard lock(m_mutex);
    return m_pts.empty() ? AV_NOPTS_VALUE : m_pts.front();
}

double FrameIndex::meanFrameDuration() const
{
    std::lock_guard lock(m_mutex);
    if (m_final < 2)
        return 0;
    return double(m_pts[size_t(m_final - 1)] - m_pts[0]) / double(m_final - 1);
}

bool FrameIndex::isVariableFrameRate() const
{
    std::lock_guard lock(m_mutex);
    if (m_vfrCheckedAt == m_final)
        return m_vfr;
    m_vfrCheckedAt = m_final;
    m_vfr = false;
    if (m_final < 3)
        return m_vfr;
    const double mean = double(m_pts[size_t(m_final - 1)] - m_pts[0]) / double(m_final - 1);
    // Containers round timestamps to their time base (Matroska: milliseconds, so 29.97 fps
    // alternates 33 and 34): a tick of jitter, plus half a percent, is still a constant rate.
    const double tolerance = 1.0 + 0.005 * mean;
    for (qint64 i = 1; i < m_final; ++i) {
        if (std::abs(double(m_pts[size_t(i)] - m_pts[size_t(i - 1)]) - mean) > tolerance) {
            m_vfr = true;
            break;
        }
    }
    return m_vfr;
}

int FrameIndex::keyframeCount() const
{
    std::lock_guard lock(m_mutex);
    return int(m_keyframes.size());
}

IndexedKeyframe FrameIndex::keyframe(int k) const
{
    std::lock_guard lock(m_mutex);
    return m_keyframes.at(size_t(k));
}

int FrameIndex::keyframeFor(int64_t pts) const
{
    std::lock_guard lock(m_mutex);
    if (m_keyframes.empty())
        return -1;
    // Keyframes show in decode order, and lower bounds keep that order (see indexFromContainer).
    const auto after = std::partition_point(m_keyframes.begin(), m_keyframes.end(),
                                            [pts](const IndexedKeyframe &k) { return k.pts <= pts; });
    return after == m_keyframes.begin() ? 0 : int(after - m_keyframes.begin()) - 1;
}

void FrameIndex::learnKeyframePts(int k, int64_t pts)
{
    std::lock_guard lock(m_mutex);
    IndexedKeyframe &keyframe = m_keyframes.at(size_t(k));
    keyframe.pts = pts;
    keyframe.ptsKnown = true;
}

std::shared_ptr<FrameIndex> indexFromContainer(AVFormatContext *input, const AVStream *stream)
{
    // Only the MOV demuxer reads the whole sample table at open. A fragmented MP4 announces no
    // frames (nb_frames 0) and gets its table fragment by fragment: scan it.
    if (!input->iformat || !std::strstr(input->iformat->name, "mov") || stream->nb_frames <= 0)
        return nullptr;
    auto *st = const_cast<AVStream *>(stream);
    const int entries = avformat_index_get_entries_count(st);
    if (entries < stream->nb_frames)
        return nullptr;

    // MOV index entries hold decode times (DTS); frames the edit list cuts are marked discard.
    std::vector<int64_t> shownDts;
    shownDts.reserve(size_t(entries));
    for (int i = 0; i < entries; ++i) {
        const AVIndexEntry *e = avformat_index_get_entry(st, i);
        if (!e || e->timestamp == AV_NOPTS_VALUE)
            return nullptr;
        if (!(e->flags & AVINDEX_DISCARD_FRAME))
            shownDts.push_back(e->timestamp);
    }
    if (shownDts.empty())
        return nullptr;
    for (size_t i = 1; i < shownDts.size(); ++i) {
        if (shownDts[i] <= shownDts[i - 1])
            return nullptr;
    }
    const bool reordered = stream->codecpar->video_delay > 0;
    const int64_t start = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : shownDts.front();
    int64_t step = 0;
    if (reordered) {
        // With B-frames a picture shows at DTS + its composition offset, which the index does
        // not keep. When every sample lasts the same, the pictures show on that grid from the
        // first one; otherwise only reading the packets tells.
        step = shownDts.size() > 1 ? shownDts[1] - shownDts[0] : 1;
        for (size_t i = 1; i < shownDts.size(); ++i) {
            if (shownDts[i] - shownDts[i - 1] != step)
                return nullptr;
        }
    }
    const int64_t offset = start - shownDts.front(); // without reordering: pts = dts + offset

    auto index = std::make_shared<FrameIndex>(FrameIndex::Source::Container);
    qint64 shownBefore = 0;
    for (int i = 0; i < entries; ++i) {
        const AVIndexEntry *e = avformat_index_get_entry(st, i);
        const bool shown = !(e->flags & AVINDEX_DISCARD_FRAME);
        if (e->flags & AVINDEX_KEYFRAME) {
            IndexedKeyframe k;
            k.decodeIndex = i;
            k.dts = e->timestamp;
            k.pos = e->pos;
            if (reordered) {
                // In a closed GOP the keyframe is the first picture of its GOP to show, after
                // all shown before it in decode order; leading pictures of an open GOP show
                // before it, so this is a lower bound, exact once its packet is read.
                k.pts = start + shownBefore * step;
                k.ptsKnown = false;
            } else {
                k.pts = e->timestamp + offset;
                k.ptsKnown = true;
            }
            index->addKeyframe(k);
        }
        if (shown)
            ++shownBefore;
    }
    for (size_t n = 0; n < shownDts.size(); ++n)
        index->addFramePts(reordered ? start + int64_t(n) * step : shownDts[n] + offset);
    index->finish();
    return index;
}

IndexScanner::IndexScanner(const QString &path, const Limits &limits, int streamIndex,
                           std::shared_ptr<FrameIndex> index, std::function<void(qint64, bool)> progress)
    : m_index(std::move(index)), m_progress(std::move(progress))
{
    m_thread = std::thread([this, path, limits, streamIndex] { run(path, limits, streamIndex); });
}

IndexScanner::~IndexScanner()
{
    m_stop = true;
    m_thread.join();
}

void IndexScanner::run(const QString &path, const Limits &limits, int streamIndex)
{
    auto report = [this](bool complete) {
        if (m_progress)
            m_progress(m_index->count(), complete);
    };
    auto opened = ff::openInput(path, limits);
    if (auto *e = ff::errorOf(opened)) {
        m_index->finish(*e);
        report(true);
        return;
    }
    ff::InputContext input = std::move(std::get<ff::InputContext>(opened));
    input->interrupt_callback.callback = [](void *stop) -> int {
        return static_cast<std::atomic<bool> *>(stop)->load() ? 1 : 0;
    };
    input->interrupt_callback.opaque = &m_stop;
    if (streamIndex >= int(input->nb_streams)) {
        m_index->finish(Error{errors::Internal, QStringLiteral("The video stream disappeared while indexing.")});
        report(true);
        return;
    }
    for (unsigned i = 0; i < input->nb_streams; ++i)
        input->streams[i]->discard = int(i) == streamIndex ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    const bool reordered = input->streams[streamIndex]->codecpar->video_delay > 0;

    ff::Packet packet = ff::makePacket();
    QElapsedTimer sinceReport;
    sinceReport.start();
    std::optional<Error> failure;
    for (;;) {
        const int rc = av_read_frame(input.get(), packet.get());
        if (m_stop) {
            m_index->finish(Error{errors::Canceled, QStringLiteral("Indexing was stopped.")});
            return; // the reader is going away: nobody asks for more
        }
        if (rc < 0) {
            // The end, or a file that ends early or damaged at the tail: every frame read so far
            // is good and indexed. Anything else (an I/O error) stops the index short.
            if (rc != AVERROR_EOF && rc != AVERROR_INVALIDDATA)
                failure = ff::decodeError(rc, QStringLiteral("The video's index"));
            break;
        }
        if (packet->stream_index == streamIndex) {
            int64_t pts = packet->pts;
            if (pts == AV_NOPTS_VALUE && !reordered)
                pts = packet->dts; // shown in decode order
            const bool shown = !(packet->flags & AV_PKT_FLAG_DISCARD) && pts != AV_NOPTS_VALUE;
            m_index->addPacket(pts, packet->dts, packet->pos, packet->flags & AV_PKT_FLAG_KEY, shown);
            if (sinceReport.elapsed() >= 100) {
                report(false);
                sinceReport.restart();
            }
        }
        av_packet_unref(packet.get());
    }
    m_index->finish(std::move(failure));
    report(true);
}

} // namespace clipdeck::media
