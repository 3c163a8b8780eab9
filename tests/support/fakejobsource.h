#pragma once

// A JobSource test double: the tests drive it by emitting its signals, and it records the
// actions the model routes to it. The real sources have tests of their own.

#include "jobs/job.h"
#include "client/jobsource.h"

#include <QAbstractItemModel>
#include <QStringList>

class FakeJobSource : public clipdeck::client::JobSource
{
    Q_OBJECT

public:
    explicit FakeJobSource(QString id, QString name = {}, QObject *parent = nullptr)
        : JobSource(parent), m_id(std::move(id)), m_name(name.isEmpty() ? m_id : std::move(name))
    { }

    QString sourceId() const override { return m_id; }
    QString displayName() const override { return m_name; }
    ConnectionState connectionState() const override { return ConnectionState::Connected; }
    void start() override { calls.append(QStringLiteral("start")); }
    void stop() override { calls.append(QStringLiteral("stop")); }
    QString submit(const clipdeck::client::JobSubmission &s) override
    {
        calls.append(QStringLiteral("submit ") + s.kind);
        return QStringLiteral("token");
    }
    void cancel(const QString &id) override { calls.append(QStringLiteral("cancel ") + id); }
    void pause(const QString &id) override { calls.append(QStringLiteral("pause ") + id); }
    void resume(const QString &id) override { calls.append(QStringLiteral("resume ") + id); }
    void retry(const QString &id) override { calls.append(QStringLiteral("retry ") + id); }
    void remove(const QString &id) override { calls.append(QStringLiteral("remove ") + id); }
    void fetchOutput(const QString &id, const QString &name) override
    {
        calls.append(QStringLiteral("fetch ") + id + QLatin1Char(' ') + name);
    }
    // The input's last path component, or "<input>" so tests can tell it was computed.
    QString clipName(const clipdeck::jobs::Job &job) const override
    {
        ++clipNameCalls;
        return job.input.section(QLatin1Char('/'), -1);
    }

    void setName(const QString &name)
    {
        m_name = name;
        emit displayNameChanged();
    }

    QStringList calls;
    mutable int clipNameCalls = 0;

private:
    QString m_id;
    QString m_name;
};

// A snapshot with what the tests vary; the rest stays at its defaults.
inline clipdeck::jobs::Job makeJob(const QString &id, qint64 seq,
                                   clipdeck::jobs::Status status = clipdeck::jobs::Status::Pending, double progress = 0,
                                   const QString &input = {})
{
    clipdeck::jobs::Job j;
    j.id = id;
    j.seq = seq;
    j.kind = QStringLiteral("transcode");
    j.input = input.isEmpty() ? QStringLiteral("/media/") + id + QStringLiteral(".mp4") : input;
    j.status = status;
    j.progress = progress;
    j.createdAt = QDateTime::fromSecsSinceEpoch(1700000000).toUTC();
    j.updatedAt = j.createdAt.addSecs(seq);
    return j;
}

// One role's values down the rows of `model` (column 0), as strings: ids, keys ... in row order.
inline QStringList roleValues(const QAbstractItemModel &model, int role)
{
    QStringList list;
    for (int i = 0; i < model.rowCount(); ++i)
        list.append(model.index(i, 0).data(role).toString());
    return list;
}
