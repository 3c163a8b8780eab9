#pragma once

// Internal to lib/media: the decoded pictures a FrameReader keeps, by frame number, within a
// memory cap. Decoding to frame N passes every picture from its keyframe on; keeping them makes
// stepping back within the GOP free, and a step back across a GOP boundary decodes the previous
// GOP once. When over the cap, the pictures farthest from the frame asked for go first.
// Used from the decoding thread only.

extern "C" {
#include <libavutil/frame.h>
}

#include <QtGlobal>

#include <map>
#include <memory>

namespace clipdeck::media {

class FrameCache
{
public:
    explicit FrameCache(qint64 capacityBytes) : m_capacity(capacityBytes) { }

    std::shared_ptr<AVFrame> find(qint64 frame) const
    {
        const auto it = m_frames.find(frame);
        return it == m_frames.end() ? nullptr : it->second.picture;
    }
    bool contains(qint64 frame) const { return m_frames.count(frame) != 0; }

    // Keeps `picture` as frame `frame` (replacing what was kept for it), then evicts the pictures
    // farthest from `near` until within the cap. `near` itself is evicted last.
    void insert(qint64 frame, std::shared_ptr<AVFrame> picture, qint64 near)
    {
        const qint64 size = bytesOf(picture.get());
        auto &entry = m_frames[frame];
        m_bytes += size - entry.bytes;
        entry = Entry{std::move(picture), size};
        while (m_bytes > m_capacity && !m_frames.empty()) {
            auto first = m_frames.begin();
            auto last = std::prev(m_frames.end());
            auto victim = (near - first->first) >= (last->first - near) ? first : last;
            if (victim->first == near && m_frames.size() > 1)
                victim = victim == first ? last : first;
            m_bytes -= victim->second.bytes;
            m_frames.erase(victim);
        }
    }

    void clear()
    {
        m_frames.clear();
        m_bytes = 0;
    }
    qint64 bytes() const { return m_bytes; }
    qint64 count() const { return qint64(m_frames.size()); }

    static qint64 bytesOf(const AVFrame *picture)
    {
        qint64 total = 0;
        for (const AVBufferRef *buffer : picture->buf) {
            if (buffer)
                total += qint64(buffer->size);
        }
        return total;
    }

private:
    struct Entry
    {
        std::shared_ptr<AVFrame> picture;
        qint64 bytes = 0;
    };
    qint64 m_capacity;
    qint64 m_bytes = 0;
    std::map<qint64, Entry> m_frames;
};

} // namespace clipdeck::media
