#include "media/framereader.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace clipdeck::media {

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
    // Finish what costs at most half of the newer request: a drag then keeps showing exact
    // frames instead of abandoning every decode for the next position.
    const qint64 cost = reader->estimatedCost(newer->frame);
    return cost < 0 || 2 * remaining > cost;
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
        std::function<void(const DecodedFrame &)> quick;
        if ((request.flags & QuickKeyframe) && callbacks.frameReady)
            quick = callbacks.frameReady;
        auto result =
            reader->decode(request.frame, quick, [this](qint64 remaining) { return shouldAbandon(remaining); });
        if (auto *frame = std::get_if<DecodedFrame>(&result)) {
            if (callbacks.frameReady)
                callbacks.frameReady(*frame);
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
