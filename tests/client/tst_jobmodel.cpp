// JobModel: idempotent application by seq, row order and keys, coalesced change announcements,
// the derived roles (capabilities, labels) and when they are announced, replacement and reset,
// routing of actions, and the summary, driven through a fake source.

#include "fakejobsource.h"

#include "client/jobmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace clipdeck::jobs;
using namespace clipdeck::client;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(clipdeck::jobs::Status)

namespace {

QString key(const QString &source, const QString &id)
{
    return source + u'\n' + id;
}

QStringList keys(const JobModel &model)
{
    return roleValues(model, JobModel::KeyRole);
}

// (first row, last row) of each dataChanged.
QList<QPair<int, int>> ranges(const QSignalSpy &spy)
{
    QList<QPair<int, int>> list;
    for (const auto &args : spy)
        list.append({args.at(0).toModelIndex().row(), args.at(1).toModelIndex().row()});
    return list;
}

} // namespace

class TestJobModel : public QObject
{
    Q_OBJECT

    std::unique_ptr<JobModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
    std::unique_ptr<FakeJobSource> m_src;

private slots:
    void init()
    {
        m_model = std::make_unique<JobModel>();
        // Long enough that nothing flushes behind a test's back; tests flush() explicitly.
        m_model->setCoalescingInterval(60000);
        m_tester = std::make_unique<QAbstractItemModelTester>(m_model.get(),
                                                              QAbstractItemModelTester::FailureReportingMode::QtTest);
        m_src = std::make_unique<FakeJobSource>(u"s1"_s, u"Render box"_s);
        m_model->addSource(m_src.get());
    }

    void cleanup()
    {
        m_tester.reset();
        m_model.reset();
        m_src.reset();
    }

    void rowsInFirstAppearanceOrder()
    {
        emit m_src->jobUpdated(makeJob(u"a"_s, 1));
        emit m_src->jobUpdated(makeJob(u"b"_s, 1));
        emit m_src->jobUpdated(makeJob(u"c"_s, 1));
        emit m_src->jobUpdated(makeJob(u"a"_s, 2, Status::Running, 10));
        QCOMPARE(keys(*m_model), (QStringList{key(u"s1"_s, u"a"_s), key(u"s1"_s, u"b"_s), key(u"s1"_s, u"c"_s)}));
        QCOMPARE(m_model->rowOf(key(u"s1"_s, u"c"_s)), 2);
        QCOMPARE(m_model->rowOf(key(u"s1"_s, u"zz"_s)), -1);
        QCOMPARE(m_model->job(0)->seq, 2);
        QCOMPARE(m_model->property("count").toInt(), 3);

        // The same job id from another source is another row.
        FakeJobSource other(u"s2"_s);
        m_model->addSource(&other);
        emit other.jobUpdated(makeJob(u"a"_s, 1));
        QCOMPARE(m_model->rowCount(), 4);
        QCOMPARE(m_model->index(3).data(JobModel::SourceIdRole).toString(), u"s2"_s);
        QCOMPARE(m_model->index(0).data(JobModel::SourceIdRole).toString(), u"s1"_s);
    }

    void roles()
    {
        Job j = makeJob(u"a"_s, 3, Status::Failed, 42.5, u"/clips/beach day.mov"_s);
        j.stage = u"encoding"_s;
        j.etaSeconds = 12.5;
        j.speed = Speed{50, 2};
        j.attempt = 2;
        j.priority = 5;
        j.error = Error{u"corrupt_stream"_s, u"The video is damaged."_s};
        j.params = {{u"preset"_s, u"web"_s}};
        j.outputs = {Output{u"a.mp4"_s, u"/out/a.mp4"_s, u"video"_s, 1234, u"video/mp4"_s}};
        j.startedAt = j.createdAt.addSecs(1);
        j.finishedAt = j.createdAt.addSecs(2);
        emit m_src->jobUpdated(j);

        const QModelIndex i = m_model->index(0);
        QCOMPARE(i.data(JobModel::KeyRole).toString(), key(u"s1"_s, u"a"_s));
        QCOMPARE(i.data(JobModel::JobIdRole).toString(), u"a"_s);
        QCOMPARE(i.data(JobModel::SeqRole).toLongLong(), 3);
        QCOMPARE(i.data(JobModel::KindRole).toString(), u"transcode"_s);
        QCOMPARE(i.data(JobModel::InputRole).toString(), u"/clips/beach day.mov"_s);
        QCOMPARE(i.data(JobModel::ClipNameRole).toString(), u"beach day.mov"_s);
        QCOMPARE(i.data(JobModel::ParamsRole).toMap().value(u"preset"_s).toString(), u"web"_s);
        QCOMPARE(i.data(JobModel::StatusRole).toString(), u"failed"_s);
        QCOMPARE(i.data(JobModel::IsTerminalRole).toBool(), true);
        QCOMPARE(i.data(JobModel::ProgressRole).toDouble(), 42.5);
        QCOMPARE(i.data(JobModel::StageRole).toString(), u"encoding"_s);
        QCOMPARE(i.data(JobModel::EtaSecondsRole).toDouble(), 12.5);
        QCOMPARE(i.data(JobModel::SpeedFpsRole).toDouble(), 50.0);
        QCOMPARE(i.data(JobModel::SpeedRealtimeRole).toDouble(), 2.0);
        QCOMPARE(i.data(JobModel::AttemptRole).toInt(), 2);
        QCOMPARE(i.data(JobModel::PriorityRole).toInt(), 5);
        QCOMPARE(i.data(JobModel::ErrorCodeRole).toString(), u"corrupt_stream"_s);
        QCOMPARE(i.data(JobModel::ErrorMessageRole).toString(), u"The video is damaged."_s);
        const QVariantList outputs = i.data(JobModel::OutputsRole).toList();
        QCOMPARE(outputs.size(), 1);
        const QVariantMap out = outputs.first().toMap();
        QCOMPARE(out.value(u"name"_s).toString(), u"a.mp4"_s);
        QCOMPARE(out.value(u"path"_s).toString(), u"/out/a.mp4"_s);
        QCOMPARE(out.value(u"role"_s).toString(), u"video"_s);
        QCOMPARE(out.value(u"size"_s).toLongLong(), 1234);
        QCOMPARE(out.value(u"mime"_s).toString(), u"video/mp4"_s);
        QCOMPARE(i.data(JobModel::CreatedAtRole).toDateTime(), j.createdAt);
        QCOMPARE(i.data(JobModel::StartedAtRole).toDateTime(), j.startedAt);
        QCOMPARE(i.data(JobModel::FinishedAtRole).toDateTime(), j.finishedAt);
        QCOMPARE(i.data(JobModel::UpdatedAtRole).toDateTime(), j.updatedAt);
        QCOMPARE(i.data(JobModel::SourceIdRole).toString(), u"s1"_s);
        QCOMPARE(i.data(JobModel::SourceNameRole).toString(), u"Render box"_s);

        // Unknown values have their documented stand-ins.
        emit m_src->jobUpdated(makeJob(u"b"_s, 1));
        const QModelIndex k = m_model->index(1);
        QCOMPARE(k.data(JobModel::EtaSecondsRole).toDouble(), -1.0);
        QCOMPARE(k.data(JobModel::SpeedFpsRole).toDouble(), 0.0);
        QCOMPARE(k.data(JobModel::ErrorCodeRole).toString(), QString());
        QCOMPARE(k.data(JobModel::OutputsRole).toList().size(), 0);

        const auto names = m_model->roleNames();
        QCOMPARE(names.value(JobModel::ClipNameRole), QByteArray("clipName"));
        QCOMPARE(names.value(JobModel::EtaSecondsRole), QByteArray("etaSeconds"));
        QCOMPARE(names.value(JobModel::SourceNameRole), QByteArray("sourceName"));
        QCOMPARE(names.value(JobModel::JobStatusRole), QByteArray("jobStatus"));
        QCOMPARE(names.value(JobModel::StatusLabelRole), QByteArray("statusLabel"));
        QCOMPARE(names.value(JobModel::KindLabelRole), QByteArray("kindLabel"));
        QCOMPARE(names.value(JobModel::CanPauseRole), QByteArray("canPause"));
        QCOMPARE(names.value(JobModel::CanResumeRole), QByteArray("canResume"));
        QCOMPARE(names.value(JobModel::CanCancelRole), QByteArray("canCancel"));
        QCOMPARE(names.value(JobModel::CanRetryRole), QByteArray("canRetry"));
        QCOMPARE(names.value(JobModel::CanRemoveRole), QByteArray("canRemove"));
        QCOMPARE(names.value(JobModel::CanOpenOutputRole), QByteArray("canOpenOutput"));
    }

    // What a job may do, decided by the model: one row per status (complete twice: with and
    // without outputs).
    void capabilities_data()
    {
        QTest::addColumn<Status>("status");
        QTest::addColumn<bool>("withOutputs");
        QTest::addColumn<QList<bool>>("expected"); // pause, resume, cancel, retry, remove, open output
        QTest::newRow("pending") << Status::Pending << false << QList<bool>{true, false, true, false, false, false};
        QTest::newRow("running") << Status::Running << false << QList<bool>{true, false, true, false, false, false};
        QTest::newRow("paused") << Status::Paused << false << QList<bool>{false, true, true, false, false, false};
        QTest::newRow("complete") << Status::Complete << true << QList<bool>{false, false, false, false, true, true};
        QTest::newRow("complete, no outputs")
            << Status::Complete << false << QList<bool>{false, false, false, false, true, false};
        QTest::newRow("failed") << Status::Failed << false << QList<bool>{false, false, false, true, true, false};
        QTest::newRow("canceled") << Status::Canceled << false << QList<bool>{false, false, false, true, true, false};
        // Outputs of a job that has not completed (a server's partial results) open nothing yet.
        QTest::newRow("running with outputs")
            << Status::Running << true << QList<bool>{true, false, true, false, false, false};
    }

    void capabilities()
    {
        QFETCH(Status, status);
        QFETCH(bool, withOutputs);
        QFETCH(QList<bool>, expected);
        Job j = makeJob(u"a"_s, 1, status);
        if (withOutputs)
            j.outputs = {Output{u"a.mp4"_s, u"/out/a.mp4"_s, u"video"_s, 1, u"video/mp4"_s}};
        emit m_src->jobUpdated(j);
        const QModelIndex i = m_model->index(0);
        const QList<bool> actual{
            i.data(JobModel::CanPauseRole).toBool(),  i.data(JobModel::CanResumeRole).toBool(),
            i.data(JobModel::CanCancelRole).toBool(), i.data(JobModel::CanRetryRole).toBool(),
            i.data(JobModel::CanRemoveRole).toBool(), i.data(JobModel::CanOpenOutputRole).toBool()};
        QCOMPARE(actual, expected);
    }

    // The status as people read it and as QML compares it (JobStatus), one row per status.
    void statusLabels_data()
    {
        QTest::addColumn<Status>("status");
        QTest::addColumn<QString>("label");
        QTest::addColumn<JobModel::JobStatus>("jobStatus");
        QTest::newRow("pending") << Status::Pending << u"Queued"_s << JobModel::JobStatus::Pending;
        QTest::newRow("running") << Status::Running << u"Running"_s << JobModel::JobStatus::Running;
        QTest::newRow("paused") << Status::Paused << u"Paused"_s << JobModel::JobStatus::Paused;
        QTest::newRow("complete") << Status::Complete << u"Done"_s << JobModel::JobStatus::Complete;
        QTest::newRow("failed") << Status::Failed << u"Failed"_s << JobModel::JobStatus::Failed;
        QTest::newRow("canceled") << Status::Canceled << u"Canceled"_s << JobModel::JobStatus::Canceled;
    }

    void statusLabels()
    {
        QFETCH(Status, status);
        QFETCH(QString, label);
        QFETCH(JobModel::JobStatus, jobStatus);
        emit m_src->jobUpdated(makeJob(u"a"_s, 1, status));
        const QModelIndex i = m_model->index(0);
        QCOMPARE(i.data(JobModel::StatusLabelRole).toString(), label);
        QCOMPARE(JobModel::statusLabel(status), label);
        QCOMPARE(i.data(JobModel::JobStatusRole).toInt(), int(jobStatus));
        // The wire name stays what it was, for machines.
        QCOMPARE(i.data(JobModel::StatusRole).toString(), QString(statusName(status)));
        // Every label, in JobStatus order, for views that size a column to the widest.
        QCOMPARE(m_model->statusLabels().value(int(jobStatus)), label);
        QCOMPARE(m_model->statusLabels().size(), 6);
    }

    // The kinds as people read them: in a row (kindLabel), in a chooser (kindChoiceLabel).
    void kindLabels_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("label");
        QTest::addColumn<QString>("choiceLabel");
        QTest::newRow("transcode") << u"transcode"_s << u"Export"_s << u"Export (transcode)"_s;
        QTest::newRow("proxy") << u"proxy"_s << u"Proxy"_s << u"Editing proxy"_s;
        QTest::newRow("thumbnails") << u"thumbnails"_s << u"Thumbnails"_s << u"Thumbnails and contact sheet"_s;
        QTest::newRow("scenes") << u"scenes"_s << u"Scenes"_s << u"Scene detection"_s;
        QTest::newRow("waveform") << u"waveform"_s << u"Waveform"_s << u"Waveform"_s;
        QTest::newRow("probe") << u"probe"_s << u"Probe"_s << u"Probe (media info)"_s;
        // A kind this client does not know (a newer server's): its name, as it is.
        QTest::newRow("unknown") << u"stabilise"_s << u"stabilise"_s << u"stabilise"_s;
    }

    void kindLabels()
    {
        QFETCH(QString, kind);
        QFETCH(QString, label);
        QFETCH(QString, choiceLabel);
        Job j = makeJob(u"a"_s, 1);
        j.kind = kind;
        emit m_src->jobUpdated(j);
        QCOMPARE(m_model->index(0).data(JobModel::KindLabelRole).toString(), label);
        QCOMPARE(JobModel::kindLabel(kind), label);
        QCOMPARE(JobModel::kindChoiceLabel(kind), choiceLabel);
    }

    // A derived role is announced whenever one of its inputs changes, and only then: the status
    // drives the status roles and the capabilities, the outputs drive canOpenOutput, the kind
    // drives kindLabel.
    void derivedRolesAnnouncedWithTheirInputs_data()
    {
        QTest::addColumn<Status>("from");
        QTest::addColumn<Status>("to");
        QTest::addColumn<bool>("outputsChange");
        QTest::addColumn<bool>("kindChanges");
        QTest::addColumn<QList<int>>("announced");
        QTest::addColumn<QList<int>>("notAnnounced");
        const QList<int> statusRoles{JobModel::StatusRole,       JobModel::IsTerminalRole, JobModel::JobStatusRole,
                                     JobModel::StatusLabelRole,  JobModel::CanPauseRole,   JobModel::CanResumeRole,
                                     JobModel::CanCancelRole,    JobModel::CanRetryRole,   JobModel::CanRemoveRole,
                                     JobModel::CanOpenOutputRole};
        const QList<int> statusOnly{JobModel::StatusRole,      JobModel::IsTerminalRole, JobModel::JobStatusRole,
                                    JobModel::StatusLabelRole, JobModel::CanPauseRole,   JobModel::CanResumeRole,
                                    JobModel::CanCancelRole,   JobModel::CanRetryRole,   JobModel::CanRemoveRole};
        QTest::newRow("progress only") << Status::Running << Status::Running << false << false
                                       << QList<int>{JobModel::ProgressRole}
                                       << (statusRoles + QList<int>{JobModel::KindLabelRole, JobModel::OutputsRole});
        QTest::newRow("pending to running") << Status::Pending << Status::Running << false << false << statusRoles
                                            << QList<int>{JobModel::KindLabelRole, JobModel::OutputsRole};
        QTest::newRow("running to paused") << Status::Running << Status::Paused << false << false << statusRoles
                                           << QList<int>{JobModel::KindLabelRole};
        QTest::newRow("running to complete, with outputs")
            << Status::Running << Status::Complete << true << false << (statusRoles + QList<int>{JobModel::OutputsRole})
            << QList<int>{JobModel::KindLabelRole};
        QTest::newRow("failed to pending (a retry)") << Status::Failed << Status::Pending << false << false
                                                     << statusRoles << QList<int>{JobModel::KindLabelRole};
        QTest::newRow("outputs only (complete)")
            << Status::Complete << Status::Complete << true << false
            << QList<int>{JobModel::OutputsRole, JobModel::CanOpenOutputRole} << statusOnly;
        QTest::newRow("kind only") << Status::Running << Status::Running << false << true
                                   << QList<int>{JobModel::KindRole, JobModel::KindLabelRole} << statusRoles;
    }

    void derivedRolesAnnouncedWithTheirInputs()
    {
        QFETCH(Status, from);
        QFETCH(Status, to);
        QFETCH(bool, outputsChange);
        QFETCH(bool, kindChanges);
        QFETCH(QList<int>, announced);
        QFETCH(QList<int>, notAnnounced);
        emit m_src->jobUpdated(makeJob(u"a"_s, 1, from, 10));
        m_model->flush();
        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);

        Job next = makeJob(u"a"_s, 2, to, 20);
        if (outputsChange)
            next.outputs = {Output{u"a.mp4"_s, u"/out/a.mp4"_s, u"video"_s, 1, u"video/mp4"_s}};
        if (kindChanges)
            next.kind = u"proxy"_s;
        emit m_src->jobUpdated(next);
        m_model->flush();
        QCOMPARE(changed.count(), 1);
        const auto roles = changed.at(0).at(2).value<QList<int>>();
        QVERIFY2(!roles.isEmpty(), "every role announced: cannot tell");
        for (const int role : announced)
            QVERIFY2(roles.contains(role), m_model->roleNames().value(role).constData());
        for (const int role : notAnnounced)
            QVERIFY2(!roles.contains(role), m_model->roleNames().value(role).constData());
        // And what is announced is what the model now says.
        const QModelIndex i = m_model->index(0);
        QCOMPARE(i.data(JobModel::JobStatusRole).toInt(), int(to));
        QCOMPARE(i.data(JobModel::CanOpenOutputRole).toBool(), to == Status::Complete && outputsChange);
        QCOMPARE(i.data(JobModel::KindLabelRole).toString(), kindChanges ? u"Proxy"_s : u"Export"_s);
    }

    void clipNameComputedOncePerRow()
    {
        emit m_src->jobUpdated(makeJob(u"a"_s, 1));
        for (int seq = 2; seq < 20; ++seq)
            emit m_src->jobUpdated(makeJob(u"a"_s, seq, Status::Running, seq));
        m_model->flush();
        for (int n = 0; n < 5; ++n)
            QCOMPARE(m_model->index(0).data(JobModel::ClipNameRole).toString(), u"a.mp4"_s);
        QCOMPARE(m_src->clipNameCalls, 1);
    }

    void replayedAndOlderSnapshotsChangeNothing()
    {
        emit m_src->jobUpdated(makeJob(u"a"_s, 1));
        emit m_src->jobUpdated(makeJob(u"a"_s, 5, Status::Running, 50));
        m_model->flush();

        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(m_model.get(), &QAbstractItemModel::rowsRemoved);
        QSignalSpy summary(m_model.get(), &JobModel::summaryChanged);
        QSignalSpy finished(m_model.get(), &JobModel::jobFinished);

        // The same seq again (a replay), and an older one arriving late, even a terminal one.
        QVERIFY(!m_model->apply(m_src.get(), makeJob(u"a"_s, 5, Status::Running, 50)));
        emit m_src->jobUpdated(makeJob(u"a"_s, 5, Status::Running, 50));
        emit m_src->jobUpdated(makeJob(u"a"_s, 3, Status::Running, 30));
        emit m_src->jobUpdated(makeJob(u"a"_s, 4, Status::Canceled, 40));
        m_model->flush();

        QCOMPARE(changed.count(), 0);
        QCOMPARE(inserted.count(), 0);
        QCOMPARE(removed.count(), 0);
        QCOMPARE(summary.count(), 0);
        QCOMPARE(finished.count(), 0);
        QCOMPARE(m_model->job(0)->seq, 5);
        QCOMPARE(m_model->job(0)->progress, 50.0);
        QCOMPARE(m_model->job(0)->status, Status::Running);
    }

    void burstToOneJobIsOneDataChanged()
    {
        emit m_src->jobUpdated(makeJob(u"a"_s, 1));
        m_model->flush();
        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
        QSignalSpy summary(m_model.get(), &JobModel::summaryChanged);
        for (int seq = 2; seq <= 101; ++seq)
            QVERIFY(m_model->apply(m_src.get(), makeJob(u"a"_s, seq, Status::Running, seq - 2)));
        QCOMPARE(changed.count(), 0);        // nothing until the flush
        QCOMPARE(m_model->job(0)->seq, 101); // but the model already holds the newest
        m_model->flush();
        QCOMPARE(changed.count(), 1);
        QCOMPARE(ranges(changed), (QList<QPair<int, int>>{{0, 0}}));
        QCOMPARE(summary.count(), 1);
        QCOMPARE(m_model->index(0).data(JobModel::ProgressRole).toDouble(), 99.0);
        m_model->flush();
        QCOMPARE(changed.count(), 1); // nothing left to announce
        QCOMPARE(summary.count(), 1);
    }

    void flushRunsOnItsOwn()
    {
        m_model->setCoalescingInterval(16);
        QCOMPARE(m_model->coalescingInterval(), 16);
        emit m_src->jobUpdated(makeJob(u"a"_s, 1));
        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
        for (int seq = 2; seq <= 50; ++seq)
            emit m_src->jobUpdated(makeJob(u"a"_s, seq, Status::Running, seq));
        QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, 10000);
        QCOMPARE(m_model->index(0).data(JobModel::SeqRole).toLongLong(), 50);
    }

    void intervalZeroAnnouncesAtOnce()
    {
        m_model->setCoalescingInterval(0);
        emit m_src->jobUpdated(makeJob(u"a"_s, 1));
        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
        emit m_src->jobUpdated(makeJob(u"a"_s, 2, Status::Running));
        QCOMPARE(changed.count(), 1);
        emit m_src->jobUpdated(makeJob(u"a"_s, 3, Status::Running, 5));
        QCOMPARE(changed.count(), 2);
    }

    void oneDataChangedPerRunOfRows()
    {
        for (int i = 0; i < 10; ++i)
            emit m_src->jobUpdated(makeJob(QString::number(i), 1));
        m_model->flush();
        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
        // Out of order and repeated: the runs are still 1..3 and 7.
        for (const int row : {7, 2, 1, 3, 2, 7})
            emit m_src->jobUpdated(makeJob(QString::number(row), m_model->job(row)->seq + 1, Status::Running));
        m_model->flush();
        QCOMPARE(ranges(changed), (QList<QPair<int, int>>{{1, 3}, {7, 7}}));
    }

    void announcesTheRolesThatChanged()
    {
        emit m_src->jobUpdated(makeJob(u"a"_s, 1, Status::Running));
        m_model->flush();
        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);

        Job j = makeJob(u"a"_s, 2, Status::Running, 10);
        j.etaSeconds = 30;
        emit m_src->jobUpdated(j);
        m_model->flush();
        QCOMPARE(changed.count(), 1);
        auto roles = changed.at(0).at(2).value<QList<int>>();
        QVERIFY(roles.contains(JobModel::ProgressRole));
        QVERIFY(roles.contains(JobModel::EtaSecondsRole));
        QVERIFY(roles.contains(JobModel::SeqRole));
        QVERIFY(!roles.contains(JobModel::StatusRole));
        QVERIFY(!roles.contains(JobModel::ClipNameRole));
        QVERIFY(!roles.contains(JobModel::OutputsRole));

        // Two rows in one run: the union of what changed in either.
        emit m_src->jobUpdated(makeJob(u"b"_s, 1, Status::Running));
        m_model->flush();
        changed.clear();
        j.seq = 3;
        j.status = Status::Paused;
        emit m_src->jobUpdated(j);
        Job b = makeJob(u"b"_s, 2, Status::Running);
        b.stage = u"encoding"_s;
        emit m_src->jobUpdated(b);
        m_model->flush();
        QCOMPARE(changed.count(), 1);
        roles = changed.at(0).at(2).value<QList<int>>();
        QVERIFY(roles.contains(JobModel::StatusRole));
        QVERIFY(roles.contains(JobModel::IsTerminalRole));
        QVERIFY(roles.contains(JobModel::StageRole));
        QVERIFY(!roles.contains(JobModel::ProgressRole));

        // The source's name: every row of that source, that role.
        changed.clear();
        m_src->setName(u"Renamed"_s);
        m_model->flush();
        QCOMPARE(ranges(changed), (QList<QPair<int, int>>{{0, 1}}));
        QCOMPARE(changed.at(0).at(2).value<QList<int>>(), QList<int>{JobModel::SourceNameRole});
        QCOMPARE(m_model->index(1).data(JobModel::SourceNameRole).toString(), u"Renamed"_s);
    }

    void replacementKeepsTheRowAndItsPlace()
    {
        emit m_src->jobUpdated(makeJob(u"a"_s, 1));
        Job upload = makeJob(u"upload:t1"_s, 7, Status::Running, 60, u"/clips/up.mov"_s);
        upload.stage = u"uploading"_s;
        emit m_src->jobUpdated(upload);
        emit m_src->jobUpdated(makeJob(u"c"_s, 1));
        m_model->flush();

        QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(m_model.get(), &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
        // The server's job starts again at seq 1: its seq is unrelated to the upload's.
        emit m_src->jobReplaced(u"upload:t1"_s, makeJob(u"srv-9"_s, 1, Status::Pending, 0, u"media-42/up.mov"_s));
        QCOMPARE(inserted.count(), 0);
        QCOMPARE(removed.count(), 0);
        QCOMPARE(keys(*m_model), (QStringList{key(u"s1"_s, u"a"_s), key(u"s1"_s, u"srv-9"_s), key(u"s1"_s, u"c"_s)}));
        QCOMPARE(m_model->rowOf(key(u"s1"_s, u"upload:t1"_s)), -1);
        QCOMPARE(m_model->rowOf(key(u"s1"_s, u"srv-9"_s)), 1);
        m_model->flush();
        QCOMPARE(ranges(changed), (QList<QPair<int, int>>{{1, 1}}));
        QVERIFY(changed.at(0).at(2).value<QList<int>>().isEmpty()); // everything may have changed
        QCOMPARE(m_model->index(1).data(JobModel::StatusRole).toString(), u"pending"_s);
        QCOMPARE(m_model->index(1).data(JobModel::ClipNameRole).toString(), u"up.mov"_s);
        QCOMPARE(m_model->activeCount(), 3);

        // From now on the row follows the new job, by seq.
        emit m_src->jobUpdated(makeJob(u"srv-9"_s, 2, Status::Running, 5));
        QCOMPARE(m_model->job(1)->progress, 5.0);
        QCOMPARE(m_model->cancel(key(u"s1"_s, u"srv-9"_s)), true);
        QCOMPARE(m_src->calls.last(), u"cancel srv-9"_s);
    }

    void replacementAfterTheNewJobsOwnEvents()
    {
        emit m_src->jobUpdated(makeJob(u"upload:t1"_s, 3, Status::Running));
        emit m_src->jobUpdated(makeJob(u"x"_s, 1));
        emit m_src->jobUpdated(makeJob(u"srv-9"_s, 4, Status::Running, 20)); // overtook the replacement
        emit m_src->jobReplaced(u"upload:t1"_s, makeJob(u"srv-9"_s, 2, Status::Pending));
        QCOMPARE(keys(*m_model), (QStringList{key(u"s1"_s, u"srv-9"_s), key(u"s1"_s, u"x"_s)}));
        QCOMPARE(m_model->job(0)->seq, 4); // the newer snapshot of the new job
        QCOMPARE(m_model->job(0)->progress, 20.0);
    }

    void replacementOfAnUnknownJobAddsIt()
    {
        emit m_src->jobReplaced(u"upload:gone"_s, makeJob(u"srv-1"_s, 1));
        QCOMPARE(keys(*m_model), QStringList{key(u"s1"_s, u"srv-1"_s)});
    }

    void resetDropsWhatIsGoneAndAppliesTheRest()
    {
        FakeJobSource other(u"s2"_s);
        m_model->addSource(&other);
        emit m_src->jobUpdated(makeJob(u"a"_s, 1));
        emit m_src->jobUpdated(makeJob(u"b"_s, 1));
        emit other.jobUpdated(makeJob(u"a"_s, 1));
        emit m_src->jobUpdated(makeJob(u"c"_s, 1));
        m_model->flush();

        QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(m_model.get(), &QAbstractItemModel::rowsRemoved);
        QSignalSpy finished(m_model.get(), &JobModel::jobFinished);
        emit m_src->jobsReset({makeJob(u"b"_s, 4, Status::Complete, 100), makeJob(u"d"_s, 2), makeJob(u"e"_s, 1)});
        QCOMPARE(keys(*m_model),
                 (QStringList{key(u"s1"_s, u"b"_s), key(u"s2"_s, u"a"_s), key(u"s1"_s, u"d"_s), key(u"s1"_s, u"e"_s)}));
        QCOMPARE(removed.count(), 2);  // a and c were not neighbours
        QCOMPARE(inserted.count(), 1); // d and e at once
        QCOMPARE(inserted.at(0).at(1).toInt(), 2);
        QCOMPARE(inserted.at(0).at(2).toInt(), 3);
        QCOMPARE(finished.count(), 1); // b finished while the source was away
        QCOMPARE(m_model->job(0)->status, Status::Complete);
        QCOMPARE(m_model->activeCount(), 3);

        // An empty list empties that source only.
        emit m_src->jobsReset({});
        QCOMPARE(keys(*m_model), QStringList{key(u"s2"_s, u"a"_s)});
    }

    void removedJobsAndSourcesDropRows()
    {
        FakeJobSource other(u"s2"_s);
        m_model->addSource(&other);
        emit m_src->jobUpdated(makeJob(u"a"_s, 1));
        emit other.jobUpdated(makeJob(u"a"_s, 1));
        emit m_src->jobUpdated(makeJob(u"b"_s, 1));
        emit other.jobUpdated(makeJob(u"b"_s, 1));
        // A pending change to a row behind the removed ones is still announced, at its new row.
        emit other.jobUpdated(makeJob(u"b"_s, 2, Status::Running));

        emit m_src->jobRemoved(u"a"_s);
        emit m_src->jobRemoved(u"nope"_s);
        QCOMPARE(keys(*m_model), (QStringList{key(u"s2"_s, u"a"_s), key(u"s1"_s, u"b"_s), key(u"s2"_s, u"b"_s)}));

        m_model->removeSource(m_src.get());
        QCOMPARE(keys(*m_model), (QStringList{key(u"s2"_s, u"a"_s), key(u"s2"_s, u"b"_s)}));
        QCOMPARE(m_model->sources(), QList<JobSource *>{&other});
        QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
        m_model->flush();
        QCOMPARE(ranges(changed), (QList<QPair<int, int>>{{1, 1}}));

        // A removed source is not listened to any more, and its keys route nowhere.
        emit m_src->jobUpdated(makeJob(u"z"_s, 1));
        QCOMPARE(m_model->rowCount(), 2);
        QVERIFY(!m_model->cancel(key(u"s1"_s, u"b"_s)));
        QVERIFY(m_src->calls.isEmpty());

        // A source that is destroyed takes its rows with it.
        {
            FakeJobSource shortLived(u"s3"_s);
            m_model->addSource(&shortLived);
            emit shortLived.jobUpdated(makeJob(u"q"_s, 1));
            QCOMPARE(m_model->rowCount(), 3);
        }
        QCOMPARE(m_model->rowCount(), 2);
        QCOMPARE(m_model->sources().size(), 1);
    }

    void actionsGoToTheJobsOwnSource()
    {
        FakeJobSource other(u"s2"_s);
        m_model->addSource(&other);
        emit m_src->jobUpdated(makeJob(u"1"_s, 1, Status::Running));
        emit other.jobUpdated(makeJob(u"1"_s, 1, Status::Running));
        emit other.jobUpdated(makeJob(u"2"_s, 1, Status::Failed));
        emit m_src->jobUpdated(makeJob(u"3"_s, 1, Status::Complete));
        emit m_src->jobUpdated(makeJob(u"4"_s, 1, Status::Pending));

        QVERIFY(m_model->cancel(key(u"s2"_s, u"1"_s)));
        QVERIFY(m_model->pause(key(u"s1"_s, u"1"_s)));
        QVERIFY(m_model->resume(key(u"s1"_s, u"1"_s)));
        QVERIFY(m_model->retry(key(u"s2"_s, u"2"_s)));
        QVERIFY(m_model->remove(key(u"s1"_s, u"3"_s)));
        QVERIFY(m_model->fetchOutput(key(u"s1"_s, u"3"_s), u"out.mp4"_s));
        QVERIFY(!m_model->cancel(key(u"s3"_s, u"1"_s)));
        QVERIFY(!m_model->cancel(u"1"_s));
        QCOMPARE(other.calls, (QStringList{u"cancel 1"_s, u"retry 2"_s}));
        QCOMPARE(m_src->calls, (QStringList{u"pause 1"_s, u"resume 1"_s, u"remove 3"_s, u"fetch 3 out.mp4"_s}));

        // Clear finished: every terminal job of every source, nothing else.
        m_src->calls.clear();
        other.calls.clear();
        QCOMPARE(m_model->removeFinished(), 2);
        QCOMPARE(m_src->calls, QStringList{u"remove 3"_s});
        QCOMPARE(other.calls, QStringList{u"remove 2"_s});
    }

    void sourceFailuresComeBackByKey()
    {
        QSignalSpy failed(m_model.get(), &JobModel::actionFailed);
        QSignalSpy ready(m_model.get(), &JobModel::outputReady);
        emit m_src->actionFailed(u"7"_s, u"pause"_s, Error{u"invalid_state"_s, u"The job has finished."_s});
        emit m_src->submitFailed(u"tok"_s, Error{u"unknown_kind"_s, u"No such operation."_s});
        emit m_src->outputReady(u"7"_s, u"a.mp4"_s, u"/tmp/a.mp4"_s);
        QCOMPARE(failed.count(), 2);
        QCOMPARE(failed.at(0), (QVariantList{key(u"s1"_s, u"7"_s), u"pause"_s, u"The job has finished."_s}));
        QCOMPARE(failed.at(1), (QVariantList{key(u"s1"_s, u"tok"_s), u"submit"_s, u"No such operation."_s}));
        QCOMPARE(ready.count(), 1);
        QCOMPARE(ready.at(0), (QVariantList{key(u"s1"_s, u"7"_s), u"a.mp4"_s, u"/tmp/a.mp4"_s}));
    }

    void summary()
    {
        QCOMPARE(m_model->activeCount(), 0);
        QCOMPARE(m_model->overallProgress(), -1.0);
        QCOMPARE(m_model->totalEtaSeconds(), 0.0);

        QSignalSpy summary(m_model.get(), &JobModel::summaryChanged);
        Job run1 = makeJob(u"r1"_s, 1, Status::Running, 20);
        run1.etaSeconds = 30;
        Job run2 = makeJob(u"r2"_s, 1, Status::Running, 60);
        emit m_src->jobUpdated(run1);
        emit m_src->jobUpdated(run2);
        emit m_src->jobUpdated(makeJob(u"p"_s, 1, Status::Pending, 0));
        emit m_src->jobUpdated(makeJob(u"h"_s, 1, Status::Paused, 40));
        emit m_src->jobUpdated(makeJob(u"f"_s, 1, Status::Failed, 70));
        emit m_src->jobUpdated(makeJob(u"c"_s, 1, Status::Complete, 100));
        emit m_src->jobUpdated(makeJob(u"x"_s, 1, Status::Canceled, 10));
        m_model->flush();
        QCOMPARE(summary.count(), 1);
        QCOMPARE(m_model->runningCount(), 2);
        QCOMPARE(m_model->queuedCount(), 2);
        QCOMPARE(m_model->failedCount(), 1);
        QCOMPARE(m_model->activeCount(), 4);
        QCOMPARE(m_model->overallProgress(), (20.0 + 60 + 0 + 40) / 4);
        QCOMPARE(m_model->totalEtaSeconds(), -1.0); // r2 has no ETA yet
        QCOMPARE(m_model->property("runningCount").toInt(), 2);

        run2.seq = 2;
        run2.etaSeconds = 12.5;
        emit m_src->jobUpdated(run2);
        m_model->flush();
        QCOMPARE(summary.count(), 2);
        QCOMPARE(m_model->totalEtaSeconds(), 42.5);

        // Thousands of small steps leave no rounding behind.
        for (int seq = 2; seq < 3002; ++seq) {
            run1.seq = seq;
            run1.progress = 20 + (seq % 7) * 0.1;
            run1.etaSeconds = 30 - (seq % 3) * 0.001;
            emit m_src->jobUpdated(run1);
        }
        run1.seq = 3002;
        run1.progress = 20;
        run1.etaSeconds = 30;
        emit m_src->jobUpdated(run1);
        m_model->flush();
        QCOMPARE(m_model->overallProgress(), (20.0 + 60 + 0 + 40) / 4);
        QCOMPARE(m_model->totalEtaSeconds(), 42.5);

        // Finishing and removing move the counts.
        emit m_src->jobUpdated(makeJob(u"r1"_s, 5000, Status::Failed, 20));
        emit m_src->jobRemoved(u"f"_s);
        m_model->flush();
        QCOMPARE(m_model->runningCount(), 1);
        QCOMPARE(m_model->failedCount(), 1);
        QCOMPARE(m_model->activeCount(), 3);
        QCOMPARE(m_model->totalEtaSeconds(), 12.5);

        // An update that changes nothing in the summary does not announce it.
        const int before = summary.count();
        Job p = makeJob(u"p"_s, 2, Status::Pending, 0);
        p.priority = 3;
        emit m_src->jobUpdated(p);
        m_model->flush();
        QCOMPARE(summary.count(), before);
    }

    void jobFinishedOnlyOnTransition()
    {
        QSignalSpy finished(m_model.get(), &JobModel::jobFinished);
        emit m_src->jobUpdated(makeJob(u"old"_s, 9, Status::Complete, 100)); // finished before we saw it
        emit m_src->jobUpdated(makeJob(u"a"_s, 1, Status::Pending));
        emit m_src->jobUpdated(makeJob(u"a"_s, 2, Status::Running, 50));
        QCOMPARE(finished.count(), 0);
        emit m_src->jobUpdated(makeJob(u"a"_s, 3, Status::Failed, 50));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toString(), key(u"s1"_s, u"a"_s));
        QCOMPARE(finished.at(0).at(1).value<Job>().status, Status::Failed);
        emit m_src->jobUpdated(makeJob(u"a"_s, 3, Status::Failed, 50)); // replay
        QCOMPARE(finished.count(), 1);

        // A retry runs a new attempt that ends again.
        Job retry = makeJob(u"a"_s, 4, Status::Pending);
        retry.attempt = 2;
        emit m_src->jobUpdated(retry);
        retry.seq = 5;
        retry.status = Status::Complete;
        emit m_src->jobUpdated(retry);
        QCOMPARE(finished.count(), 2);
        QCOMPARE(finished.at(1).at(1).value<Job>().status, Status::Complete);
    }
};

QTEST_GUILESS_MAIN(TestJobModel)
#include "tst_jobmodel.moc"
