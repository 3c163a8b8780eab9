#pragma once

// Internal to the engine: the media::Control of one running attempt, shared between the worker
// thread that runs the operation and the engine's thread that pauses, resumes and cancels it.

#include "media/operation.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

namespace clipdeck::engine {

class RunControl final : public media::Control
{
public:
    // notify is called on the worker thread when a report is waiting and none was waiting
    // before: however often an operation checks in, the engine's thread gets at most one
    // wake-up per report it has not yet taken.
    explicit RunControl(std::function<void()> notify) : m_notify(std::move(notify)) { }

    // Worker thread.
    bool checkpoint(const media::Progress &progress) override;

    // Engine thread.
    void pause();
    void resume();
    void cancel();
    bool isCanceled() const;
    std::optional<media::Progress> takeProgress();

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_paused = false;
    bool m_canceled = false;
    bool m_notified = false;
    std::optional<media::Progress> m_latest;
    std::function<void()> m_notify;
};

} // namespace clipdeck::engine
