// The local engine killed for real: a process running it on a database file (enginecrashchild,
// the engine as the desktop app runs it) is killed with SIGKILL at random points of a job, again
// and again, and started again on the same files. What a watcher saw before each kill (every
// event the process wrote out) against what comes after the restart: seq never goes back nor
// repeats, the job comes back failed "interrupted", no partial file stays, and the retry that
// finally completes writes the job's own output names.
//
// The kill points come from a seeded generator: CLIPDECK_CRASH_SEED=<n> replays a run.

#include "enginetesting.h"

#include "jobs/jobjson.h"
#include "sse/parser.h"

#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>

#ifdef Q_OS_LINUX
#include <sys/prctl.h>
#endif

using namespace clipdeck;
using namespace enginetesting;

namespace {

constexpr int WaitMs = 120000; // generous: the machine may be busy compiling

QString childPath()
{
    QString dir = qEnvironmentVariable("CLIPDECK_BIN_DIR");
    if (dir.isEmpty())
        dir = QCoreApplication::applicationDirPath();
    return dir + QStringLiteral("/enginecrashchild");
}

// One life of the engine process: everything it wrote out, parsed as it arrives.
class Child
{
public:
    Child()
    {
        m_parser.setCallbacks({[this](const sse::Event &e) {
                                   auto decoded = jobs::decodeJob(e.data.toUtf8());
                                   if (decoded.job)
                                       events.append(*decoded.job);
                                   else
                                       badEvents.append(decoded.error);
                               },
                               [this](QStringView text) { comments.append(text.toString()); },
                               {}});
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput,
                         [this] { m_parser.feed(m_process.readAllStandardOutput()); });
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
#ifdef Q_OS_LINUX
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
#endif
    }
    ~Child()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(10000);
        }
    }

    bool start(const QString &database, const QString &outputDir)
    {
        m_process.start(childPath(), {database, outputDir});
        return m_process.waitForStarted(10000) && waitComment(QStringLiteral("open"));
    }
    // Sends a command and waits for its answer: "ok <command>" or "error <code> <message>".
    QString command(const QString &line)
    {
        const qsizetype from = comments.size();
        m_process.write(line.toUtf8() + '\n');
        QString answer;
        (void)QTest::qWaitFor(
            [&] {
                for (qsizetype i = from; i < comments.size() && answer.isEmpty(); ++i) {
                    if (comments[i].startsWith(QStringLiteral("ok "))
                        || comments[i].startsWith(QStringLiteral("error ")))
                        answer = comments[i];
                }
                return !answer.isEmpty() || m_process.state() == QProcess::NotRunning;
            },
            WaitMs);
        return answer;
    }
    bool waitComment(const QString &text)
    {
        return QTest::qWaitFor([&] { return comments.contains(text) || m_process.state() == QProcess::NotRunning; },
                               WaitMs)
               && comments.contains(text);
    }
    bool waitFor(const std::function<bool()> &condition)
    {
        return QTest::qWaitFor([&] { return condition() || m_process.state() == QProcess::NotRunning; }, WaitMs)
               && condition();
    }
    // SIGKILL; then whatever it had written out before it died, as a watcher would still read.
    void kill()
    {
        m_process.kill();
        m_process.waitForFinished(10000);
        m_parser.feed(m_process.readAllStandardOutput());
    }
    bool quit()
    {
        // waitForFinished() is false for a process that has already ended: the child may have
        // exited by the time its answer has been read.
        return command(QStringLiteral("quit")) == QStringLiteral("ok quit")
               && (m_process.state() == QProcess::NotRunning || m_process.waitForFinished(WaitMs))
               && m_process.exitStatus() == QProcess::NormalExit && m_process.exitCode() == 0;
    }

    QList<jobs::Job> of(const QString &id) const
    {
        QList<jobs::Job> list;
        for (const jobs::Job &j : events) {
            if (j.id == id)
                list.append(j);
        }
        return list;
    }

    QList<jobs::Job> events;
    QStringList badEvents;
    QStringList comments;

private:
    QProcess m_process;
    sse::Parser m_parser;
};

QStringList partialsIn(const QString &dir)
{
    return filesIn(dir).filter(QStringLiteral(".partial."));
}

} // namespace

class TestEngineCrash : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY2(QFileInfo(childPath()).isExecutable(), qPrintable(childPath() + QStringLiteral(" is not built")));
        QVERIFY(hasOperation(realOperations(), QStringLiteral("transcode")));
        QVERIFY(!fixtures::basicClip(60).isEmpty());
    }

    void killedAtRandomPoints()
    {
        const quint32 seed = qEnvironmentVariableIsSet("CLIPDECK_CRASH_SEED")
                                 ? quint32(qEnvironmentVariableIntValue("CLIPDECK_CRASH_SEED"))
                                 : 20260131u;
        qInfo("kill points from seed %u (CLIPDECK_CRASH_SEED)", seed);
        QRandomGenerator random(seed);
        constexpr int Kills = 12;

        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString database = dir.filePath(QStringLiteral("jobs.sqlite"));
        const QString out = dir.filePath(QStringLiteral("out"));
        const QString input = fixtures::basicClip(60);
        const QString expectedName = QFileInfo(input).completeBaseName() + QStringLiteral(".mp4");

        QList<jobs::Job> seen; // every event of the job a watcher got, in order, across lives
        QString id;
        int interruptions = 0;
        auto child = std::make_unique<Child>();
        QVERIFY(child->start(database, out));
        QCOMPARE(child->command(QStringLiteral("submit transcode ") + input), QStringLiteral("ok submit"));
        QVERIFY(!child->events.isEmpty());
        id = child->events.first().id;

        for (int kill = 0; kill < Kills; ++kill) {
            // Anywhere from right after the retry (or submit) to well into the encode.
            const qsizetype before = child->of(id).size();
            const qsizetype target = before + qsizetype(random.bounded(1, 90));
            QVERIFY2(child->waitFor([&] { return child->of(id).size() >= target; }),
                     qPrintable(QStringLiteral("kill %1: the job did not reach event %2").arg(kill).arg(target)));
            QThread::usleep(random.bounded(20000)); // and anywhere between two events
            child->kill();
            const QList<jobs::Job> life = child->of(id);
            QVERIFY(child->badEvents.isEmpty());
            QVERIFY2(!life.last().isTerminal() || life.last().status != Status::Complete,
                     "the job completed before its kill point: make the kill points earlier");
            seen += life;
            const qint64 highestSeen = seen.last().seq;
            const Status statusAtKill = life.last().status;

            child = std::make_unique<Child>();
            QVERIFY(child->start(database, out));
            // The recovery: failed "interrupted" when it was running, above everything seen.
            const QList<jobs::Job> recovered = child->of(id);
            for (const jobs::Job &j : recovered) {
                QVERIFY2(j.seq > highestSeen, qPrintable(QStringLiteral("kill %1: seq %2 after the restart, but a "
                                                                        "watcher had seen seq %3 before it")
                                                             .arg(kill)
                                                             .arg(j.seq)
                                                             .arg(highestSeen)));
            }
            if (statusAtKill == Status::Pending) {
                // Killed before it started: it is still queued, and goes on by itself.
                QVERIFY(recovered.isEmpty());
                continue;
            }
            QCOMPARE(recovered.size(), 1);
            QCOMPARE(recovered.first().status, Status::Failed);
            QCOMPARE(recovered.first().error.value_or(jobs::Error()).code, QStringLiteral("interrupted"));
            ++interruptions;
            // Open removed what the killed attempt left half-written; no output appeared.
            QVERIFY2(partialsIn(out).isEmpty(), qPrintable(filesIn(out).join(u", ")));
            QVERIFY2(filesIn(out).isEmpty(), qPrintable(filesIn(out).join(u", ")));
            QCOMPARE(child->command(QStringLiteral("retry ") + id), QStringLiteral("ok retry"));
        }
        QVERIFY2(interruptions >= Kills / 2, "most kills should find the job running");

        // The last attempt runs to its end, under the job's own names.
        QVERIFY(child->waitFor([&] { return !child->of(id).isEmpty() && child->of(id).last().isTerminal(); }));
        seen += child->of(id);
        const jobs::Job done = seen.last();
        QCOMPARE(done.status, Status::Complete);
        QCOMPARE(done.attempt, 1 + interruptions);
        QCOMPARE(done.outputs.size(), 1);
        QCOMPARE(done.outputs.first().name, expectedName);
        QCOMPARE(filesIn(out), QStringList{expectedName});

        // What a client deduping by seq keeps is every event: none is taken for one it had.
        for (qsizetype i = 1; i < seen.size(); ++i) {
            QVERIFY2(seen[i].seq > seen[i - 1].seq,
                     qPrintable(
                         QStringLiteral("event %1: seq %2 after seq %3").arg(i).arg(seen[i].seq).arg(seen[i - 1].seq)));
        }

        // An interrupted job that is deleted rather than retried leaves nothing half-written
        // either (open removed it; delete finds nothing to remove).
        QCOMPARE(child->command(QStringLiteral("submit transcode ") + input), QStringLiteral("ok submit"));
        const QString second = child->events.last().id;
        QVERIFY(child->waitFor([&] { return !child->of(second).isEmpty() && child->of(second).last().progress > 5; }));
        child->kill();
        QVERIFY2(!partialsIn(out).isEmpty(), "the killed attempt should have left a partial file to clean up");
        child = std::make_unique<Child>();
        QVERIFY(child->start(database, out));
        QCOMPARE(child->of(second).size(), 1);
        QCOMPARE(child->of(second).first().error.value_or(jobs::Error()).code, QStringLiteral("interrupted"));
        QCOMPARE(filesIn(out), QStringList{expectedName});
        QCOMPARE(child->command(QStringLiteral("remove ") + second), QStringLiteral("ok remove"));
        QCOMPARE(filesIn(out), QStringList{expectedName});
        QVERIFY(child->quit());
    }
};

QTEST_GUILESS_MAIN(TestEngineCrash)
#include "tst_enginecrash.moc"
