#pragma once

// The local engine as a JobSource: "This computer" in the job monitor. Reports the engine's jobs
// and routes actions to it; the application owns the Engine and keeps it alive longer than this.

#include "client/jobsource.h"

#include <memory>

namespace clipdeck::engine {
class Engine;
}

namespace clipdeck::client {

class EngineJobSource : public JobSource
{
    Q_OBJECT

public:
    explicit EngineJobSource(engine::Engine *engine, QObject *parent = nullptr);
    ~EngineJobSource() override;

    QString sourceId() const override;                // "local"
    QString displayName() const override;             // "This computer"
    ConnectionState connectionState() const override; // Connected once started

    void start() override;
    void stop() override;

    QString submit(const client::JobSubmission &submission) override;
    void cancel(const QString &jobId) override;
    void pause(const QString &jobId) override;
    void resume(const QString &jobId) override;
    void retry(const QString &jobId) override;
    void remove(const QString &jobId) override;

    QString clipName(const jobs::Job &job) const override;
    void fetchOutput(const QString &jobId, const QString &outputName) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace clipdeck::client
