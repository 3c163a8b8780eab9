#include "server/jobview.h"

#include "server/mediastore.h"

#include <QUrl>

namespace clipdeck::server {

jobs::Job JobView::forClient(const jobs::Job &job) const
{
    jobs::Job view = job;
    // A job whose input is not in the media folder cannot come from the API; never show its path.
    view.input = m_media.idForPath(job.input).value_or(QString());
    if (view.error && !job.input.isEmpty()) {
        // Only finished jobs carry an error: the record is looked up for those alone.
        const auto record = m_media.recordForPath(job.input);
        const QString name = record                 ? record->name
                             : view.input.isEmpty() ? QStringLiteral("the input file")
                                                    : view.input;
        view.error->message = m_media.withoutServerPath(view.error->message, job.input, name);
    }
    for (jobs::Output &output : view.outputs)
        output.path = outputUrlPath(job.id, output.name);
    return view;
}

QString JobView::outputUrlPath(const QString &jobId, const QString &name)
{
    return QStringLiteral("/api/jobs/") + QString::fromLatin1(QUrl::toPercentEncoding(jobId))
           + QStringLiteral("/outputs/") + QString::fromLatin1(QUrl::toPercentEncoding(name));
}

} // namespace clipdeck::server
