#pragma once

// Starting jobs: which kinds there are, which presets a kind takes, where a job can run (this
// computer or a configured server), and the submission itself (a JobSubmission per file, to the
// chosen JobSource). QML gets it as `app.launcher` (NewJobBar's `launcher`).

#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

namespace clipdeck::client {
class JobModel;
class JobSource;
} // namespace clipdeck::client

namespace clipdeck::desktop {

class JobLauncher : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("JobLauncher is provided by the application (AppController.launcher)")
    // [{kind, label, description, usesPreset}], in the order the kind picker shows them; label is
    // JobModel::kindChoiceLabel().
    Q_PROPERTY(QVariantList kinds READ kinds CONSTANT)
    // [{sourceId, name, state}] for every source of the model: "This computer" first.
    Q_PROPERTY(QVariantList targets READ targets NOTIFY targetsChanged)

public:
    explicit JobLauncher(client::JobModel *model, QObject *parent = nullptr);

    QVariantList kinds() const;
    QVariantList targets() const;

    // [{name, label, description}] for transcode and proxy; empty for kinds without presets.
    Q_INVOKABLE QVariantList presetsFor(const QString &kind) const;
    // Index in presetsFor(kind) of the preset the kind uses when none is chosen; -1 when none.
    Q_INVOKABLE int defaultPresetIndex(const QString &kind) const;
    // Whether a URL (from a drop or a file dialog) names a local file that can be submitted.
    Q_INVOKABLE bool isLocalFile(const QUrl &url) const;

    // Submits one job per local file to the source `sourceId` (the model's sources; "local" is
    // this computer). preset is ignored for kinds without presets; empty: the kind's default.
    // Returns how many jobs were handed to the source; problems go to submitFailed.
    Q_INVOKABLE int submit(const QList<QUrl> &files, const QString &kind, const QString &preset,
                           const QString &sourceId);
    // The same for paths, for the command line (`--submit`).
    int submitPaths(const QStringList &paths, const QString &kind, const QString &preset, const QString &sourceId);

    // The number of submissions a source refused (submitFailed) since the app started.
    int refusedCount() const { return m_refused; }

public slots:
    void refreshTargets();

signals:
    void targetsChanged();
    // A submission was refused, by the launcher (no such file, no such target) or the source.
    void submitFailed(const QString &message);

private:
    void watch(client::JobSource *source);

    client::JobModel *m_model;
    QList<QPointer<client::JobSource>> m_watched;
    int m_refused = 0;
};

} // namespace clipdeck::desktop
