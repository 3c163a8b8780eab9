#pragma once

// Internal to the engine: the queue and history in SQLite (Qt Sql, QSQLITE). One row per job:
// the schema v1 snapshot as JSON (the same bytes the events carry, so there is one format to
// keep valid) plus what the snapshot does not hold: the output folder and the queue order.
// Used from the engine's thread only.

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
};

class JobStore
{
public:
    // The database's layout version (PRAGMA user_version); open() migrates older files step by
    // step and refuses newer ones.
    static constexpr int SchemaVersion = 1;

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
