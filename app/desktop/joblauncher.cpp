#include "joblauncher.h"

#include "client/jobmodel.h"
#include "client/jobsource.h"
#include "media/operation.h"
#include "media/presets.h"

#include <QDir>
#include <QFileInfo>
#include <QVariantMap>

namespace clipdeck::desktop {

namespace {

bool usesPreset(const QString &kind)
{
    return kind == QLatin1String("transcode") || kind == QLatin1String("proxy");
}

QString defaultPreset(const QString &kind)
{
    if (kind == QLatin1String("transcode"))
        return QStringLiteral("web-h264");
    if (kind == QLatin1String("proxy"))
        return QStringLiteral("proxy-540p");
    return {};
}

} // namespace

JobLauncher::JobLauncher(client::JobModel *model, QObject *parent) : QObject(parent), m_model(model)
{
    refreshTargets();
}

QVariantList JobLauncher::kinds() const
{
    // The order people reach for them: exports first, analysis last.
    static const QStringList order{QStringLiteral("transcode"),  QStringLiteral("proxy"),
                                   QStringLiteral("thumbnails"), QStringLiteral("scenes"),
                                   QStringLiteral("waveform"),   QStringLiteral("probe")};
    QVariantList list;
    auto add = [&](const media::OperationSpec &op) {
        list.append(QVariantMap{{QStringLiteral("kind"), op.kind},
                                {QStringLiteral("label"), client::JobModel::kindChoiceLabel(op.kind)},
                                {QStringLiteral("description"), op.description},
                                {QStringLiteral("usesPreset"), usesPreset(op.kind)}});
    };
    for (const QString &kind : order) {
        if (const auto *op = media::findOperation(kind))
            add(*op);
    }
    for (const auto &op : media::operations()) {
        if (!order.contains(op.kind))
            add(op);
    }
    return list;
}

QVariantList JobLauncher::targets() const
{
    QVariantList list;
    if (!m_model)
        return list;
    for (client::JobSource *source : m_model->sources()) {
        QVariantMap entry{{QStringLiteral("sourceId"), source->sourceId()},
                          {QStringLiteral("name"), source->displayName()},
                          {QStringLiteral("state"), static_cast<int>(source->connectionState())}};
        if (source->sourceId() == QLatin1String("local"))
            list.prepend(entry);
        else
            list.append(entry);
    }
    return list;
}

QVariantList JobLauncher::presetsFor(const QString &kind) const
{
    QVariantList list;
    if (!usesPreset(kind))
        return list;
    for (const media::Preset &p : media::presets()) {
        list.append(QVariantMap{{QStringLiteral("name"), p.name},
                                {QStringLiteral("label"), p.label.isEmpty() ? p.name : p.label},
                                {QStringLiteral("description"), p.description}});
    }
    return list;
}

int JobLauncher::defaultPresetIndex(const QString &kind) const
{
    const QString name = defaultPreset(kind);
    const QVariantList list = presetsFor(kind);
    for (int i = 0; i < list.size(); ++i) {
        if (list.at(i).toMap().value(QStringLiteral("name")).toString() == name)
            return i;
    }
    return list.isEmpty() ? -1 : 0;
}

bool JobLauncher::isLocalFile(const QUrl &url) const
{
    return url.isLocalFile() && QFileInfo(url.toLocalFile()).isFile();
}

int JobLauncher::submit(const QList<QUrl> &files, const QString &kind, const QString &preset, const QString &sourceId)
{
    QStringList paths;
    for (const QUrl &url : files) {
        if (url.isLocalFile()) {
            paths.append(url.toLocalFile());
        } else {
            ++m_refused;
            emit submitFailed(tr("%1 is not a local file.").arg(url.toDisplayString()));
        }
    }
    return submitPaths(paths, kind, preset, sourceId);
}

int JobLauncher::submitPaths(const QStringList &paths, const QString &kind, const QString &preset,
                             const QString &sourceId)
{
    client::JobSource *target = nullptr;
    for (client::JobSource *source : m_model->sources()) {
        if (source->sourceId() == sourceId)
            target = source;
    }
    if (!target) {
        m_refused += paths.size();
        emit submitFailed(tr("There is no place called %1 to run jobs.").arg(sourceId));
        return 0;
    }
    watch(target);
    int submitted = 0;
    for (const QString &path : paths) {
        const QFileInfo info(path);
        if (!info.isFile()) {
            ++m_refused;
            emit submitFailed(tr("%1 is not a file.").arg(QDir::toNativeSeparators(path)));
            continue;
        }
        client::JobSubmission submission;
        submission.kind = kind;
        submission.inputPath = info.absoluteFilePath();
        if (usesPreset(kind)) {
            const QString name = preset.isEmpty() ? defaultPreset(kind) : preset;
            submission.params.insert(QStringLiteral("preset"), name);
        }
        target->submit(submission);
        ++submitted;
    }
    return submitted;
}

void JobLauncher::refreshTargets()
{
    if (m_model) {
        for (client::JobSource *source : m_model->sources())
            watch(source);
    }
    emit targetsChanged();
}

void JobLauncher::watch(client::JobSource *source)
{
    for (const auto &w : std::as_const(m_watched)) {
        if (w == source)
            return;
    }
    m_watched.append(source);
    connect(source, &client::JobSource::submitFailed, this, [this, source](const QString &, const jobs::Error &error) {
        ++m_refused;
        emit submitFailed(tr("%1 refused the job: %2").arg(source->displayName(), error.message));
    });
    connect(source, &client::JobSource::connectionStateChanged, this, &JobLauncher::targetsChanged);
    connect(source, &client::JobSource::displayNameChanged, this, &JobLauncher::targetsChanged);
}

} // namespace clipdeck::desktop
