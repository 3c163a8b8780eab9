#include "jobfixture.h"

using namespace clipdeck::jobs;

JobFixture::JobFixture(QObject *parent) : QObject(parent)
{
    m_model.setCoalescingInterval(0);
    m_model.addSource(&m_source);
}

void JobFixture::reset()
{
    m_model.removeSource(&m_source);
    m_model.addSource(&m_source);
    m_source.actions.clear();
    m_seq.clear();
}

QString JobFixture::applyJob(const QVariantMap &fields)
{
    Job job;
    job.id = fields.value(QStringLiteral("id")).toString();
    job.seq = ++m_seq[job.id];
    job.kind = fields.value(QStringLiteral("kind"), QStringLiteral("transcode")).toString();
    job.input = fields.value(QStringLiteral("input"), QStringLiteral("/media/clip.mp4")).toString();
    job.status = statusFromName(fields.value(QStringLiteral("status"), QStringLiteral("pending")).toString())
                     .value_or(Status::Pending);
    job.progress = fields.value(QStringLiteral("progress"), 0).toDouble();
    job.stage = fields.value(QStringLiteral("stage")).toString();
    job.attempt = fields.value(QStringLiteral("attempt"), 1).toInt();
    if (fields.contains(QStringLiteral("eta")))
        job.etaSeconds = fields.value(QStringLiteral("eta")).toDouble();
    if (fields.contains(QStringLiteral("fps")) || fields.contains(QStringLiteral("realtime")))
        job.speed =
            Speed{fields.value(QStringLiteral("fps")).toDouble(), fields.value(QStringLiteral("realtime")).toDouble()};
    if (fields.contains(QStringLiteral("errorCode")))
        job.error = Error{fields.value(QStringLiteral("errorCode")).toString(),
                          fields.value(QStringLiteral("errorMessage")).toString()};
    if (fields.contains(QStringLiteral("preset")))
        job.params.insert(QStringLiteral("preset"), fields.value(QStringLiteral("preset")));
    for (const QVariant &name : fields.value(QStringLiteral("outputs")).toList())
        job.outputs.append(Output{name.toString(), QStringLiteral("/out/") + name.toString(), QStringLiteral("video"),
                                  1000, QStringLiteral("video/mp4")});
    job.createdAt = job.updatedAt = QDateTime::currentDateTimeUtc();
    job.startedAt = fields.value(QStringLiteral("startedAt")).toDateTime().toUTC();
    job.finishedAt = fields.value(QStringLiteral("finishedAt")).toDateTime().toUTC();
    m_model.apply(&m_source, job);
    m_model.flush();
    return m_source.sourceId() + u'\n' + job.id;
}
