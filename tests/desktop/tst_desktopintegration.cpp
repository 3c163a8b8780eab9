// DesktopIntegration on a real (private) D-Bus session bus: the notification it asks the
// desktop's notification service for when a job completes or fails, and the taskbar progress it
// publishes (com.canonical.Unity.LauncherEntry). The notification service here is this test,
// registered under the real name on the bus; the app cannot tell it from a desktop's.

#include "desktopintegration.h"
#include "fakejobsource.h"

#include "client/jobmodel.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusVariant>
#include <QGuiApplication>
#include <QSignalSpy>
#include <QTest>

using namespace clipdeck;
using namespace clipdeck::jobs;
using namespace clipdeck::client;
using namespace Qt::StringLiterals;

// org.freedesktop.Notifications, as much of it as a client calls.
class NotificationService : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")

public:
    struct Notification
    {
        QString app, icon, summary, body;
        QVariantMap hints;
    };
    QList<Notification> received;

public slots:
    uint Notify(const QString &app, uint /*replacesId*/, const QString &icon, const QString &summary,
                const QString &body, const QStringList & /*actions*/, const QVariantMap &hints, int /*timeout*/)
    {
        received.append({app, icon, summary, body, hints});
        return uint(received.size());
    }
    QStringList GetCapabilities() { return {u"body"_s}; }
};

// Records the LauncherEntry Update signals the app sends.
class LauncherEntryListener : public QObject
{
    Q_OBJECT

public:
    struct Update
    {
        QString appUri;
        QVariantMap properties;
    };
    QList<Update> updates;

public slots:
    void onUpdate(const QString &appUri, const QVariantMap &properties) { updates.append({appUri, properties}); }
};

class tst_DesktopIntegration : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void notifiesCompleteAndFailed();
    void taskbarFollowsOverallProgress();

private:
    NotificationService m_service;
    LauncherEntryListener m_listener;
};

void tst_DesktopIntegration::initTestCase()
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    QVERIFY2(bus.isConnected(), "no session bus: run under dbus-run-session (ctest does)");
    QVERIFY(bus.registerObject(u"/org/freedesktop/Notifications"_s, &m_service, QDBusConnection::ExportAllSlots));
    QVERIFY(bus.registerService(u"org.freedesktop.Notifications"_s));
    QVERIFY(bus.connect(QString(), QString(), u"com.canonical.Unity.LauncherEntry"_s, u"Update"_s, &m_listener,
                        SLOT(onUpdate(QString, QVariantMap))));
}

void tst_DesktopIntegration::notifiesCompleteAndFailed()
{
    JobModel model;
    model.setCoalescingInterval(0);
    FakeJobSource source(u"local"_s, u"This computer"_s);
    model.addSource(&source);
    desktop::DesktopIntegration integration(&model);
    m_service.received.clear();

    // Seen already finished: history, not news.
    emit source.jobUpdated(makeJob(u"old"_s, 5, Status::Complete, 100));
    emit source.jobUpdated(makeJob(u"a"_s, 1, Status::Running, 10, u"/clips/Interview take 3.mov"_s));
    emit source.jobUpdated(makeJob(u"b"_s, 1, Status::Running, 10));
    emit source.jobUpdated(makeJob(u"c"_s, 1, Status::Running, 10));
    emit source.jobUpdated(makeJob(u"a"_s, 2, Status::Complete, 100, u"/clips/Interview take 3.mov"_s));
    Job failed = makeJob(u"b"_s, 2, Status::Failed, 40);
    failed.error = Error{u"disk_full"_s, u"The disk is full."_s};
    emit source.jobUpdated(failed);
    emit source.jobUpdated(makeJob(u"c"_s, 2, Status::Canceled, 10)); // the user did it: no news

    QTRY_COMPARE_WITH_TIMEOUT(m_service.received.size(), 2, 10000);
    const auto &done = m_service.received.at(0);
    QCOMPARE(done.app, u"Clipdeck"_s);
    QCOMPARE(done.summary, u"Done: Interview take 3.mov"_s);
    // The kind as the monitor labels it (JobModel::kindLabel), not its wire name "transcode".
    QCOMPARE(done.body, u"Export finished."_s);
    QCOMPARE(done.hints.value(u"desktop-entry"_s).toString(), u"clipdeck"_s);
    const auto &bad = m_service.received.at(1);
    QCOMPARE(bad.summary, u"Failed: b.mp4"_s);
    QCOMPARE(bad.body, u"The disk is full."_s);
    // Without an error message: the kind's label says what failed.
    Job bare = makeJob(u"d"_s, 2, Status::Failed, 40);
    bare.kind = u"thumbnails"_s;
    QCOMPARE(desktop::DesktopIntegration::notificationFor(u"d.mp4"_s, bare).second, u"Thumbnails failed."_s);
    QCOMPARE(bad.hints.value(u"urgency"_s).toInt(), 2);
    // Nothing more comes (the canceled one, the one seen finished): one round trip to be sure.
    QDBusConnection::sessionBus().call(QDBusMessage::createMethodCall(
        u"org.freedesktop.DBus"_s, u"/org/freedesktop/DBus"_s, u"org.freedesktop.DBus"_s, u"GetId"_s));
    QCoreApplication::processEvents();
    QCOMPARE(m_service.received.size(), 2);
}

void tst_DesktopIntegration::taskbarFollowsOverallProgress()
{
    JobModel model;
    model.setCoalescingInterval(0);
    FakeJobSource source(u"local"_s);
    model.addSource(&source);
    auto integration = std::make_unique<desktop::DesktopIntegration>(&model);
    m_listener.updates.clear();

    emit source.jobUpdated(makeJob(u"a"_s, 1, Status::Running, 30));
    emit source.jobUpdated(makeJob(u"b"_s, 1, Status::Running, 50));
    model.flush();
    QTRY_VERIFY_WITH_TIMEOUT(!m_listener.updates.isEmpty()
                                 && m_listener.updates.last().properties.value(u"count"_s).toLongLong() == 2,
                             10000);
    auto last = m_listener.updates.last();
    QCOMPARE(last.appUri, u"application://clipdeck.desktop"_s);
    QCOMPARE(last.properties.value(u"progress"_s).toDouble(), 0.40);
    QCOMPARE(last.properties.value(u"progress-visible"_s).toBool(), true);
    QCOMPARE(last.properties.value(u"count-visible"_s).toBool(), true);

    emit source.jobUpdated(makeJob(u"a"_s, 2, Status::Complete, 100));
    emit source.jobUpdated(makeJob(u"b"_s, 2, Status::Complete, 100));
    model.flush();
    QTRY_VERIFY_WITH_TIMEOUT(m_listener.updates.last().properties.value(u"progress-visible"_s).toBool() == false,
                             10000);
    last = m_listener.updates.last();
    QCOMPARE(last.properties.value(u"count-visible"_s).toBool(), false);

    // Going away clears the icon.
    emit source.jobUpdated(makeJob(u"c"_s, 1, Status::Running, 10));
    model.flush();
    QTRY_VERIFY_WITH_TIMEOUT(m_listener.updates.last().properties.value(u"progress-visible"_s).toBool(), 10000);
    const int before = m_listener.updates.size();
    integration.reset();
    QTRY_VERIFY_WITH_TIMEOUT(m_listener.updates.size() > before, 10000);
    QCOMPARE(m_listener.updates.last().properties.value(u"progress-visible"_s).toBool(), false);
}

QTEST_MAIN(tst_DesktopIntegration)
#include "tst_desktopintegration.moc"
