#include "engine/runcontrol_p.h"

namespace clipdeck::engine {

bool RunControl::checkpoint(const media::Progress &progress)
{
    bool notify = false;
    std::unique_lock lock(m_mutex);
    if (m_canceled)
        return false;
    m_latest = progress;
    if (!m_notified) {
        m_notified = true;
        notify = true;
    }
    if (notify) {
        // Not under the lock: posting an event may take the event queue's own lock.
        lock.unlock();
        m_notify();
        lock.lock();
    }
    // Pausing is simply not returning: the operation stops where it is, holding its state.
    m_wake.wait(lock, [this] { return !m_paused || m_canceled; });
    return !m_canceled;
}

void RunControl::pause()
{
    std::lock_guard lock(m_mutex);
    m_paused = true;
}

void RunControl::resume()
{
    {
        std::lock_guard lock(m_mutex);
        m_paused = false;
    }
    m_wake.notify_all();
}

void RunControl::cancel()
{
    {
        std::lock_guard lock(m_mutex);
        m_canceled = true;
    }
    m_wake.notify_all();
}

bool RunControl::isCanceled() const
{
    std::lock_guard lock(m_mutex);
    return m_canceled;
}

std::optional<media::Progress> RunControl::takeProgress()
{
    std::lock_guard lock(m_mutex);
    m_notified = false;
    return std::exchange(m_latest, std::nullopt);
}

} // namespace clipdeck::engine
