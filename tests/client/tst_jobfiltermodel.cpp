// JobFilterModel over a real JobModel: the state filters, search, count, order, rows moving
// between filters as their jobs change, and the type as QML sees it (import Clipdeck.Client).

#include "fakejobsource.h"

#include "client/jobfiltermodel.h"
#include "client/jobmodel.h"

#include <QAbstractItemModelTester>
#include <QQmlComponent>
#include <QQmlContext>
#include <QQmlEngine>
#include <QSignalSpy>
#include <QTest>
#include <QtQml/qqmlextensionplugin.h>

// The static QML plugin of lib/jobs, as an application imports it.
Q_IMPORT_QML_PLUGIN(Clipdeck_ClientPlugin)

using namespace clipdeck::jobs;
using namespace clipdeck::client;
using namespace Qt::StringLiterals;

namespace {

QStringList jobIds(const QAbstractItemModel &model)
{
    return roleValues(model, JobModel::JobIdRole);
}

} // namespace

class TestJobFilterModel : public QObject
{
    Q_OBJECT

    std::unique_ptr<FakeJobSource> m_src;
    std::unique_ptr<FakeJobSource> m_remote;
    std::unique_ptr<JobModel> m_model;
    std::unique_ptr<JobFilterModel> m_filter;
    std::unique_ptr<QAbstractItemModelTester> m_tester;

private slots:
    void init()
    {
        m_src = std::make_unique<FakeJobSource>(u"local"_s, u"This computer"_s);
        m_remote = std::make_unique<FakeJobSource>(u"https://render.example.com"_s, u"render.example.com"_s);
        m_model = std::make_unique<JobModel>();
        m_model->setCoalescingInterval(60000); // tests flush() themselves
        m_model->addSource(m_src.get());
        m_model->addSource(m_remote.get());
        m_filter = std::make_unique<JobFilterModel>();
        m_filter->setSourceModel(m_model.get());
        m_tester = std::make_unique<QAbstractItemModelTester>(m_filter.get(),
                                                              QAbstractItemModelTester::FailureReportingMode::QtTest);

        emit m_src->jobUpdated(makeJob(u"pend"_s, 1, Status::Pending, 0, u"/clips/Beach.mov"_s));
        Job run = makeJob(u"run"_s, 1, Status::Running, 30, u"/clips/interview.mp4"_s);
        run.stage = u"encoding"_s;
        emit m_src->jobUpdated(run);
        emit m_src->jobUpdated(makeJob(u"paus"_s, 1, Status::Paused, 10, u"/clips/drone.mp4"_s));
        emit m_src->jobUpdated(makeJob(u"done"_s, 1, Status::Complete, 100, u"/clips/wedding.mp4"_s));
        Job fail = makeJob(u"fail"_s, 1, Status::Failed, 5, u"/clips/broken.mp4"_s);
        fail.kind = u"scenes"_s;
        fail.error = Error{u"corrupt_stream"_s, u"The video stream is damaged at 00:42."_s};
        emit m_src->jobUpdated(fail);
        emit m_remote->jobUpdated(makeJob(u"canc"_s, 1, Status::Canceled, 50, u"media-7/party.mp4"_s));
    }

    void cleanup()
    {
        m_tester.reset();
        m_filter.reset();
        m_model.reset();
        m_remote.reset();
        m_src.reset();
    }

    void filters()
    {
        QCOMPARE(m_filter->filter(), JobFilterModel::Filter::All);
        QCOMPARE(jobIds(*m_filter), (QStringList{u"pend"_s, u"run"_s, u"paus"_s, u"done"_s, u"fail"_s, u"canc"_s}));
        QSignalSpy filterChanged(m_filter.get(), &JobFilterModel::filterChanged);
        m_filter->setFilter(JobFilterModel::Filter::Active);
        QCOMPARE(jobIds(*m_filter), (QStringList{u"pend"_s, u"run"_s, u"paus"_s}));
        m_filter->setFilter(JobFilterModel::Filter::Finished);
        QCOMPARE(jobIds(*m_filter), (QStringList{u"done"_s, u"canc"_s}));
        m_filter->setFilter(JobFilterModel::Filter::Failed);
        QCOMPARE(jobIds(*m_filter), QStringList{u"fail"_s});
        m_filter->setFilter(JobFilterModel::Filter::Failed);
        QCOMPARE(filterChanged.count(), 3);
    }

    void search_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("ids");
        QTest::newRow("clip name, any case") << u"beach"_s << QStringList{u"pend"_s};
        QTest::newRow("kind") << u"SCENES"_s << QStringList{u"fail"_s};
        QTest::newRow("stage") << u"encod"_s << QStringList{u"run"_s};
        QTest::newRow("status") << u"paused"_s << QStringList{u"paus"_s};
        // The kind and status as the rows label them, too.
        QTest::newRow("status label") << u"done"_s << QStringList{u"done"_s};
        QTest::newRow("status label, queued") << u"Queued"_s << QStringList{u"pend"_s};
        QTest::newRow("kind label") << u"export"_s << QStringList{u"pend"_s, u"run"_s, u"paus"_s, u"done"_s, u"canc"_s};
        QTest::newRow("error message") << u"damaged"_s << QStringList{u"fail"_s};
        QTest::newRow("source name") << u"example"_s << QStringList{u"canc"_s};
        QTest::newRow("surrounding spaces") << u"  wedding "_s << QStringList{u"done"_s};
        QTest::newRow("nothing") << u"zebra"_s << QStringList{};
        QTest::newRow("empty is everything")
            << QString() << QStringList{u"pend"_s, u"run"_s, u"paus"_s, u"done"_s, u"fail"_s, u"canc"_s};
    }

    void search()
    {
        QFETCH(QString, text);
        QFETCH(QStringList, ids);
        m_filter->setSearchText(text);
        QCOMPARE(jobIds(*m_filter), ids);
    }

    void searchAndFilterTogether()
    {
        m_filter->setSearchText(u".mp4"_s);
        m_filter->setFilter(JobFilterModel::Filter::Active);
        QCOMPARE(jobIds(*m_filter), (QStringList{u"run"_s, u"paus"_s}));
    }

    void count()
    {
        QSignalSpy countChanged(m_filter.get(), &JobFilterModel::countChanged);
        QCOMPARE(m_filter->count(), 6);
        QCOMPARE(m_filter->property("count").toInt(), 6);
        m_filter->setFilter(JobFilterModel::Filter::Active);
        QCOMPARE(m_filter->count(), 3);
        QCOMPARE(countChanged.count(), 1);
        emit m_src->jobUpdated(makeJob(u"new"_s, 1));
        QCOMPARE(m_filter->count(), 4);
        QCOMPARE(countChanged.count(), 2);
        emit m_src->jobUpdated(makeJob(u"done2"_s, 1, Status::Complete)); // filtered out: no change
        QCOMPARE(countChanged.count(), 2);
    }

    void aRowMovesBetweenFiltersWhenItsJobChanges()
    {
        JobFilterModel finished;
        finished.setSourceModel(m_model.get());
        finished.setFilter(JobFilterModel::Filter::Finished);
        m_filter->setFilter(JobFilterModel::Filter::Active);
        QSignalSpy activeCount(m_filter.get(), &JobFilterModel::countChanged);

        emit m_src->jobUpdated(makeJob(u"run"_s, 2, Status::Complete, 100));
        // Announced with the next flush, like every change to an existing row.
        QCOMPARE(jobIds(*m_filter), (QStringList{u"pend"_s, u"run"_s, u"paus"_s}));
        m_model->flush();
        QCOMPARE(jobIds(*m_filter), (QStringList{u"pend"_s, u"paus"_s}));
        QCOMPARE(jobIds(finished), (QStringList{u"run"_s, u"done"_s, u"canc"_s}));
        QCOMPARE(activeCount.count(), 1);

        // A retry brings it back, at its place in the source order.
        Job retry = makeJob(u"run"_s, 3, Status::Pending);
        retry.attempt = 2;
        emit m_src->jobUpdated(retry);
        m_model->flush();
        QCOMPARE(jobIds(*m_filter), (QStringList{u"pend"_s, u"run"_s, u"paus"_s}));
        QCOMPARE(jobIds(finished), (QStringList{u"done"_s, u"canc"_s}));

        // Search follows changing text too (the stage).
        m_filter->setSearchText(u"finalising"_s);
        QCOMPARE(m_filter->count(), 0);
        Job fin = makeJob(u"paus"_s, 2, Status::Running, 99);
        fin.stage = u"finalising"_s;
        emit m_src->jobUpdated(fin);
        m_model->flush();
        QCOMPARE(jobIds(*m_filter), QStringList{u"paus"_s});
    }

    void newestFirst()
    {
        m_filter->setNewestFirst(true);
        QCOMPARE(jobIds(*m_filter), (QStringList{u"canc"_s, u"fail"_s, u"done"_s, u"paus"_s, u"run"_s, u"pend"_s}));
        emit m_src->jobUpdated(makeJob(u"new"_s, 1));
        QCOMPARE(jobIds(*m_filter).first(), u"new"_s);
        // Updates do not reorder.
        emit m_src->jobUpdated(makeJob(u"pend"_s, 2, Status::Running, 1));
        m_model->flush();
        QCOMPARE(jobIds(*m_filter).last(), u"pend"_s);
        m_filter->setNewestFirst(false);
        QCOMPARE(jobIds(*m_filter).first(), u"pend"_s);
        QCOMPARE(m_filter->keyAt(0), u"local\npend"_s);
        QCOMPARE(m_filter->keyAt(99), QString());
    }

    void rowsLeaveWithTheirSource()
    {
        m_model->removeSource(m_remote.get());
        QCOMPARE(m_filter->count(), 5);
        m_filter->setSourceModel(nullptr);
        QCOMPARE(m_filter->count(), 0);
    }

    // QML: the module imports, the filter is creatable and configured from QML, sourceModel is
    // settable there, and the enums of the other types are visible.
    void fromQml()
    {
        QQmlEngine engine;
        engine.rootContext()->setContextProperty(u"appJobs"_s, m_model.get());
        QQmlComponent component(&engine);
        component.setData(R"(
            import Clipdeck.Client
            JobFilterModel {
                sourceModel: appJobs
                filter: JobFilterModel.Active
                searchText: "MP4"
                property int total: appJobs.count
                property int running: appJobs.runningCount
                property int connected: JobSource.Connected
                property int statusRole: JobModel.StatusRole
                property int failed: JobModel.Failed
            }
        )",
                          QUrl());
        std::unique_ptr<QObject> object(component.create());
        QVERIFY2(object, qPrintable(component.errorString()));
        auto *filter = qobject_cast<JobFilterModel *>(object.get());
        QVERIFY(filter);
        QCOMPARE(filter->sourceModel(), m_model.get());
        QCOMPARE(filter->count(), 2); // interview.mp4 and drone.mp4
        QCOMPARE(object->property("total").toInt(), 6);
        QCOMPARE(object->property("running").toInt(), 1);
        QCOMPARE(object->property("connected").toInt(), int(JobSource::ConnectionState::Connected));
        QCOMPARE(object->property("statusRole").toInt(), int(JobModel::StatusRole));
        QCOMPARE(object->property("failed").toInt(), int(Status::Failed));

        // JobModel is provided by the application, never made in QML.
        QQmlComponent uncreatable(&engine);
        uncreatable.setData("import Clipdeck.Client\nJobModel {}\n", QUrl());
        QVERIFY(uncreatable.isError());
    }
};

QTEST_GUILESS_MAIN(TestJobFilterModel)
#include "tst_jobfiltermodel.moc"
