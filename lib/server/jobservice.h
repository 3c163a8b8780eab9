#pragma once

// The job API over the engine, with ownership: what a user may submit, see and do. Every job a
// client sees comes through JobView (server paths rewritten). Validation happens before the
// engine creates anything, and the engine itself refuses bad kinds and parameters before it
// creates a job, so a refused submit leaves nothing behind.

#include "jobs/job.h"
#include "server/apierror.h"
#include "server/streamhub.h"

#include <QByteArray>
#include <QJsonObject>
#include <QLatin1StringView>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>
#include <variant>

namespace clipdeck::engine {
class Engine;
}

namespace clipdeck::server {

class JobOwners;
class JobView;
class MediaStore;

struct OutputFile
{
    QString path;
    QString mime;
    qint64 size = 0;
};

class JobService
{
public:
    enum class Action { Cancel, Pause, Resume, Retry };

    JobService(engine::Engine &engine, JobOwners &owners, MediaStore &media, const JobView &view, QString outputRoot);

    // body: {"kind", "mediaId", "params"?, "priority"?}
    std::variant<jobs::Job, ApiError> submit(const QString &user, const QJsonObject &body);
    std::optional<jobs::Job> find(const QString &user, const QString &id) const; // client view
    // statuses empty: all
    QList<jobs::Job> list(const QString &user, const QList<jobs::Status> &statuses) const;
    std::variant<jobs::Job, ApiError> act(const QString &user, const QString &id, Action action);
    std::optional<ApiError> remove(const QString &user, const QString &id);
    std::variant<OutputFile, ApiError> output(const QString &user, const QString &id, const QString &name) const;
    // DELETE /api/media/{id}: the user's media, file and record, unless a job not finished
    // uses it (409 media_in_use). Here rather than in the media routes: it depends on the jobs.
    std::optional<ApiError> removeMedia(const QString &user, const QString &mediaId);
    static constexpr QLatin1StringView MediaInUse{"media_in_use"};

    // For streams: the current snapshot of one job, and what a user stream starts with (every
    // job not finished, and the most recently finished ones), oldest first.
    std::optional<Snapshot> current(const QString &user, const QString &id) const;
    QList<Snapshot> snapshotsFor(const QString &user) const;
    static constexpr int RecentFinishedInSnapshots = 100;

    // For metrics.
    QMap<jobs::Status, int> countByStatus() const;

    // How a client-view job becomes SSE bytes (jobs::appendJobEvent: byte for byte what
    // `clipdeck-cli render --events` writes).
    static EventEncoder encoderFor(const jobs::Job &clientJob);
    static Snapshot snapshotOf(const jobs::Job &clientJob);

private:
    bool owns(const QString &user, const QString &id) const;

    engine::Engine &m_engine;
    JobOwners &m_owners;
    MediaStore &m_media;
    const JobView &m_view;
    QString m_outputRoot;
};

} // namespace clipdeck::server
