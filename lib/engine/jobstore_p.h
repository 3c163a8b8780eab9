#pragma once

// Internal to the engine: the queue and history in SQLite (Qt Sql, QSQLITE). One row per job:
// the schema v1 snapshot as JSON (the same bytes the events carry, so there is one format to
// keep valid) plus what the snapshot does not hold: the output folder, the queue order and the
// seq reservation. Used from the engine's thread only.
//
// The contract every job store keeps (this one on SQLite; a Redis store must keep it too):
//  - save() returns once the row survives the death of the process (kill -9): a WAL commit
//    here. (synchronous=NORMAL: a power cut may still lose the last moments; the guarantees
//    below are for the process dying, which is what happens far more often.)
//  - The seq reservation. The engine emits a job's events before it writes progress down (in
//    batches), so the stored snapshot may be behind what watchers have seen. StoredJob::seqReserved
//    is the highest seq the engine may emit before it writes the row again: it saves a
//    reservation before emitting any seq above the stored one (ahead, in blocks, so that most
//    events write nothing). After a crash the engine goes on above the reservation, so a job's
//    seq never goes back, and no seq is given to two different snapshots. A store keeps the
//    number exactly as saved, with the row, in the same write.

#include "jobs/job.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <memory>

class QSqlQuery;

namespace clipdeck::engine {

struct StoredJob
{
    jobs::Job job;
    QString outputDir;
    quint64 order = 0; // FIFO position among equal priorities
    // No event of the job has a seq above this one (or above job.seq) until the row is saved
    // again. 0: written before reservations existed (schema version 1).
    qint64 seqReserved = 0;
};

class JobStore
{
public:
    // The database's layout version (PRAGMA user_version); open() migrates older files step by
    // step and refuses newer ones.
    static constexpr int SchemaVersion = 2;

    // connectionName must be unique in the process (Qt Sql registers connections by name).
    explicit JobStore(QString connectionName);
    ~JobStore();
    JobStore(const JobStore &) = delete;
    JobStore &operator=(const JobStore &) = delete;

    // Opens or creates the file (WAL, synchronous=NORMAL) and brings its schema up to date.
    bool open(const QString &path);
    void close();
    bool isOpen() const;
    QString errorString() const { return m_error; }

    // Every job, in queue order. A row that cannot be read (say, edited by hand) is skipped
    // and named in warnings rather than failing the whole load.
    QList<StoredJob> load(QStringList *warnings = nullptr);

    // Insert or replace. The list form writes in one transaction (batched progress updates).
    bool save(const StoredJob &job);
    bool save(const QList<StoredJob> &jobs);
    bool remove(const QString &id);

private:
    bool exec(const QString &sql);
    bool migrate();
    bool writeRow(const StoredJob &job);
    bool fail(const QString &what, const QString &detail);

    QString m_connectionName;
    QString m_error;
    std::unique_ptr<QSqlQuery> m_upsert; // prepared once: the statement every event writes
};

} // namespace clipdeck::engine
