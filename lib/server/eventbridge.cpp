#include "server/eventbridge.h"

#include "engine/engine.h"
#include "server/jobowners.h"
#include "server/jobservice.h"
#include "server/jobview.h"
#include "server/streamhub.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcBridge, "clipdeck.server.events", QtInfoMsg)

namespace clipdeck::server {

EventBridge::EventBridge(engine::Engine &engine, JobOwners &owners, const JobView &view, StreamHub &hub,
                         QObject *parent)
    : QObject(parent)
{
    connect(&engine, &engine::Engine::jobUpdated, this, [&owners, &view, &hub](const jobs::Job &job) {
        const auto owner = owners.resolve(job.id);
        if (!owner) {
            // A job in the engine's store that no API call made (or whose owner was lost):
            // nobody may see it.
            qCDebug(lcBridge, "job %s has no owner; its events go nowhere", qPrintable(job.id));
            return;
        }
        const jobs::Job client = view.forClient(job);
        hub.publish(client.id, *owner, client.seq, client.isTerminal(), JobService::encoderFor(client));
    });
    connect(&engine, &engine::Engine::jobRemoved, this, [&hub](const QString &id) { hub.forgetJob(id); });
}

} // namespace clipdeck::server
