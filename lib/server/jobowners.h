#pragma once

// Which user owns which job (the engine knows nothing of users). Kept in the server database and
// in memory; looked up on every engine event, so lookups never touch the database.
//
// A job's first event is emitted inside Engine::submit(), before submit returns its id. So the
// submitter takes a Claim first: the first job id the event path asks about that has no owner
// yet is given to the claimant. The engine emits on this thread, and submit creates exactly one
// job, so that id is the submitted job's.

#include <QHash>
#include <QString>

#include <memory>
#include <optional>

namespace clipdeck::server {

class Database;

class JobOwners
{
public:
    struct Entry
    {
        QString owner;
        QString outputDir; // the job's own output folder (removed with the job)
    };

    explicit JobOwners(Database &database) : m_database(database) { }

    bool load(QString *error);

    std::optional<Entry> find(const QString &jobId) const;
    // Who owns the job; binds an active claim to a job nobody owns yet (see above).
    std::optional<QString> resolve(const QString &jobId);
    void forget(const QString &jobId);

    class Claim
    {
    public:
        ~Claim();
        Claim(const Claim &) = delete;
        Claim &operator=(const Claim &) = delete;
        // The job the claim went to (empty if no event came).
        QString jobId() const;

    private:
        friend class JobOwners;
        explicit Claim(JobOwners &owners) : m_owners(owners) { }
        JobOwners &m_owners;
    };
    [[nodiscard]] std::unique_ptr<Claim> claimNext(const QString &owner, const QString &outputDir);
    // Records the owner when no event bound the claim (defensive: submit always emits).
    bool assign(const QString &jobId, const QString &owner, const QString &outputDir);

private:
    Database &m_database;
    QHash<QString, Entry> m_entries;
    std::optional<Entry> m_claim;
    QString m_claimedJob;
};

} // namespace clipdeck::server
