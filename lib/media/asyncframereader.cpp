#include "media/framereader.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace clipdeck::media {

namespace {
// Pictures decoded ahead after a step forward: a held arrow key asks ~30 a second.
constexpr int StepAhead = 12;
} // namespace

struct AsyncFrameReader::Private
{
    struct Request
    {
        qint64 frame = 0;
        int flags = 0;
    };

    void run();
    // Asked by the decoder at every frame boundary (remaining < 0: while waiting for the index).
    bool shouldAbandon(qint64 remaining);

    std::unique_ptr<FrameReader> reader;
    Callbacks callbacks;
    std::mutex mutex;
    std::condition_variable wake;
    std::condition_variable idle;
    std::optional<Request> pending; // the newest request not yet started
    qint64 previousFrame = -1;      // the last one decoded: tells a step from a jump
    bool busy = false;
    bool stopping = false;
    std::thread thread;
};

AsyncFrameReader::AsyncFrameReader(std::unique_ptr<FrameReader> reader, Callbacks callbacks)
    : d(std::make_unique<Private>())
{
    d->reader = std::move(reader);
    d->callbacks = std::move(callbacks);
    d->thread = std::thread([this] { d->run(); });
}

AsyncFrameReader::~AsyncFrameReader()
{
    {
        std::lock_guard lock(d->mutex);
        d->stopping = true;
        d->pending.reset();
    }
    d->wake.notify_all();
    d->thread.join();
}

void AsyncFrameReader::request(qint64 frame, int flags)
{
    {
        std::lock_guard lock(d->mutex);
        d->pending = Private::Request{frame, flags};
    }
    d->wake.notify_all();
}

void AsyncFrameReader::waitUntilIdle()
{
    std::unique_lock lock(d->mutex);
    d->idle.wait(lock, [this] { return !d->pending && !d->busy; });
}

const FrameReader &AsyncFrameReader::reader() const
{
    return *d->reader;
}

bool AsyncFrameReader::Private::shouldAbandon(qint64 remaining)
{
    std::optional<Request> newer;
    {
        std::lock_guard lock(mutex);
        if (stopping)
            return true;
        newer = pending;
    }
    if (!newer)
        return false;
    if (remaining < 0)
        return true; // still waiting for the index to reach the old target
    // Finish what costs no more than the newer request: a drag then keeps showing exact frames
    // instead of abandoning every decode for the next position (measured in
    // docs/benchmarks.md: abandoning whenever finishing costs more than half showed a tenth of
    // the exact frames in a fast drag; never abandoning left the end of a drag waiting).
    const qint64 cost = reader->estimatedCost(newer->frame);
    return cost < 0 || remaining > cost;
}

void AsyncFrameReader::Private::run()
{
    for (;;) {
        Request request;
        {
            std::unique_lock lock(mutex);
            wake.wait(lock, [this] { return pending || stopping; });
            if (stopping)
                return;
            request = *pending;
            pending.reset();
            busy = true;
        }
        FrameReader::DecodeHooks hooks;
        if ((request.flags & QuickKeyframe) && callbacks.frameReady)
            hooks.quickPicture = callbacks.frameReady;
        hooks.abandon = [this](qint64 remaining) { return shouldAbandon(remaining); };
        hooks.fastest = true;
        auto result = reader->decode(request.frame, hooks);
        if (auto *frame = std::get_if<DecodedFrame>(&result)) {
            if (callbacks.frameReady)
                callbacks.frameReady(*frame);
            // While nothing else is asked for: decode what the fastest way left out, so that
            // steps both ways from here find their pictures kept or next in the decoder.
            // One or two frames on is a step forward: a dozen pictures ahead make the next ones
            // free. One or two back, near the GOP's start: the GOP before makes the crossing free.
            const qint64 move = request.frame - previousFrame;
            const bool stepForward = previousFrame >= 0 && move > 0 && move <= 2;
            const bool stepBack = previousFrame >= 0 && move < 0 && move >= -2;
            reader->settle(request.frame, stepForward ? StepAhead : 0, stepBack, [this](qint64) {
                std::lock_guard lock(mutex);
                return stopping || pending.has_value();
            });
            previousFrame = request.frame;
        } else if (const auto &error = std::get<Error>(result); error.code != errors::Canceled && callbacks.failed) {
            callbacks.failed(request.frame, error);
        }
        {
            std::lock_guard lock(mutex);
            busy = false;
        }
        idle.notify_all();
    }
}

} // namespace clipdeck::media
