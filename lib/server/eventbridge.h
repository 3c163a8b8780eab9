#pragma once

// Engine events into the stream hub: every snapshot the engine emits (jobUpdated, on this
// thread) is made fit for clients (JobView) and published to its owner's streams. This is the
// only way updates reach streams — no stream ever reads the job store.

#include <QObject>

namespace clipdeck::engine {
class Engine;
}

namespace clipdeck::server {

class JobOwners;
class JobView;
class StreamHub;

class EventBridge : public QObject
{
    Q_OBJECT

public:
    EventBridge(engine::Engine &engine, JobOwners &owners, const JobView &view, StreamHub &hub,
                QObject *parent = nullptr);
};

} // namespace clipdeck::server
