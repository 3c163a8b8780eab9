#include "jobs/jobjson.h"
#include "jobs/jobstream.h"
#include "sse/parser.h"

#include <QRandomGenerator>
#include <QTest>

using namespace clipdeck;
using namespace clipdeck::jobs;

namespace {

Job snapshot(qint64 seq, Status status, double progress)
{
    Job job;
    job.id = QStringLiteral("job-1");
    job.seq = seq;
    job.kind = QStringLiteral("transcode");
    job.input = QStringLiteral("/clips/line one\nline two\r\n.mov"); // newlines must not split the data line
    job.params = {{QStringLiteral("preset"), QStringLiteral("web-h264")}};
    job.status = status;
    job.progress = progress;
    job.stage = QStringLiteral("encoding");
    job.createdAt = QDateTime::fromMSecsSinceEpoch(1767225600000, Qt::UTC);
    job.updatedAt = job.createdAt.addMSecs(seq * 100);
    if (status == Status::Complete) {
        job.finishedAt = job.updatedAt;
        job.outputs = {Output{QStringLiteral("a.mp4"), QStringLiteral("/o/a.mp4"), QStringLiteral("video"), 1000,
                              QStringLiteral("video/mp4")}};
    }
    return job;
}

struct Collected
{
    QList<sse::Event> events;
    QList<int> retries;
};

Collected parse(const QByteArray &bytes, qsizetype maxChunk)
{
    Collected c;
    sse::Parser parser({[&](const sse::Event &e) { c.events.append(e); }, {}, [&](int ms) { c.retries.append(ms); }});
    for (qsizetype at = 0; at < bytes.size();) {
        const qsizetype n =
            std::min<qsizetype>(bytes.size() - at, 1 + QRandomGenerator::global()->bounded(int(maxChunk)));
        parser.feed(QByteArrayView(bytes.constData() + at, n));
        at += n;
    }
    return c;
}

} // namespace

class TestJobStream : public QObject
{
    Q_OBJECT

private slots:
    void preamble()
    {
        QCOMPARE(streamPreamble(), QByteArray("retry: 2000\n\n"));
        QCOMPARE(streamPreamble(500), QByteArray("retry: 500\n\n"));
        QCOMPARE(DefaultRetryMs, 2000);
    }

    void exactBytes()
    {
        const Job job = snapshot(7, Status::Running, 12.5);
        QCOMPARE(jobEvent(job), QByteArray("id: 7\ndata: ") + encodeJob(job) + "\n\n");

        QByteArray out("x");
        appendJobEvent(out, job, "cursor-99");
        QCOMPARE(out, QByteArray("xid: cursor-99\ndata: ") + encodeJob(job) + "\n\n");
    }

    void parsesBackToTheSameJob()
    {
        const Job job = snapshot(3, Status::Running, 40);
        const Collected c = parse(jobEvent(job), 1 << 20);
        QCOMPARE(c.events.size(), 1);
        QCOMPARE(c.events[0].type, QStringLiteral("message")); // what EventSource.onmessage gets
        QCOMPARE(c.events[0].lastEventId, QStringLiteral("3"));
        const JobDecodeResult decoded = decodeJob(c.events[0].data.toUtf8());
        QVERIFY2(decoded.job, qPrintable(decoded.error));
        QCOMPARE(*decoded.job, job);
    }

    void wholeStreamInAnyChunking_data()
    {
        QTest::addColumn<int>("maxChunk");
        QTest::newRow("1 byte") << 1;
        QTest::newRow("up to 7") << 7;
        QTest::newRow("up to 300") << 300;
        QTest::newRow("whole") << (1 << 20);
    }

    void wholeStreamInAnyChunking()
    {
        QFETCH(int, maxChunk);
        // What a per-job stream carries: the preamble, then one event per snapshot, ending with
        // the terminal one.
        QList<Job> jobs;
        QByteArray stream = streamPreamble();
        for (qint64 seq = 1; seq <= 20; ++seq) {
            const Status status = seq == 1 ? Status::Pending : seq == 20 ? Status::Complete : Status::Running;
            jobs.append(snapshot(seq, status, seq == 20 ? 100 : (seq - 1) * 5.25));
            appendJobEvent(stream, jobs.last());
        }
        const Collected c = parse(stream, maxChunk);
        QCOMPARE(c.retries, QList<int>{2000});
        QCOMPARE(c.events.size(), jobs.size());
        for (qsizetype i = 0; i < jobs.size(); ++i) {
            QCOMPARE(c.events[i].lastEventId, QString::number(jobs[i].seq));
            const JobDecodeResult decoded = decodeJob(c.events[i].data.toUtf8());
            QVERIFY2(decoded.job, qPrintable(decoded.error));
            QCOMPARE(*decoded.job, jobs[i]);
        }
    }
};

QTEST_GUILESS_MAIN(TestJobStream)
#include "tst_jobstream.moc"
