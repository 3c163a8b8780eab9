#pragma once

// What the QML tests (tst_*.qml) drive the views with: a real JobModel fed with job snapshots
// through JobModel::apply() from a JobSource that records the actions the model routes to it.
// The QML singleton `JobFixture` of the test module Clipdeck.Testing (typed, so that qmllint
// checks the tests too); each test file's engine gets its own.

#include "client/jobmodel.h"
#include "client/jobsource.h"

#include <QHash>
#include <QObject>
#include <QStringList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

// A JobSource that only records what the model routes to it: "pause:<job id>", ...
class RecordingSource : public clipdeck::client::JobSource
{
    Q_OBJECT

public:
    using JobSource::JobSource;
    QString sourceId() const override { return QStringLiteral("local"); }
    QString displayName() const override { return QStringLiteral("This computer"); }
    ConnectionState connectionState() const override { return ConnectionState::Connected; }
    void start() override { }
    void stop() override { }
    QString submit(const clipdeck::client::JobSubmission &) override { return {}; }
    void cancel(const QString &id) override { record(QStringLiteral("cancel"), id); }
    void pause(const QString &id) override { record(QStringLiteral("pause"), id); }
    void resume(const QString &id) override { record(QStringLiteral("resume"), id); }
    void retry(const QString &id) override { record(QStringLiteral("retry"), id); }
    void remove(const QString &id) override { record(QStringLiteral("remove"), id); }
    QString clipName(const clipdeck::jobs::Job &job) const override { return job.input.section(u'/', -1); }
    void fetchOutput(const QString &id, const QString &name) override { record(QStringLiteral("fetch:") + name, id); }

    QStringList actions;

private:
    void record(const QString &action, const QString &id) { actions.append(action + u':' + id); }
};

class JobFixture : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(clipdeck::client::JobModel *model READ model CONSTANT)
    // What the model routed to the source: "pause:<job id>", "retry:<job id>", ...
    Q_PROPERTY(QStringList actions READ actions)

public:
    explicit JobFixture(QObject *parent = nullptr);

    clipdeck::client::JobModel *model() { return &m_model; }
    QStringList actions() const { return m_source.actions; }

    // Forgets every job and every recorded action.
    Q_INVOKABLE void reset();
    // Applies a snapshot: {id, kind, input, status, progress, stage, eta, fps, realtime, attempt,
    // errorCode, errorMessage, preset, outputs: [names], startedAt, finishedAt (Dates)}, each
    // time with the job's next seq. Returns the row's key.
    Q_INVOKABLE QString applyJob(const QVariantMap &fields);

private:
    RecordingSource m_source;
    clipdeck::client::JobModel m_model;
    QHash<QString, qint64> m_seq;
};
