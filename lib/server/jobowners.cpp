#include "server/jobowners.h"

#include "server/database.h"

#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <memory>

Q_LOGGING_CATEGORY(lcOwners, "clipdeck.server.owners")

namespace clipdeck::server {

bool JobOwners::load(QString *error)
{
    m_entries.clear();
    QSqlQuery q(m_database.handle());
    if (!q.exec(QStringLiteral("SELECT job_id, owner, output_dir FROM job_owners"))) {
        *error = QStringLiteral("cannot read job owners: %1").arg(q.lastError().text());
        return false;
    }
    while (q.next())
        m_entries.insert(q.value(0).toString(), Entry{q.value(1).toString(), q.value(2).toString()});
    return true;
}

std::optional<JobOwners::Entry> JobOwners::find(const QString &jobId) const
{
    const auto it = m_entries.constFind(jobId);
    if (it == m_entries.constEnd())
        return std::nullopt;
    return *it;
}

bool JobOwners::assign(const QString &jobId, const QString &owner, const QString &outputDir)
{
    QSqlQuery q(m_database.handle());
    q.prepare(QStringLiteral("INSERT OR REPLACE INTO job_owners (job_id, owner, output_dir) VALUES (?, ?, ?)"));
    q.addBindValue(jobId);
    q.addBindValue(owner);
    q.addBindValue(outputDir);
    if (!q.exec()) {
        qCWarning(lcOwners, "cannot record the owner of job %s: %s", qPrintable(jobId),
                  qPrintable(q.lastError().text()));
        return false;
    }
    m_entries.insert(jobId, Entry{owner, outputDir});
    return true;
}

std::optional<QString> JobOwners::resolve(const QString &jobId)
{
    if (const auto it = m_entries.constFind(jobId); it != m_entries.constEnd())
        return it->owner;
    if (m_claim && m_claimedJob.isEmpty()) {
        m_claimedJob = jobId;
        const Entry claim = *m_claim;
        if (assign(jobId, claim.owner, claim.outputDir))
            return claim.owner;
    }
    return std::nullopt;
}

void JobOwners::forget(const QString &jobId)
{
    m_entries.remove(jobId);
    QSqlQuery q(m_database.handle());
    q.prepare(QStringLiteral("DELETE FROM job_owners WHERE job_id = ?"));
    q.addBindValue(jobId);
    if (!q.exec())
        qCWarning(lcOwners, "cannot forget the owner of job %s: %s", qPrintable(jobId),
                  qPrintable(q.lastError().text()));
}

std::unique_ptr<JobOwners::Claim> JobOwners::claimNext(const QString &owner, const QString &outputDir)
{
    m_claim = Entry{owner, outputDir};
    m_claimedJob.clear();
    return std::unique_ptr<Claim>(new Claim(*this));
}

JobOwners::Claim::~Claim()
{
    m_owners.m_claim.reset();
    m_owners.m_claimedJob.clear();
}

QString JobOwners::Claim::jobId() const
{
    return m_owners.m_claimedJob;
}

} // namespace clipdeck::server
