// clipdeck-server killed with SIGKILL at random points of a job, again and again, and started
// again on the same data folder. A watcher on the job's stream records every event id (the
// job's seq) it got before each kill; after the restart it resumes with Last-Event-ID, as a
// browser's EventSource does, and must get the job's end (failed "interrupted") above all of
// them: a seq at or below would be dropped by its dedupe-by-seq, or answered 204. No partial
// file stays, and the retry that finally completes writes the job's own output name.
//
// The kill points come from a seeded generator: CLIPDECK_CRASH_SEED=<n> replays a run.

#include "mediafixtures.h"
#include "serverfixture.h"

#include <QDirIterator>
#include <QRandomGenerator>
#include <QTemporaryDir>

using namespace serverfixture;
using clipdeck::jobs::Job;
using clipdeck::jobs::Status;

namespace {

// Every file under dir whose name says it is a partial output.
QStringList partialsUnder(const QString &dir)
{
    QStringList found;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        if (it.fileName().contains(QStringLiteral(".partial.")))
            found.append(it.filePath());
    }
    return found;
}

} // namespace

class tst_ServerCrash : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void killedAtRandomPoints();

private:
    QTemporaryDir m_dir;
    Http m_http;
    QString m_longClip;
};

void tst_ServerCrash::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_longClip = fixtures::basicClip(60);
    QVERIFY(!m_longClip.isEmpty());
}

void tst_ServerCrash::killedAtRandomPoints()
{
    const quint32 seed = qEnvironmentVariableIsSet("CLIPDECK_CRASH_SEED")
                             ? quint32(qEnvironmentVariableIntValue("CLIPDECK_CRASH_SEED"))
                             : 20260131u;
    qInfo("kill points from seed %u (CLIPDECK_CRASH_SEED)", seed);
    QRandomGenerator random(seed);
    constexpr int Kills = 6;

    const QString data = m_dir.path() + QStringLiteral("/crash");
    ServerProcess server(data);
    QVERIFY(server.start());
    QFile clip(m_longClip);
    QVERIFY(clip.open(QIODevice::ReadOnly));
    const Reply uploaded = m_http.send("POST", server.url(QStringLiteral("/api/media")), alice.token, clip.readAll(),
                                       {{"X-Filename", "clip.mp4"}});
    QCOMPARE(uploaded.status, 201);
    const QByteArray media = uploaded.json().value(QStringLiteral("id")).toString().toUtf8();
    const Reply submitted = m_http.postJson(server.url(QStringLiteral("/api/jobs")), alice.token,
                                            "{\"kind\":\"transcode\",\"mediaId\":\"" + media + "\"}");
    QCOMPARE(submitted.status, 202);
    const QByteArray id = submitted.json().value(QStringLiteral("jobId")).toString().toUtf8();
    const QByteArray target = "/api/jobs/" + id + "/stream";

    QList<qint64> seen;  // every event id the watcher got, across the server's lives, in order
    QString partialName; // what the killed attempts were writing, as the operation names it
    int interruptions = 0;
    for (int kill = 0; kill < Kills; ++kill) {
        {
            SseClient stream(server.port(), target,
                             bearer(alice)
                                 + QList<std::pair<QByteArray, QByteArray>>{
                                     {"Last-Event-ID", QByteArray::number(seen.isEmpty() ? 0 : seen.last())}});
            // Anywhere from the stream's first event to a couple of seconds into the encode.
            const qsizetype events = random.bounded(1, 25);
            QVERIFY2(stream.waitEvents(events), qPrintable(QStringLiteral("kill %1: %2 events of %3 arrived")
                                                               .arg(kill)
                                                               .arg(stream.events.size())
                                                               .arg(events)));
            QVERIFY2(!jobOf(stream.events.last())->isTerminal(),
                     "the job ended before its kill point: make the kill points earlier");
            server.killHard();
            QVERIFY(stream.waitClosed());
            for (const auto &e : std::as_const(stream.events))
                seen.append(e.lastEventId.toLongLong());
        }
        const QStringList partials = partialsUnder(data);
        if (partialName.isEmpty() && partials.size() == 1)
            partialName = QFileInfo(partials.first()).fileName();

        QVERIFY(server.start());
        // The watcher resumes where it was.
        SseClient resumed(
            server.port(), target,
            bearer(alice)
                + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", QByteArray::number(seen.last())}});
        QVERIFY(resumed.waitEvents(1));
        QCOMPARE(resumed.status, 200);
        const Job back = jobOf(resumed.events.first()).value();
        QVERIFY2(back.seq > seen.last(), qPrintable(QStringLiteral("kill %1: seq %2 after the restart, but the "
                                                                   "watcher had seen seq %3 before it")
                                                        .arg(kill)
                                                        .arg(back.seq)
                                                        .arg(seen.last())));
        seen.append(back.seq);
        if (back.status != Status::Failed) {
            // Killed before it started: still queued, it went on by itself.
            QVERIFY(back.status == Status::Pending || back.status == Status::Running);
            continue;
        }
        ++interruptions;
        QCOMPARE(back.error.value_or(clipdeck::jobs::Error()).code, QStringLiteral("interrupted"));
        QVERIFY(resumed.waitClosed()); // its end: a terminal event
        QVERIFY2(partialsUnder(data).isEmpty(), qPrintable(partialsUnder(data).join(u", ")));
        const Reply retried = m_http.send(
            "POST", server.url(QStringLiteral("/api/jobs/%1/retry").arg(QString::fromUtf8(id))), alice.token);
        QCOMPARE(retried.status, 200);
        const Job pending = clipdeck::jobs::decodeJob(retried.body).job.value();
        QVERIFY(pending.seq > back.seq);
        seen.append(pending.seq);
    }
    QVERIFY2(interruptions >= Kills / 2, "most kills should find the job running");
    QVERIFY2(!partialName.isEmpty(), "a killed attempt should have been caught writing its output");

    // The last attempt runs to its end, under the name the killed attempts were writing.
    SseClient last(server.port(), target,
                   bearer(alice)
                       + QList<std::pair<QByteArray, QByteArray>>{{"Last-Event-ID", QByteArray::number(seen.last())}});
    QVERIFY(last.waitClosed());
    QVERIFY(!last.events.isEmpty());
    for (const auto &e : std::as_const(last.events))
        seen.append(e.lastEventId.toLongLong());
    const Job done = jobOf(last.events.last()).value();
    QCOMPARE(done.status, Status::Complete);
    QCOMPARE(done.attempt, 1 + interruptions);
    QCOMPARE(done.outputs.size(), 1);
    // ".clip.partial.mp4" was to become "clip.mp4".
    QCOMPARE(u'.' + done.outputs.first().name.section(u'.', 0, -2) + QStringLiteral(".partial.")
                 + done.outputs.first().name.section(u'.', -1),
             partialName);
    QVERIFY(partialsUnder(data).isEmpty());
    for (qsizetype i = 1; i < seen.size(); ++i)
        QVERIFY2(seen[i] > seen[i - 1], qPrintable(QStringLiteral("seq %1 after %2").arg(seen[i]).arg(seen[i - 1])));
    QCOMPARE(server.terminate(), 0);
}

QTEST_GUILESS_MAIN(tst_ServerCrash)
#include "tst_server_crash.moc"
