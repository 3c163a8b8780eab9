#pragma once

// Every job of every source, one row each, in the order they first appeared (newest last), for
// QML views. Rows are keyed by (source, job id): "<sourceId>\n<jobId>" is a row's `key`, which
// the action methods take, so a view behind a proxy model never needs source row numbers.
//
// Snapshots apply idempotently by seq: a replayed, duplicated or older snapshot of a job changes
// nothing. Bursts are coalesced: changes to existing rows are collected and announced at most
// once per job per frame (one dataChanged per run of neighbouring rows, every
// coalescingIntervalMs, naming the roles that changed in that run, so delegates re-evaluate only
// the bindings that depend on them), so a thousand jobs updating ten times a second stay smooth.
// Rows are inserted and removed at once.
//
// What a row may do and how it reads to people is decided here, once, for every view: the
// capability roles (canPause, canResume, canCancel, canRetry, canRemove, canOpenOutput), the
// translatable labels (statusLabel, kindLabel) and the status as an enum for QML (jobStatus).
// Views show them and never interpret status strings. A derived role is announced whenever one
// of its inputs changes (the status, the outputs, the kind).

#include "jobs/job.h"

#include <QAbstractListModel>
#include <QList>
#include <QPointer>
#include <QStringList>
#include <QtQml/qqmlregistration.h>

#include <memory>

namespace clipdeck::client {

class JobSource;

class JobModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("JobModel is provided by the application")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    // Summary for the monitor's header, the window title and the taskbar. Updated with the rows.
    Q_PROPERTY(int runningCount READ runningCount NOTIFY summaryChanged)
    Q_PROPERTY(int queuedCount READ queuedCount NOTIFY summaryChanged) // pending or paused
    Q_PROPERTY(int failedCount READ failedCount NOTIFY summaryChanged)
    Q_PROPERTY(int activeCount READ activeCount NOTIFY summaryChanged) // not terminal
    // Mean progress (0..100) of the active jobs; -1 when there are none.
    Q_PROPERTY(double overallProgress READ overallProgress NOTIFY summaryChanged)
    // Time until every active job is done, from the running jobs' ETAs: their sum (the jobs share
    // the machine's cores); 0 when nothing is active; -1 when unknown (nothing running, or a
    // running job without an ETA yet).
    Q_PROPERTY(double totalEtaSeconds READ totalEtaSeconds NOTIFY summaryChanged)
    // statusLabel() of every status, in JobStatus order: for views that size a column to the
    // widest label.
    Q_PROPERTY(QStringList statusLabels READ statusLabels CONSTANT)

public:
    enum Role {
        KeyRole = Qt::UserRole + 1, // "<sourceId>\n<jobId>"
        JobIdRole,
        SeqRole,
        KindRole,
        InputRole,
        ClipNameRole,
        ParamsRole,     // QVariantMap
        StatusRole,     // "pending", "running", ... (jobs::statusName): the wire name, for machines
        IsTerminalRole, // bool
        ProgressRole,   // 0..100
        StageRole,
        EtaSecondsRole,    // double; -1 when unknown
        SpeedFpsRole,      // double; 0 when unknown
        SpeedRealtimeRole, // double; 0 when unknown
        AttemptRole,
        PriorityRole,
        ErrorCodeRole,    // empty when none
        ErrorMessageRole, // empty when none
        OutputsRole,      // QVariantList of {name, path, role, size, mime}
        CreatedAtRole,    // QDateTime (UTC)
        StartedAtRole,
        FinishedAtRole,
        UpdatedAtRole,
        SourceIdRole,
        SourceNameRole,
        // Derived from the snapshot (see above).
        JobStatusRole,     // JobStatus (an int): what views branch on (icon, colour), not the wire name
        StatusLabelRole,   // statusLabel(): "Queued", "Running", "Done", ...
        KindLabelRole,     // kindLabel(): "Export", "Proxy", ...
        CanPauseRole,      // pending or running
        CanResumeRole,     // paused
        CanCancelRole,     // not terminal: pending, running or paused
        CanRetryRole,      // failed or canceled
        CanRemoveRole,     // terminal: complete, failed or canceled
        CanOpenOutputRole, // complete, with at least one output
    };
    Q_ENUM(Role)

    // jobs::Status for QML, value for value: JobModel.Running, ...
    enum class JobStatus { Pending, Running, Paused, Complete, Failed, Canceled };
    Q_ENUM(JobStatus)

    explicit JobModel(QObject *parent = nullptr);
    ~JobModel() override;

    // The model follows the source's signals and routes actions to it. It does not own the
    // source, and does not start it. Removing a source drops its rows.
    void addSource(JobSource *source);
    void removeSource(JobSource *source);
    QList<JobSource *> sources() const;

    // What the source signals call; public for tests and benchmarks. Returns whether anything
    // changed (false for a snapshot whose seq is not above the row's).
    bool apply(JobSource *source, const jobs::Job &snapshot);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    // The newest snapshot of a row; nullptr when there is no such row.
    const jobs::Job *job(int row) const;
    int rowOf(const QString &key) const; // -1 when absent
    // What ClipNameRole and SourceNameRole's source are, without a QVariant (for proxies).
    QString clipName(int row) const;
    JobSource *sourceOf(int row) const; // nullptr when there is no such row

    // Actions route to the job's own source; false when the key names no row.
    Q_INVOKABLE bool cancel(const QString &key);
    Q_INVOKABLE bool pause(const QString &key);
    Q_INVOKABLE bool resume(const QString &key);
    Q_INVOKABLE bool retry(const QString &key);
    Q_INVOKABLE bool remove(const QString &key);
    Q_INVOKABLE bool fetchOutput(const QString &key, const QString &outputName);
    // Removes every finished job of every source (the monitor's "Clear finished").
    Q_INVOKABLE int removeFinished();

    // Labels for people, translatable, in one place: the rows' roles, the new-job bar's kind
    // chooser (JobLauncher) and the desktop notifications use these.
    static QString statusLabel(jobs::Status status); // "Queued", "Running", "Paused", "Done", "Failed", "Canceled"
    static QString kindLabel(const QString &kind);   // "Export", "Proxy", ...; the kind itself when unknown
    // What a kind chooser lists: "Export (transcode)", "Editing proxy", ...; the kind when unknown.
    static QString kindChoiceLabel(const QString &kind);
    QStringList statusLabels() const;

    int runningCount() const;
    int queuedCount() const;
    int failedCount() const;
    int activeCount() const;
    double overallProgress() const;
    double totalEtaSeconds() const;

    // 16 by default (one frame at 60 Hz). 0: every change is announced at once.
    void setCoalescingInterval(int ms);
    int coalescingInterval() const;
    // Announces pending changes now (tests, and before a view reads the model synchronously).
    void flush();

signals:
    void countChanged();
    void summaryChanged();
    // A job reached complete, failed or canceled (not when it was already terminal when first
    // seen): what desktop notifications are made from.
    void jobFinished(const QString &key, const clipdeck::jobs::Job &snapshot);
    // A source refused an action or a submission; for the monitor's error line. For a refused
    // submission, action is "submit" and key is "<sourceId>\n<token>" (the token submit()
    // returned; there is no row).
    void actionFailed(const QString &key, const QString &action, const QString &message);
    // fetchOutput() worked: the output is the local file localPath.
    void outputReady(const QString &key, const QString &outputName, const QString &localPath);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace clipdeck::client
