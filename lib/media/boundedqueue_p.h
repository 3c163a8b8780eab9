#pragma once

// Internal to lib/media: the hand-off between pipeline threads. Bounded, so a fast stage waits
// for a slow one instead of buffering a whole film in memory (back-pressure is also what makes
// a paused muxer stall every stage behind it). close() ends the stream in order: consumers drain
// what is queued, then see the end. abort() ends it now: everything queued is dropped and every
// waiting producer and consumer wakes up, which is how cancel and errors stop the pipeline.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace clipdeck::media {

template <typename T>
class BoundedQueue
{
public:
    explicit BoundedQueue(std::size_t capacity) : m_capacity(capacity) { }
    BoundedQueue(const BoundedQueue &) = delete;
    BoundedQueue &operator=(const BoundedQueue &) = delete;

    // Waits while full. False when the queue was aborted or closed: the item is dropped.
    bool push(T item)
    {
        std::unique_lock lock(m_mutex);
        m_notFull.wait(lock, [&] { return m_items.size() < m_capacity || m_aborted || m_closed; });
        if (m_aborted || m_closed)
            return false;
        m_items.push_back(std::move(item));
        m_notEmpty.notify_one();
        return true;
    }

    // Waits while empty. nullopt at the end: closed and drained, or aborted.
    std::optional<T> pop()
    {
        std::unique_lock lock(m_mutex);
        m_notEmpty.wait(lock, [&] { return !m_items.empty() || m_aborted || m_closed; });
        return takeLocked();
    }

    enum class Wait { Item, Timeout, End };

    // Like pop(), but gives up after `timeout` so the caller can do periodic work.
    Wait popFor(T &out, std::chrono::milliseconds timeout)
    {
        std::unique_lock lock(m_mutex);
        if (!m_notEmpty.wait_for(lock, timeout, [&] { return !m_items.empty() || m_aborted || m_closed; }))
            return Wait::Timeout;
        auto item = takeLocked();
        if (!item)
            return Wait::End;
        out = std::move(*item);
        return Wait::Item;
    }

    void close()
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        m_notEmpty.notify_all();
        m_notFull.notify_all();
    }

    void abort()
    {
        std::lock_guard lock(m_mutex);
        m_aborted = true;
        m_items.clear();
        m_notEmpty.notify_all();
        m_notFull.notify_all();
    }

    bool aborted() const
    {
        std::lock_guard lock(m_mutex);
        return m_aborted;
    }

private:
    std::optional<T> takeLocked()
    {
        if (m_aborted || m_items.empty())
            return std::nullopt;
        std::optional<T> item(std::move(m_items.front()));
        m_items.pop_front();
        m_notFull.notify_one();
        return item;
    }

    const std::size_t m_capacity;
    mutable std::mutex m_mutex;
    std::condition_variable m_notEmpty;
    std::condition_variable m_notFull;
    std::deque<T> m_items;
    bool m_closed = false;
    bool m_aborted = false;
};

} // namespace clipdeck::media
