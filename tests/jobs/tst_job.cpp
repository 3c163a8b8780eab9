#include "jobs/job.h"
#include "jobs/jobjson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>

using namespace clipdeck::jobs;

namespace {

QDateTime utc(qint64 msecs)
{
    return QDateTime::fromMSecsSinceEpoch(msecs, Qt::UTC);
}

// A job with every field set, awkward strings included.
Job fullJob()
{
    Job job;
    job.id = QStringLiteral("6f1c2a7e-0b1d-4a4e-9c55-3f2d7a1b9e01");
    job.seq = 42;
    job.kind = QStringLiteral("transcode");
    job.input = QStringLiteral("/media/Büro \"quoted\"\\clip\n\t\u0001.mov \U0001F3AC");
    QVariantMap nested{{QStringLiteral("w"), 1280}, {QStringLiteral("h"), 720}};
    job.params = {{QStringLiteral("preset"), QStringLiteral("web-h264")},
                  {QStringLiteral("in"), 1.5},
                  {QStringLiteral("dropAudio"), true},
                  {QStringLiteral("scale"), nested},
                  {QStringLiteral("tags"), QVariantList{QStringLiteral("a"), 2, QVariant::fromValue(nullptr)}}};
    job.status = Status::Running;
    job.progress = 37.25;
    job.stage = QStringLiteral("encoding");
    job.etaSeconds = 12.5;
    job.speed = Speed{97.3, 3.89};
    job.attempt = 2;
    job.priority = -3;
    job.error = Error{QStringLiteral("corrupt_stream"), QStringLiteral("The video is damaged at 00:01:02.")};
    job.outputs = {Output{QStringLiteral("clip.mp4"), QStringLiteral("/out/clip.mp4"), QStringLiteral("video"),
                          123456789012, QStringLiteral("video/mp4")},
                   Output{QStringLiteral("clip.jpg"), QStringLiteral("/out/clip.jpg"), QStringLiteral("poster"), 0,
                          QStringLiteral("image/jpeg")}};
    job.createdAt = utc(1767225600000); // 2026-01-01T00:00:00.000Z
    job.startedAt = utc(1767225601007);
    job.finishedAt = utc(1767225702999);
    job.updatedAt = utc(1767225703000);
    return job;
}

Job minimalJob()
{
    Job job;
    job.id = QStringLiteral("j1");
    job.seq = 1;
    job.kind = QStringLiteral("probe");
    job.createdAt = utc(0);
    job.updatedAt = utc(0);
    return job;
}

QByteArray withKey(const QByteArray &json, const QString &key, const QJsonValue &value)
{
    QJsonObject o = QJsonDocument::fromJson(json).object();
    o.insert(key, value);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray withoutKey(const QByteArray &json, const QString &key)
{
    QJsonObject o = QJsonDocument::fromJson(json).object();
    o.remove(key);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// The same snapshot built the obvious way, through QJsonObject: the benchmark's baseline and a
// cross-check of the hand-written encoder.
QByteArray encodeWithQJson(const Job &job)
{
    auto time = [](const QDateTime &t) {
        return t.isValid() ? QJsonValue(t.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue(QJsonValue::Null);
    };
    QJsonArray outputs;
    for (const Output &o : job.outputs)
        outputs.append(QJsonObject{{QStringLiteral("name"), o.name},
                                   {QStringLiteral("path"), o.path},
                                   {QStringLiteral("role"), o.role},
                                   {QStringLiteral("size"), o.size},
                                   {QStringLiteral("mime"), o.mime}});
    QJsonObject o{
        {QStringLiteral("v"), 1},
        {QStringLiteral("jobId"), job.id},
        {QStringLiteral("seq"), job.seq},
        {QStringLiteral("kind"), job.kind},
        {QStringLiteral("input"), job.input},
        {QStringLiteral("params"), QJsonObject::fromVariantMap(job.params)},
        {QStringLiteral("status"), QString(statusName(job.status))},
        {QStringLiteral("progress"), job.progress},
        {QStringLiteral("stage"), job.stage},
        {QStringLiteral("etaSeconds"), job.etaSeconds ? QJsonValue(*job.etaSeconds) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("speed"), job.speed ? QJsonValue(QJsonObject{{QStringLiteral("fps"), job.speed->fps},
                                                                     {QStringLiteral("realtime"), job.speed->realtime}})
                                            : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("attempt"), job.attempt},
        {QStringLiteral("priority"), job.priority},
        {QStringLiteral("error"), job.error ? QJsonValue(QJsonObject{{QStringLiteral("code"), job.error->code},
                                                                     {QStringLiteral("message"), job.error->message}})
                                            : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("outputs"), outputs},
        {QStringLiteral("createdAt"), time(job.createdAt)},
        {QStringLiteral("startedAt"), time(job.startedAt)},
        {QStringLiteral("finishedAt"), time(job.finishedAt)},
        {QStringLiteral("updatedAt"), time(job.updatedAt)},
    };
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

class TestJob : public QObject
{
    Q_OBJECT

private slots:
    void statusNames()
    {
        const QList<std::pair<Status, QString>> all{
            {Status::Pending, QStringLiteral("pending")}, {Status::Running, QStringLiteral("running")},
            {Status::Paused, QStringLiteral("paused")},   {Status::Complete, QStringLiteral("complete")},
            {Status::Failed, QStringLiteral("failed")},   {Status::Canceled, QStringLiteral("canceled")},
        };
        for (const auto &[status, name] : all) {
            QCOMPARE(QString(statusName(status)), name);
            QCOMPARE(statusFromName(name), std::optional<Status>(status));
        }
        QCOMPARE(statusFromName(u"cancelled"), std::nullopt);
        QCOMPARE(statusFromName(u"Running"), std::nullopt);
        QCOMPARE(statusFromName(u""), std::nullopt);
    }

    void terminalStates()
    {
        QVERIFY(!isTerminal(Status::Pending));
        QVERIFY(!isTerminal(Status::Running));
        QVERIFY(!isTerminal(Status::Paused));
        QVERIFY(isTerminal(Status::Complete));
        QVERIFY(isTerminal(Status::Failed));
        QVERIFY(isTerminal(Status::Canceled));
    }

    void exactBytes()
    {
        // Pins the wire format: key order, compactness, null handling, time format.
        Job job = minimalJob();
        job.params = {{QStringLiteral("b"), 2}, {QStringLiteral("a"), QStringLiteral("x")}};
        job.updatedAt = utc(1767225703042);
        QCOMPARE(encodeJob(job),
                 QByteArray(R"({"v":1,"jobId":"j1","seq":1,"kind":"probe","input":"","params":{"a":"x","b":2},)"
                            R"("status":"pending","progress":0,"stage":"","etaSeconds":null,"speed":null,"attempt":1,)"
                            R"("priority":0,"error":null,"outputs":[],"createdAt":"1970-01-01T00:00:00.000Z",)"
                            R"("startedAt":null,"finishedAt":null,"updatedAt":"2026-01-01T00:01:43.042Z"})"));
    }

    void keysAreExactlyTheSchema()
    {
        const QJsonObject o = QJsonDocument::fromJson(encodeJob(fullJob())).object();
        QStringList keys = o.keys();
        QStringList expected{QStringLiteral("v"),          QStringLiteral("jobId"),     QStringLiteral("seq"),
                             QStringLiteral("kind"),       QStringLiteral("input"),     QStringLiteral("params"),
                             QStringLiteral("status"),     QStringLiteral("progress"),  QStringLiteral("stage"),
                             QStringLiteral("etaSeconds"), QStringLiteral("speed"),     QStringLiteral("attempt"),
                             QStringLiteral("priority"),   QStringLiteral("error"),     QStringLiteral("outputs"),
                             QStringLiteral("createdAt"),  QStringLiteral("startedAt"), QStringLiteral("finishedAt"),
                             QStringLiteral("updatedAt")};
        keys.sort();
        expected.sort();
        QCOMPARE(keys, expected);
        QCOMPARE(o.value(u"outputs").toArray().at(0).toObject().keys().size(), 5);
        QCOMPARE(o.value(u"speed").toObject().keys().size(), 2);
        QCOMPARE(o.value(u"error").toObject().keys().size(), 2);
    }

    void agreesWithQJsonDocument()
    {
        // Parsed, our bytes and QJsonDocument's are the same document.
        for (const Job &job : {fullJob(), minimalJob()})
            QCOMPARE(QJsonDocument::fromJson(encodeJob(job)), QJsonDocument::fromJson(encodeWithQJson(job)));
    }

    void roundTrip_data()
    {
        QTest::addColumn<Job>("job");
        QTest::newRow("full") << fullJob();
        QTest::newRow("minimal") << minimalJob();
        Job awkward = fullJob();
        awkward.progress = 100.0 / 3.0; // needs all 17 digits to read back the same
        awkward.etaSeconds = 0;
        awkward.speed = Speed{0, 0};
        awkward.seq = 9007199254740992; // 2^53
        awkward.priority = std::numeric_limits<int>::min();
        awkward.error = Error{QStringLiteral("x"), QString()};
        awkward.status = Status::Canceled;
        QTest::newRow("awkward numbers") << awkward;
        for (Status s :
             {Status::Pending, Status::Running, Status::Paused, Status::Complete, Status::Failed, Status::Canceled}) {
            Job j = minimalJob();
            j.status = s;
            QTest::newRow(statusName(s).data()) << j;
        }
    }

    void roundTrip()
    {
        QFETCH(Job, job);
        const QByteArray json = encodeJob(job);
        const JobDecodeResult decoded = decodeJob(json);
        QVERIFY2(decoded.job.has_value(), qPrintable(decoded.error));
        QVERIFY(decoded.error.isEmpty());
        QCOMPARE(encodeJob(*decoded.job), json);
        QCOMPARE(*decoded.job, job);
        // And again: decode(encode(x)) encodes to the same bytes.
        QCOMPARE(encodeJob(*decoded.job), json);
    }

    void deterministic()
    {
        const Job a = fullJob();
        const Job b = a; // a copy, built independently below too
        QCOMPARE(encodeJob(a), encodeJob(b));
        QCOMPARE(encodeJob(a), encodeJob(fullJob()));

        // Params inserted in a different order, and given as a hash: the same bytes.
        Job c = minimalJob(), d = minimalJob();
        c.params.insert(QStringLiteral("zeta"), 1);
        c.params.insert(QStringLiteral("alpha"),
                        QVariantHash{{QStringLiteral("y"), 1}, {QStringLiteral("x"), 2}, {QStringLiteral("w"), 3}});
        d.params.insert(QStringLiteral("alpha"),
                        QVariantMap{{QStringLiteral("w"), 3}, {QStringLiteral("x"), 2}, {QStringLiteral("y"), 1}});
        d.params.insert(QStringLiteral("zeta"), 1);
        QCOMPARE(encodeJob(c), encodeJob(d));

        QByteArray appended("prefix");
        appendJob(appended, a);
        QCOMPARE(appended, QByteArray("prefix") + encodeJob(a));
    }

    void oneLine()
    {
        const QByteArray json = encodeJob(fullJob());
        QVERIFY(!json.contains('\n'));
        QVERIFY(!json.contains('\r'));
        QVERIFY(json.contains("\\n\\t\\u0001"));
        QVERIFY(json.contains("B\xc3\xbcro"));      // UTF-8, not \u escapes
        QVERIFY(json.contains("\xf0\x9f\x8e\xac")); // a non-BMP character as 4 UTF-8 bytes
    }

    void nonFiniteNumbersAreNull()
    {
        Job job = minimalJob();
        job.params.insert(QStringLiteral("nan"), std::nan(""));
        job.etaSeconds = std::numeric_limits<double>::infinity();
        const QByteArray json = encodeJob(job);
        QVERIFY(json.contains(R"("nan":null)"));
        QVERIFY(json.contains(R"("etaSeconds":null)"));
        QVERIFY(decodeJob(json).job.has_value());
    }

    void times_data()
    {
        QTest::addColumn<qint64>("msecs");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("epoch") << qint64(0) << QByteArray("1970-01-01T00:00:00.000Z");
        QTest::newRow("leap day") << qint64(951782400123) << QByteArray("2000-02-29T00:00:00.123Z");
        QTest::newRow("before epoch") << qint64(-1) << QByteArray("1969-12-31T23:59:59.999Z");
        QTest::newRow("end of day") << qint64(1767225599999) << QByteArray("2025-12-31T23:59:59.999Z");
    }

    void times()
    {
        QFETCH(qint64, msecs);
        QFETCH(QByteArray, text);
        QCOMPARE(formatUtcTime(utc(msecs)), text);
        // Whatever zone the QDateTime is in, the text is UTC.
        QCOMPARE(formatUtcTime(utc(msecs).toOffsetFromUtc(5 * 3600 + 1800)), text);
        QCOMPARE(formatUtcTime(utc(msecs)), utc(msecs).toString(Qt::ISODateWithMs).toLatin1());
    }

    void offsetTimesAreReadAsUtc()
    {
        QByteArray json = encodeJob(minimalJob());
        json.replace("\"createdAt\":\"1970-01-01T00:00:00.000Z\"", "\"createdAt\":\"1970-01-01T02:00:00.000+02:00\"");
        const auto decoded = decodeJob(json);
        QVERIFY2(decoded.job, qPrintable(decoded.error));
        QCOMPARE(decoded.job->createdAt, utc(0));
    }

    void decodeErrors_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("mentions");

        const QByteArray good = encodeJob(fullJob());
        QTest::newRow("empty") << QByteArray() << QStringLiteral("malformed JSON");
        QTest::newRow("truncated") << good.left(good.size() - 5) << QStringLiteral("malformed JSON");
        QTest::newRow("garbage") << QByteArray("id: 1\ndata: {}") << QStringLiteral("malformed JSON");
        QTest::newRow("array") << QByteArray("[1,2]") << QStringLiteral("expected a JSON object, got an array");
        QTest::newRow("empty object") << QByteArray("{}") << QStringLiteral("\"v\": missing");
        QTest::newRow("v=2") << withKey(good, QStringLiteral("v"), 2) << QStringLiteral("unsupported schema version 2");
        QTest::newRow("v=0") << withKey(good, QStringLiteral("v"), 0) << QStringLiteral("unsupported schema version 0");
        QTest::newRow("v string") << withKey(good, QStringLiteral("v"), QStringLiteral("1"))
                                  << QStringLiteral("\"v\": expected an integer, got a string");
        QTest::newRow("v 1.5") << withKey(good, QStringLiteral("v"), 1.5)
                               << QStringLiteral("\"v\": expected an integer");

        // Every key is required (nullable ones as null).
        for (const char *key :
             {"jobId", "seq", "kind", "input", "params", "status", "progress", "stage", "etaSeconds", "speed",
              "attempt", "priority", "error", "outputs", "createdAt", "startedAt", "finishedAt", "updatedAt"}) {
            const QString k = QString::fromLatin1(key);
            QTest::addRow("missing %s", key) << withoutKey(good, k) << QStringLiteral("\"%1\": missing").arg(k);
        }
        // Mistyped.
        QTest::newRow("jobId number") << withKey(good, QStringLiteral("jobId"), 5)
                                      << QStringLiteral("\"jobId\": expected a string, got a number");
        QTest::newRow("jobId empty") << withKey(good, QStringLiteral("jobId"), QString())
                                     << QStringLiteral("\"jobId\": must not be empty");
        QTest::newRow("seq negative") << withKey(good, QStringLiteral("seq"), -1)
                                      << QStringLiteral("\"seq\": -1 is below the minimum 0");
        QTest::newRow("seq fraction") << withKey(good, QStringLiteral("seq"), 1.5)
                                      << QStringLiteral("\"seq\": expected an integer, got 1.5");
        QTest::newRow("seq null") << withKey(good, QStringLiteral("seq"), QJsonValue())
                                  << QStringLiteral("\"seq\": expected an integer, got null");
        QTest::newRow("kind null") << withKey(good, QStringLiteral("kind"), QJsonValue())
                                   << QStringLiteral("\"kind\": expected a string, got null");
        QTest::newRow("params array") << withKey(good, QStringLiteral("params"), QJsonArray())
                                      << QStringLiteral("\"params\": expected an object, got an array");
        QTest::newRow("params null") << withKey(good, QStringLiteral("params"), QJsonValue())
                                     << QStringLiteral("\"params\": expected an object, got null");
        QTest::newRow("unknown status") << withKey(good, QStringLiteral("status"), QStringLiteral("done"))
                                        << QStringLiteral("\"status\": unknown status \"done\"");
        QTest::newRow("status number") << withKey(good, QStringLiteral("status"), 1)
                                       << QStringLiteral("\"status\": expected a string, got a number");
        QTest::newRow("progress 101") << withKey(good, QStringLiteral("progress"), 101)
                                      << QStringLiteral("\"progress\": 101 is above the maximum 100");
        QTest::newRow("progress -1") << withKey(good, QStringLiteral("progress"), -0.5)
                                     << QStringLiteral("\"progress\": -0.5 is below the minimum 0");
        QTest::newRow("progress string") << withKey(good, QStringLiteral("progress"), QStringLiteral("50%"))
                                         << QStringLiteral("\"progress\": expected a number, got a string");
        QTest::newRow("stage bool") << withKey(good, QStringLiteral("stage"), true)
                                    << QStringLiteral("\"stage\": expected a string, got a boolean");
        QTest::newRow("eta negative") << withKey(good, QStringLiteral("etaSeconds"), -3)
                                      << QStringLiteral("\"etaSeconds\": -3 is below the minimum 0");
        QTest::newRow("eta string") << withKey(good, QStringLiteral("etaSeconds"), QStringLiteral("soon"))
                                    << QStringLiteral("\"etaSeconds\": expected a number, got a string");
        QTest::newRow("speed number") << withKey(good, QStringLiteral("speed"), 2)
                                      << QStringLiteral("\"speed\": expected an object or null, got a number");
        QTest::newRow("speed.fps missing")
            << withKey(good, QStringLiteral("speed"), QJsonObject{{QStringLiteral("realtime"), 1}})
            << QStringLiteral("\"speed.fps\": missing");
        QTest::newRow("speed.realtime string")
            << withKey(good, QStringLiteral("speed"),
                       QJsonObject{{QStringLiteral("fps"), 1}, {QStringLiteral("realtime"), QStringLiteral("x")}})
            << QStringLiteral("\"speed.realtime\": expected a number, got a string");
        QTest::newRow("attempt 0") << withKey(good, QStringLiteral("attempt"), 0)
                                   << QStringLiteral("\"attempt\": 0 is below the minimum 1");
        QTest::newRow("priority huge") << withKey(good, QStringLiteral("priority"), 1e12)
                                       << QStringLiteral("\"priority\": 1000000000000 is above the maximum 2147483647");
        QTest::newRow("error string") << withKey(good, QStringLiteral("error"), QStringLiteral("boom"))
                                      << QStringLiteral("\"error\": expected an object or null, got a string");
        QTest::newRow("error.code missing")
            << withKey(good, QStringLiteral("error"), QJsonObject{{QStringLiteral("message"), QStringLiteral("m")}})
            << QStringLiteral("\"error.code\": missing");
        QTest::newRow("error.code empty") << withKey(
            good, QStringLiteral("error"),
            QJsonObject{{QStringLiteral("code"), QString()}, {QStringLiteral("message"), QStringLiteral("m")}})
                                          << QStringLiteral("\"error.code\": must not be empty");
        QTest::newRow("outputs object") << withKey(good, QStringLiteral("outputs"), QJsonObject())
                                        << QStringLiteral("\"outputs\": expected an array, got an object");
        QTest::newRow("outputs[1] string") << withKey(
            good, QStringLiteral("outputs"),
            QJsonArray{QJsonDocument::fromJson(good).object().value(u"outputs").toArray().at(0), QStringLiteral("x")})
                                           << QStringLiteral("\"outputs[1]\": expected an object, got a string");
        QJsonObject badOutput = QJsonDocument::fromJson(good).object().value(u"outputs").toArray().at(0).toObject();
        badOutput.insert(QStringLiteral("size"), QStringLiteral("12"));
        QTest::newRow("outputs[0].size string")
            << withKey(good, QStringLiteral("outputs"), QJsonArray{badOutput})
            << QStringLiteral("\"outputs[0].size\": expected an integer, got a string");
        badOutput.remove(QStringLiteral("size"));
        badOutput.remove(QStringLiteral("mime"));
        QTest::newRow("outputs[0].size missing") << withKey(good, QStringLiteral("outputs"), QJsonArray{badOutput})
                                                 << QStringLiteral("\"outputs[0].size\": missing");
        QTest::newRow("createdAt null") << withKey(good, QStringLiteral("createdAt"), QJsonValue())
                                        << QStringLiteral("\"createdAt\": expected an ISO 8601 time, got null");
        QTest::newRow("createdAt not a time") << withKey(good, QStringLiteral("createdAt"), QStringLiteral("yesterday"))
                                              << QStringLiteral("\"createdAt\": \"yesterday\" is not an ISO 8601");
        QTest::newRow("startedAt no zone")
            << withKey(good, QStringLiteral("startedAt"), QStringLiteral("2026-01-01T00:00:00.000"))
            << QStringLiteral("\"startedAt\": \"2026-01-01T00:00:00.000\" has no time zone");
        QTest::newRow("finishedAt number")
            << withKey(good, QStringLiteral("finishedAt"), 0)
            << QStringLiteral("\"finishedAt\": expected an ISO 8601 time or null, got a number");
    }

    void decodeErrors()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, mentions);
        const JobDecodeResult decoded = decodeJob(json);
        QVERIFY2(!decoded.job.has_value(), "a broken snapshot must not decode to a job");
        QVERIFY2(decoded.error.contains(mentions),
                 qPrintable(QStringLiteral("error \"%1\" does not say \"%2\"").arg(decoded.error, mentions)));
    }

    void unknownKeysAreIgnored()
    {
        const QByteArray json =
            withKey(encodeJob(fullJob()), QStringLiteral("futureField"), QJsonObject{{QStringLiteral("x"), 1}});
        const auto decoded = decodeJob(json);
        QVERIFY2(decoded.job, qPrintable(decoded.error));
        QCOMPARE(*decoded.job, fullJob());
    }

    void nullableKeysAcceptNull()
    {
        Job job = fullJob();
        job.etaSeconds.reset();
        job.speed.reset();
        job.error.reset();
        job.startedAt = QDateTime();
        job.finishedAt = QDateTime();
        const QByteArray json = encodeJob(job);
        for (const char *key : {"etaSeconds", "speed", "error", "startedAt", "finishedAt"})
            QVERIFY(json.contains(QByteArray("\"") + key + "\":null"));
        const auto decoded = decodeJob(json);
        QVERIFY2(decoded.job, qPrintable(decoded.error));
        QCOMPARE(*decoded.job, job);
    }

    // Why the encoder is hand-written: run with `tst_job benchEncode` to compare.
    void benchEncode_data()
    {
        QTest::addColumn<bool>("direct");
        QTest::newRow("direct") << true;
        QTest::newRow("QJsonDocument") << false;
    }

    void benchEncode()
    {
        QFETCH(bool, direct);
        const Job job = fullJob();
        QByteArray out;
        QBENCHMARK {
            out = direct ? encodeJob(job) : encodeWithQJson(job);
        }
        QVERIFY(!out.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestJob)
#include "tst_job.moc"
