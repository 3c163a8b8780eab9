#include "client/enginejobsource.h"

#include "engine/engine.h"
#include "media/operation.h"

#include <QFileInfo>
#include <QPointer>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace clipdeck::client {

// The job schema's types are this library's vocabulary.
using namespace clipdeck::jobs;
using engine::Engine;

namespace {
jobs::Error engineGone()
{
    return {QString(jobs::errors::InvalidState), EngineJobSource::tr("The local engine is not running.")};
}
} // namespace

struct EngineJobSource::Private
{
    QPointer<Engine> engine;
    bool started = false;

    using Action = std::optional<jobs::Error> (Engine::*)(const QString &);
    void act(EngineJobSource *q, const QString &jobId, const QString &name, Action action)
    {
        const std::optional<jobs::Error> error = engine ? (engine.data()->*action)(jobId) : engineGone();
        if (error)
            emit q->actionFailed(jobId, name, *error);
    }
};

EngineJobSource::EngineJobSource(Engine *engine, QObject *parent) : JobSource(parent), d(std::make_unique<Private>())
{
    d->engine = engine;
}

EngineJobSource::~EngineJobSource() = default;

QString EngineJobSource::sourceId() const
{
    return u"local"_s;
}

QString EngineJobSource::displayName() const
{
    return tr("This computer");
}

client::JobSource::ConnectionState EngineJobSource::connectionState() const
{
    return d->started && d->engine ? ConnectionState::Connected : ConnectionState::Offline;
}

void EngineJobSource::start()
{
    if (d->started || !d->engine)
        return;
    d->started = true;
    // Subscribe before reading the list: the engine emits on this thread, so nothing can fall
    // between the two, and a snapshot seen twice is dropped by the model's seq check.
    connect(d->engine, &Engine::jobUpdated, this, &JobSource::jobUpdated);
    connect(d->engine, &Engine::jobRemoved, this, &JobSource::jobRemoved);
    connect(d->engine, &QObject::destroyed, this, [this] {
        d->started = false;
        emit connectionStateChanged();
    });
    emit connectionStateChanged();
    const QList<jobs::Job> all = d->engine->jobs();
    for (const jobs::Job &job : all)
        emit jobUpdated(job);
}

void EngineJobSource::stop()
{
    if (!d->started)
        return;
    d->started = false;
    if (d->engine)
        disconnect(d->engine, nullptr, this, nullptr);
    emit connectionStateChanged();
}

QString EngineJobSource::submit(const client::JobSubmission &submission)
{
    const QString token = QUuid::createUuid().toString(QUuid::WithoutBraces);
    if (!d->engine) {
        const jobs::Error error = engineGone();
        // Queued: the caller gets the token before it hears that the submission failed.
        QMetaObject::invokeMethod(
            this, [this, token, error] { emit submitFailed(token, error); }, Qt::QueuedConnection);
        return token;
    }
    const engine::SubmitResult result = d->engine->submit(submission.kind, submission.inputPath, submission.params,
                                                          submission.priority, submission.outputDir);
    if (result.error) {
        const jobs::Error error = *result.error;
        QMetaObject::invokeMethod(
            this, [this, token, error] { emit submitFailed(token, error); }, Qt::QueuedConnection);
    }
    // On success the engine has already emitted the job's first snapshot (to us, if started).
    return token;
}

// Engine actions answer at once: a refusal becomes actionFailed, success shows up as the job's
// next snapshot.
void EngineJobSource::cancel(const QString &jobId)
{
    d->act(this, jobId, u"cancel"_s, &Engine::cancel);
}

void EngineJobSource::pause(const QString &jobId)
{
    d->act(this, jobId, u"pause"_s, &Engine::pause);
}

void EngineJobSource::resume(const QString &jobId)
{
    d->act(this, jobId, u"resume"_s, &Engine::resume);
}

void EngineJobSource::retry(const QString &jobId)
{
    d->act(this, jobId, u"retry"_s, &Engine::retry);
}

void EngineJobSource::remove(const QString &jobId)
{
    d->act(this, jobId, u"remove"_s, &Engine::remove);
}

QString EngineJobSource::clipName(const jobs::Job &job) const
{
    return QFileInfo(job.input).fileName();
}

void EngineJobSource::fetchOutput(const QString &jobId, const QString &outputName)
{
    const auto job = d->engine ? d->engine->job(jobId) : std::nullopt;
    if (!job) {
        emit actionFailed(jobId, u"fetch"_s, {QString(jobs::errors::NotFound), tr("There is no job %1.").arg(jobId)});
        return;
    }
    for (const jobs::Output &output : job->outputs) {
        if (output.name != outputName)
            continue;
        // Local outputs already are files; only check that nobody moved or deleted it since.
        if (QFileInfo(output.path).isFile()) {
            emit outputReady(jobId, outputName, output.path);
            return;
        }
        emit actionFailed(jobId, u"fetch"_s,
                          {QString(media::errors::FileNotFound),
                           tr("The output %1 is no longer at %2.").arg(outputName, output.path)});
        return;
    }
    emit actionFailed(
        jobId, u"fetch"_s,
        {QString(media::errors::FileNotFound), tr("Job %1 has no output named %2.").arg(jobId, outputName)});
}

} // namespace clipdeck::client
