// clipdeck-server's REST API, the real process over 127.0.0.1: uploads, jobs, actions,
// downloads, auth, users kept apart, CORS, and every error path with its stable code.

#include "mediafixtures.h"
#include "serverfixture.h"

#include "jobs/jobjson.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QJsonArray>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QUuid>

using namespace serverfixture;
using clipdeck::jobs::Job;
using clipdeck::jobs::Status;
using namespace Qt::StringLiterals;

class tst_ServerRest : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void healthAndMetrics();
    void unauthorized();
    void uploadAndGetMedia();
    void uploadErrors();
    void uploadLimit();
    void uploadNameNeverAPath();
    void submitRunDownload();
    void outputsNamedAfterUpload();
    void probeOutputWithoutServerPath();
    void deleteMedia();
    void oldLayoutDataDir();
    void submitValidation();
    void listFilter();
    void actions();
    void deleteJob();
    void usersKeptApart();
    void cors();
    void routingErrors();
    void httpErrorsAreJson();

private:
    QString upload(const User &user, const QString &path, const QByteArray &name);
    Job runToEnd(const User &user, const QByteArray &json);
    Job runToEnd(const User &user, const QString &kind, const QString &mediaId, const QByteArray &params = "{}");
    int jobCount(const User &user);
    QStringList mediaFiles() const;
    void verifyNoServerPath(const QByteArray &body);

    QTemporaryDir m_dir;
    std::unique_ptr<ServerProcess> m_server;
    Http m_http;
    QString m_clip;
    QString m_clipId; // alice's
};

QString tst_ServerRest::upload(const User &user, const QString &path, const QByteArray &name)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const Reply r = m_http.send("POST", m_server->url(QStringLiteral("/api/media")), user.token, f.readAll(),
                                {{"X-Filename", name}});
    if (r.status != 201) {
        qWarning("upload of %s: %d %s", qPrintable(path), r.status, r.body.constData());
        return {};
    }
    return r.json().value(QStringLiteral("id")).toString();
}

// Submits and follows the job's stream to its end; returns the terminal snapshot.
Job tst_ServerRest::runToEnd(const User &user, const QByteArray &json)
{
    const Reply r = m_http.postJson(m_server->url(QStringLiteral("/api/jobs")), user.token, json);
    if (r.status != 202) {
        qWarning("submit: %d %s", r.status, r.body.constData());
        return {};
    }
    const QString id = r.json().value(QStringLiteral("jobId")).toString();
    SseClient stream(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(user));
    if (!stream.waitClosed() || stream.events.isEmpty())
        return {};
    return jobOf(stream.events.last()).value_or(Job());
}

Job tst_ServerRest::runToEnd(const User &user, const QString &kind, const QString &mediaId, const QByteArray &params)
{
    return runToEnd(user, "{\"kind\":\"" + kind.toUtf8() + "\",\"mediaId\":\"" + mediaId.toUtf8()
                              + "\",\"params\":" + params + "}");
}

// Nothing of the server's data directory in what a client receives.
void tst_ServerRest::verifyNoServerPath(const QByteArray &body)
{
    QVERIFY2(!body.contains(m_dir.path().toUtf8()), body.constData());
    QVERIFY2(!body.contains("/media/"), body.constData());
    QVERIFY2(!body.contains(".part"), body.constData());
}

int tst_ServerRest::jobCount(const User &user)
{
    return int(m_http.get(m_server->url(QStringLiteral("/api/jobs")), user.token)
                   .json()
                   .value(QStringLiteral("jobs"))
                   .toArray()
                   .size());
}

// Every file under the media folder, relative to it ("<id>/clip.mp4").
QStringList tst_ServerRest::mediaFiles() const
{
    QStringList files;
    const QDir media(m_dir.path() + QStringLiteral("/data/media"));
    QDirIterator it(media.path(), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        files.append(media.relativeFilePath(it.next()));
    files.sort();
    return files;
}

void tst_ServerRest::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(QFileInfo(serverPath()).isExecutable(), qPrintable(serverPath()));
    m_clip = fixtures::basicClip(4);
    QVERIFY(!m_clip.isEmpty());
    m_server = std::make_unique<ServerProcess>(m_dir.path() + QStringLiteral("/data"));
    QVERIFY(m_server->start({QStringLiteral("--max-upload"), QStringLiteral("3000000"), QStringLiteral("--cors-origin"),
                             QStringLiteral("https://app.example.com"), QStringLiteral("--heavy-workers"),
                             QStringLiteral("0")}));
    m_clipId = upload(alice, m_clip, "clip.mp4");
    QVERIFY(!m_clipId.isEmpty());
}

void tst_ServerRest::cleanupTestCase()
{
    if (m_server)
        QCOMPARE(m_server->terminate(), 0);
}

void tst_ServerRest::healthAndMetrics()
{
    const Reply health = m_http.get(m_server->url(QStringLiteral("/healthz")));
    QCOMPARE(health.status, 200);
    QCOMPARE(health.json().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    const Reply metrics = m_http.get(m_server->url(QStringLiteral("/metrics")));
    QCOMPARE(metrics.status, 200);
    QVERIFY(metrics.header("Content-Type").startsWith("text/plain; version=0.0.4"));
    for (const char *name :
         {"clipdeck_streams_open{kind=\"job\"}", "clipdeck_events_published_total", "clipdeck_events_delivered_total",
          "clipdeck_stream_clients_dropped_total", "clipdeck_jobs{status=\"running\"}", "clipdeck_queue_depth",
          "clipdeck_http_request_duration_seconds_bucket{route=\"POST /api/media\",le=\"+Inf\"} 1",
          "clipdeck_uploads_total{result=\"stored\"}"}) {
        QVERIFY2(metrics.body.contains(name), name);
    }
}

void tst_ServerRest::unauthorized()
{
    for (const QString &path :
         {QStringLiteral("/api/jobs"), QStringLiteral("/api/media"), QStringLiteral("/api/events"),
          QStringLiteral("/api/jobs/x/stream"), QStringLiteral("/api/media/") + m_clipId}) {
        const Reply r = m_http.get(m_server->url(path));
        QCOMPARE(r.status, 401);
        QCOMPARE(r.errorCode(), QStringLiteral("unauthorized"));
        QCOMPARE(r.header("WWW-Authenticate"), QByteArray("Bearer realm=\"clipdeck\""));
    }
    const Reply wrong = m_http.get(m_server->url(QStringLiteral("/api/jobs")), "not-a-valid-token-at-all");
    QCOMPARE(wrong.status, 401);
    QVERIFY(wrong.header("WWW-Authenticate").contains("error=\"invalid_token\""));
    const Reply basic =
        m_http.get(m_server->url(QStringLiteral("/api/jobs")), {}, {{"Authorization", "Basic YWxpY2U6eA=="}});
    QCOMPARE(basic.status, 401);
    // The query and cookie forms are for streams only.
    QCOMPARE(
        m_http.get(m_server->url(QStringLiteral("/api/jobs?access_token=") + QString::fromLatin1(alice.token))).status,
        401);
    QCOMPARE(m_http.get(m_server->url(QStringLiteral("/api/jobs")), {}, {{"Cookie", "clipdeck_token=" + alice.token}})
                 .status,
             401);
    // Submitting without a token creates nothing.
    const int before = jobCount(alice);
    QCOMPARE(m_http
                 .postJson(m_server->url(QStringLiteral("/api/jobs")), {},
                           "{\"kind\":\"probe\",\"mediaId\":\"" + m_clipId.toUtf8() + "\"}")
                 .status,
             401);
    QCOMPARE(jobCount(alice), before);
}

void tst_ServerRest::uploadAndGetMedia()
{
    QFile f(m_clip);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    const Reply r =
        m_http.send("POST", m_server->url(QStringLiteral("/api/media?name=My%20Clip.MP4")), carol.token, bytes);
    QCOMPARE(r.status, 201);
    const QJsonObject media = r.json();
    const QString id = media.value(QStringLiteral("id")).toString();
    QVERIFY(!id.isEmpty());
    QCOMPARE(r.header("Location"), "/api/media/" + id.toUtf8());
    QCOMPARE(media.value(QStringLiteral("name")).toString(), QStringLiteral("My Clip.MP4"));
    QCOMPARE(media.value(QStringLiteral("size")).toInteger(), bytes.size());
    QCOMPARE(media.value(QStringLiteral("sha256")).toString().toLatin1(),
             QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    const QJsonObject probe = media.value(QStringLiteral("probe")).toObject();
    QCOMPARE(probe.value(QStringLiteral("streams")).toArray().size(), 2);
    QVERIFY(probe.value(QStringLiteral("durationSeconds")).toDouble() > 3.5);
    QVERIFY(!probe.contains(QStringLiteral("path"))); // no server paths
    verifyNoServerPath(r.body);

    const Reply again = m_http.get(m_server->url(QStringLiteral("/api/media/") + id), carol.token);
    QCOMPARE(again.status, 200);
    QCOMPARE(again.json(), media);
    const Reply list = m_http.get(m_server->url(QStringLiteral("/api/media")), carol.token);
    QCOMPARE(list.json().value(QStringLiteral("media")).toArray().size(), 1);
    verifyNoServerPath(list.body);
    // In a folder of its own, under the upload's name (outputs are named after it).
    QVERIFY(mediaFiles().contains(id + QStringLiteral("/My Clip.mp4")));
}

void tst_ServerRest::uploadErrors()
{
    const QStringList before = mediaFiles();
    QFile f(m_clip);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray clip = f.readAll();
    const QUrl url = m_server->url(QStringLiteral("/api/media"));

    Reply r = m_http.send("POST", url, alice.token, clip);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.errorCode(), QStringLiteral("invalid_name"));
    r = m_http.send("POST", url, alice.token, clip, {{"X-Filename", "../"}});
    QCOMPARE(r.errorCode(), QStringLiteral("invalid_name"));
    r = m_http.send("POST", url, alice.token, clip, {{"X-Filename", "bad%01name.mp4"}});
    QCOMPARE(r.errorCode(), QStringLiteral("invalid_name"));

    QFile text(fixtures::textFileNamedMp4());
    QVERIFY(text.open(QIODevice::ReadOnly));
    // The message names the upload as the client sent it, never the server's file.
    auto message = [](const Reply &reply) {
        return reply.json().value(u"error"_s).toObject().value(u"message"_s).toString();
    };
    r = m_http.send("POST", url, alice.token, text.readAll(), {{"X-Filename", "my notes.mp4"}});
    QCOMPARE(r.status, 422);
    QCOMPARE(r.errorCode(), QStringLiteral("not_media"));
    QVERIFY2(message(r).contains(u"my notes.mp4"_s), r.body.constData());
    verifyNoServerPath(r.body);
    r = m_http.send("POST", url, alice.token, QByteArray(), {{"X-Filename", "empty.mp4"}});
    QCOMPARE(r.status, 422);
    QCOMPARE(r.errorCode(), QStringLiteral("empty_file"));
    QVERIFY2(message(r).contains(u"empty.mp4"_s), r.body.constData());
    verifyNoServerPath(r.body);
    QFile random(fixtures::randomBytesFile());
    QVERIFY(random.open(QIODevice::ReadOnly));
    r = m_http.send("POST", url, alice.token, random.readAll(), {{"X-Filename", "C%3A%5Cfakepath%5Cnoise.mov"}});
    QCOMPARE(r.status, 422);
    QVERIFY2(message(r).contains(u"noise.mov"_s), r.body.constData());
    verifyNoServerPath(r.body);

    // Over the media limits: refused by the upload's probe, from the header, before any decode.
    QFile many(fixtures::manyStreamsClip(500));
    QVERIFY(many.open(QIODevice::ReadOnly));
    r = m_http.send("POST", url, alice.token, many.readAll(), {{"X-Filename", "many.mp4"}});
    QCOMPARE(r.status, 422);
    QCOMPARE(r.errorCode(), QStringLiteral("too_many_streams"));
    QVERIFY2(message(r).contains(u"many.mp4 has 500 streams"_s) && message(r).contains(u"--max-media-streams"_s),
             r.body.constData());
    verifyNoServerPath(r.body);
    QFile huge(fixtures::hugePictureClip());
    QVERIFY(huge.open(QIODevice::ReadOnly));
    r = m_http.send("POST", url, alice.token, huge.readAll(), {{"X-Filename", "huge.h264"}});
    QCOMPARE(r.status, 422);
    QCOMPARE(r.errorCode(), QStringLiteral("media_too_large"));
    QVERIFY2(message(r).contains(u"huge.h264"_s) && message(r).contains(u"10000×10000"_s)
                 && message(r).contains(u"--max-frame-pixels"_s),
             r.body.constData());
    verifyNoServerPath(r.body);

    // Nothing of any of them was kept.
    QCOMPARE(mediaFiles(), before);
    QCOMPARE(m_http.get(m_server->url(QStringLiteral("/api/media")), alice.token)
                 .json()
                 .value(QStringLiteral("media"))
                 .toArray()
                 .size(),
             1);
    QCOMPARE(m_http.get(m_server->url(QStringLiteral("/api/media/nope")), alice.token).status, 404);
}

void tst_ServerRest::uploadLimit()
{
    const QStringList before = mediaFiles();
    // Over --max-upload with a Content-Length: refused from the headers alone, before a byte of
    // the body is sent. (A raw client: QNAM, uploading the whole body, sometimes reports the
    // early answer as a closed connection.)
    RawClient announced(m_server->port());
    QVERIFY(announced.waitConnected());
    announced.socket.write("POST /api/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice.token
                           + "\r\nX-Filename: big.mp4\r\nContent-Length: 3000001\r\n\r\n");
    QTRY_COMPARE_WITH_TIMEOUT(announced.status(), 413, WaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(announced.body().contains("payload_too_large"), WaitMs);

    // Chunked, so the size is known only as it grows: refused when it passes the limit.
    RawClient raw(m_server->port());
    QVERIFY(raw.waitConnected());
    raw.socket.write("POST /api/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice.token
                     + "\r\nX-Filename: big.mp4\r\nTransfer-Encoding: chunked\r\n\r\n");
    const QByteArray chunk(1 << 20, 'y');
    for (int i = 0; i < 4 && raw.status() == 0; ++i) {
        raw.socket.write(QByteArray::number(chunk.size(), 16) + "\r\n" + chunk + "\r\n");
        QVERIFY(QTest::qWaitFor([&] { return raw.socket.bytesToWrite() == 0 || raw.closed; }, WaitMs));
    }
    QVERIFY(raw.waitClosed());
    QCOMPARE(raw.status(), 413);
    QVERIFY(raw.body().contains("payload_too_large"));
    QTRY_COMPARE_WITH_TIMEOUT(mediaFiles(), before, WaitMs); // the .part file is gone
}

void tst_ServerRest::uploadNameNeverAPath()
{
    const QString id = upload(carol, m_clip, "..%2F..%2Fescape.mp4");
    QVERIFY(!id.isEmpty());
    const Reply r = m_http.get(m_server->url(QStringLiteral("/api/media/") + id), carol.token);
    QCOMPARE(r.json().value(QStringLiteral("name")).toString(), QStringLiteral("escape.mp4"));
    QVERIFY(mediaFiles().contains(id + QStringLiteral("/escape.mp4")));
    QVERIFY(!QFileInfo::exists(m_dir.path() + QStringLiteral("/escape.mp4")));
    const QString odd = upload(carol, m_clip, "clip.$(rm -rf)");
    QVERIFY(!odd.isEmpty());
    QVERIFY(mediaFiles().contains(odd + QStringLiteral("/clip"))); // an unusable extension is simply dropped
    const QString dotted = upload(carol, m_clip, "...hidden.mp4");
    QVERIFY(!dotted.isEmpty());
    QVERIFY(mediaFiles().contains(dotted + QStringLiteral("/hidden.mp4"))); // never a hidden file
    // Nothing left of the name: "media", as docs/protocol.md says (it once was "__").
    const QString dots = upload(carol, m_clip, "...");
    QVERIFY(!dots.isEmpty());
    QCOMPARE(m_http.get(m_server->url(QStringLiteral("/api/media/") + dots), carol.token)
                 .json()
                 .value(QStringLiteral("name"))
                 .toString(),
             QStringLiteral("..."));
    QVERIFY2(mediaFiles().contains(dots + QStringLiteral("/media")), qPrintable(mediaFiles().join(u", ")));
}

void tst_ServerRest::submitRunDownload()
{
    const Reply submitted = m_http.postJson(m_server->url(QStringLiteral("/api/jobs")), alice.token,
                                            "{\"kind\":\"thumbnails\",\"mediaId\":\"" + m_clipId.toUtf8()
                                                + "\",\"params\":{\"count\":3},\"priority\":2}");
    QCOMPARE(submitted.status, 202);
    const auto first = clipdeck::jobs::decodeJob(submitted.body);
    QVERIFY2(first.job, qPrintable(first.error));
    QCOMPARE(submitted.header("Location"), "/api/jobs/" + first.job->id.toUtf8());
    QCOMPARE(first.job->input, m_clipId); // the media id, never a server path
    QCOMPARE(first.job->priority, 2);
    QCOMPARE(first.job->kind, QStringLiteral("thumbnails"));

    SseClient stream(m_server->port(), "/api/jobs/" + first.job->id.toUtf8() + "/stream", bearer(alice));
    QVERIFY(stream.waitClosed());
    const Job done = jobOf(stream.events.last()).value();
    QCOMPARE(done.status, Status::Complete);
    QVERIFY(done.outputs.size() >= 3);

    const Reply got = m_http.get(m_server->url(QStringLiteral("/api/jobs/") + done.id), alice.token);
    QCOMPARE(got.status, 200);
    const Job again = clipdeck::jobs::decodeJob(got.body).job.value();
    QCOMPARE(again, done); // REST and stream agree byte for byte on the snapshot

    for (const clipdeck::jobs::Output &o : done.outputs) {
        QCOMPARE(o.path, QStringLiteral("/api/jobs/%1/outputs/%2").arg(done.id, o.name));
        const Reply file = m_http.get(m_server->url(o.path), alice.token);
        QCOMPARE(file.status, 200);
        QCOMPARE(file.body.size(), o.size);
        QCOMPARE(file.header("Content-Type"), o.mime.toUtf8());
        QCOMPARE(file.header("Accept-Ranges"), QByteArray("bytes"));

        const Reply part = m_http.get(m_server->url(o.path), alice.token, {{"Range", "bytes=10-109"}});
        QCOMPARE(part.status, 206);
        QCOMPARE(part.body, file.body.mid(10, 100));
        QCOMPARE(part.header("Content-Range"), "bytes 10-109/" + QByteArray::number(o.size));
        const Reply tail = m_http.get(m_server->url(o.path), alice.token, {{"Range", "bytes=-16"}});
        QCOMPARE(tail.status, 206);
        QCOMPARE(tail.body, file.body.right(16));
        const Reply beyond = m_http.get(m_server->url(o.path), alice.token, {{"Range", "bytes=99999999-"}});
        QCOMPARE(beyond.status, 416);
        QCOMPARE(beyond.header("Content-Range"), "bytes */" + QByteArray::number(o.size));
        QCOMPARE(beyond.errorCode(), QStringLiteral("range_not_satisfiable"));
        const Reply head = m_http.send("HEAD", m_server->url(o.path), alice.token);
        QCOMPARE(head.status, 200);
        QCOMPARE(head.header("Content-Length"), QByteArray::number(o.size));
    }
    const Reply missing =
        m_http.get(m_server->url(QStringLiteral("/api/jobs/%1/outputs/nope.jpg").arg(done.id)), alice.token);
    QCOMPARE(missing.status, 404);
    QCOMPARE(missing.errorCode(), QStringLiteral("output_not_found"));
}

void tst_ServerRest::outputsNamedAfterUpload()
{
    const QString id = upload(alice, m_clip, "My Clip.mov");
    QVERIFY(!id.isEmpty());
    // Two jobs of one media: each writes into its own folder, so both get the plain names.
    QList<Job> runs;
    for (int i = 0; i < 2; ++i) {
        runs.append(runToEnd(alice, u"thumbnails"_s, id, "{\"count\":2}"));
        QCOMPARE(runs.last().status, Status::Complete);
        QCOMPARE(runs.last().input, id);
    }
    QStringList names;
    for (const clipdeck::jobs::Output &o : runs.first().outputs)
        names.append(o.name);
    QVERIFY2(names.contains(u"My Clip.contact.jpg"_s), qPrintable(names.join(u", ")));
    QVERIFY2(names.contains(u"My Clip.thumb-01.jpg"_s), qPrintable(names.join(u", ")));
    for (const Job &run : runs) {
        QStringList again;
        for (const clipdeck::jobs::Output &o : run.outputs) {
            again.append(o.name);
            QVERIFY2(o.name.startsWith(u"My Clip."_s), qPrintable(o.name));
            // The URL path is percent-encoded, and it downloads.
            QCOMPARE(o.path,
                     u"/api/jobs/%1/outputs/%2"_s.arg(run.id, QString::fromLatin1(QUrl::toPercentEncoding(o.name))));
            QVERIFY(o.path.contains(u"My%20Clip."_s));
            const Reply file = m_http.get(m_server->url(o.path), alice.token);
            QCOMPARE(file.status, 200);
            QCOMPARE(file.body.size(), o.size);
        }
        QCOMPARE(again, names);
    }
}

void tst_ServerRest::probeOutputWithoutServerPath()
{
    const QString name = u"Größe — 1.mov"_s;
    const QString id = upload(alice, m_clip, QUrl::toPercentEncoding(name));
    QVERIFY(!id.isEmpty());
    const Reply record = m_http.get(m_server->url(u"/api/media/"_s + id), alice.token);
    QCOMPARE(record.json().value(u"name"_s).toString(), name);
    QVERIFY(!record.json().value(u"probe"_s).toObject().contains(u"path"_s));
    verifyNoServerPath(record.body);

    const Job done = runToEnd(alice, u"probe"_s, id);
    QCOMPARE(done.status, Status::Complete);
    QCOMPARE(done.outputs.size(), 1);
    const clipdeck::jobs::Output &o = done.outputs.first();
    QCOMPARE(o.name, u"Größe — 1.probe.json"_s);
    const Reply file = m_http.get(m_server->url(o.path), alice.token);
    QCOMPARE(file.status, 200);
    // The probe names its input by file name (the upload's), never by a server path.
    QCOMPARE(file.body.size(), o.size);
    QJsonParseError error;
    const QJsonObject probe = QJsonDocument::fromJson(file.body, &error).object();
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    QVERIFY(!probe.contains(u"path"_s));
    QCOMPARE(probe.value(u"file"_s).toString(), name);
    QCOMPARE(probe.value(u"streams"_s).toArray().size(), 2);
    verifyNoServerPath(file.body);
    const Reply part = m_http.get(m_server->url(o.path), alice.token, {{"Range", "bytes=0-9"}});
    QCOMPARE(part.status, 206);
    QCOMPARE(part.body, file.body.left(10));
    QCOMPARE(part.header("Content-Range"), "bytes 0-9/" + QByteArray::number(o.size));
    const Reply head = m_http.send("HEAD", m_server->url(o.path), alice.token);
    QCOMPARE(head.header("Content-Length"), QByteArray::number(o.size));
    // Nor in the snapshot.
    verifyNoServerPath(m_http.get(m_server->url(u"/api/jobs/"_s + done.id), alice.token).body);
}

void tst_ServerRest::deleteMedia()
{
    const QString id = upload(bob, m_clip, "to delete.mp4");
    QVERIFY(!id.isEmpty());
    const QUrl url = m_server->url(u"/api/media/"_s + id);
    Reply r = m_http.send("DELETE", m_server->url(u"/api/media/no-such-media"_s), bob.token);
    QCOMPARE(r.status, 404);
    QCOMPARE(r.errorCode(), u"not_found"_s);
    QCOMPARE(m_http.send("DELETE", url, alice.token).status, 404); // not alice's
    QCOMPARE(m_http.get(url, bob.token).status, 200);

    // A job not finished uses it: no heavy workers, so a transcode stays queued.
    r = m_http.postJson(m_server->url(u"/api/jobs"_s), bob.token,
                        "{\"kind\":\"transcode\",\"mediaId\":\"" + id.toUtf8() + "\"}");
    QCOMPARE(r.status, 202);
    const QString job = r.json().value(u"jobId"_s).toString();
    r = m_http.send("DELETE", url, bob.token);
    QCOMPARE(r.status, 409);
    QCOMPARE(r.errorCode(), u"media_in_use"_s);
    QVERIFY(r.json().value(u"error"_s).toObject().value(u"message"_s).toString().contains(job));
    QCOMPARE(m_http.send("POST", m_server->url(u"/api/jobs/%1/pause"_s.arg(job)), bob.token).status, 200);
    QCOMPARE(m_http.send("DELETE", url, bob.token).status, 409); // paused is not finished
    QCOMPARE(m_http.get(url, bob.token).status, 200);
    QVERIFY(mediaFiles().contains(id + u"/to delete.mp4"_s));

    QCOMPARE(m_http.send("POST", m_server->url(u"/api/jobs/%1/cancel"_s.arg(job)), bob.token).status, 200);
    QCOMPARE(m_http.send("DELETE", url, bob.token).status, 204);
    QCOMPARE(m_http.get(url, bob.token).status, 404);
    for (const QString &file : mediaFiles())
        QVERIFY2(!file.startsWith(id), qPrintable(file)); // the file and its folder are gone
    QVERIFY(!QFileInfo::exists(m_dir.path() + u"/data/media/"_s + id));
    QCOMPARE(m_http.send("DELETE", url, bob.token).status, 404);
    // The finished job stays, still naming its media by id.
    QCOMPARE(clipdeck::jobs::decodeJob(m_http.get(m_server->url(u"/api/jobs/"_s + job), bob.token).body).job->input,
             id);
    r = m_http.postJson(m_server->url(u"/api/jobs"_s), bob.token,
                        "{\"kind\":\"probe\",\"mediaId\":\"" + id.toUtf8() + "\"}");
    QCOMPARE(r.status, 422);
    QCOMPARE(r.errorCode(), u"unknown_media"_s);
}

// A data directory of an earlier version: media stored as media/<id>.<ext>, recorded so.
void tst_ServerRest::oldLayoutDataDir()
{
    const QString dataDir = m_dir.path() + u"/old-data"_s;
    ServerProcess server(dataDir);
    QVERIFY(server.start()); // creates the databases
    QCOMPARE(server.terminate(), 0);

    const QString present = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const QString missing = QUuid::createUuid().toString(QUuid::WithoutBraces);
    QVERIFY(QFile::copy(m_clip, dataDir + u"/media/"_s + present + u".mp4"_s));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"old-layout"_s);
        db.setDatabaseName(dataDir + u"/server.sqlite"_s);
        QVERIFY(db.open());
        QSqlQuery q(db);
        for (const auto &[id, name] : {std::pair{present, u"Old Clip.mp4"_s}, std::pair{missing, u"Lost Clip.mp4"_s}}) {
            q.prepare(
                u"INSERT INTO media (id, owner, name, file, size, sha256, probe, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"_s);
            for (const QVariant &v : {QVariant(id), QVariant(u"alice"_s), QVariant(name), QVariant(id + u".mp4"_s),
                                      QVariant(QFileInfo(m_clip).size()), QVariant(u"00"_s), QVariant(u"{}"_s),
                                      QVariant(u"2025-01-01T00:00:00.000Z"_s)})
                q.addBindValue(v);
            QVERIFY2(q.exec(), qPrintable(q.lastError().text()));
        }
        q.finish();
        db.close();
    }
    QSqlDatabase::removeDatabase(u"old-layout"_s);

    QVERIFY(server.start());
    const QUrl record = server.url(u"/api/media/"_s + present);
    QCOMPARE(m_http.get(record, alice.token).json().value(u"name"_s).toString(), u"Old Clip.mp4"_s);

    const Reply submitted =
        m_http.postJson(server.url(u"/api/jobs"_s), alice.token,
                        "{\"kind\":\"thumbnails\",\"mediaId\":\"" + present.toUtf8() + "\",\"params\":{\"count\":2}}");
    QCOMPARE(submitted.status, 202);
    const QString jobId = submitted.json().value(u"jobId"_s).toString();
    SseClient stream(server.port(), "/api/jobs/" + jobId.toUtf8() + "/stream", bearer(alice));
    QVERIFY(stream.waitClosed());
    const Job done = jobOf(stream.events.last()).value();
    QCOMPARE(done.status, Status::Complete);
    QCOMPARE(done.input, present);
    for (const clipdeck::jobs::Output &o : done.outputs) {
        // Stored under its id, so its outputs keep the id's name.
        QVERIFY2(o.name.startsWith(present), qPrintable(o.name));
        QCOMPARE(m_http.get(server.url(o.path), alice.token).status, 200);
    }

    // A record whose file has gone: the job fails, and its message names the upload, not the
    // server's file.
    const Reply lost = m_http.postJson(server.url(u"/api/jobs"_s), alice.token,
                                       "{\"kind\":\"probe\",\"mediaId\":\"" + missing.toUtf8() + "\"}");
    QCOMPARE(lost.status, 202);
    SseClient lostStream(server.port(), "/api/jobs/" + lost.json().value(u"jobId"_s).toString().toUtf8() + "/stream",
                         bearer(alice));
    QVERIFY(lostStream.waitClosed());
    const Job failed = jobOf(lostStream.events.last()).value();
    QCOMPARE(failed.status, Status::Failed);
    QVERIFY(failed.error);
    QCOMPARE(failed.error->code, u"file_not_found"_s);
    QVERIFY2(failed.error->message.contains(u"Lost Clip.mp4"_s), qPrintable(failed.error->message));
    QVERIFY2(!failed.error->message.contains(dataDir), qPrintable(failed.error->message));
    QVERIFY2(!failed.error->message.contains(missing + u".mp4"_s), qPrintable(failed.error->message));
    QVERIFY2(!lostStream.body.contains(dataDir.toUtf8()), lostStream.body.constData());

    QCOMPARE(m_http.send("DELETE", record, alice.token).status, 204);
    QVERIFY(!QFileInfo::exists(dataDir + u"/media/"_s + present + u".mp4"_s));
    QCOMPARE(m_http.get(record, alice.token).status, 404);
    QCOMPARE(server.terminate(), 0);
}

void tst_ServerRest::submitValidation()
{
    const QUrl url = m_server->url(QStringLiteral("/api/jobs"));
    const QByteArray media = m_clipId.toUtf8();
    const int before = jobCount(alice);
    const struct
    {
        QByteArray body;
        int status;
        const char *code;
    } cases[] = {
        {"not json", 400, "invalid_json"},
        {"[1,2]", 400, "invalid_json"},
        {"{\"mediaId\":\"" + media + "\"}", 400, "invalid_request"},
        {"{\"kind\":\"probe\"}", 400, "invalid_request"},
        {"{\"kind\":\"probe\",\"mediaId\":\"" + media + "\",\"param\":{}}", 400, "invalid_request"},
        {"{\"kind\":\"probe\",\"mediaId\":\"" + media + "\",\"params\":[]}", 400, "invalid_request"},
        {"{\"kind\":\"probe\",\"mediaId\":\"" + media + "\",\"priority\":1.5}", 400, "invalid_request"},
        {"{\"kind\":\"sharpen\",\"mediaId\":\"" + media + "\"}", 422, "unknown_kind"},
        {"{\"kind\":\"transcode\",\"mediaId\":\"" + media + "\",\"params\":{\"preset\":\"no-such-preset\"}}", 422,
         "unknown_preset"},
        {"{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"count\":0}}", 422, "invalid_params"},
        {"{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"bogus\":1}}", 422, "invalid_params"},
        // Parameters are typed: a number is a JSON number, a flag true or false.
        {"{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"count\":\"8\"}}", 422, "invalid_params"},
        {"{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"count\":true}}", 422, "invalid_params"},
        {"{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"sheet\":\"no\"}}", 422,
         "invalid_params"},
        {"{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"sheet\":0}}", 422, "invalid_params"},
        {"{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"format\":1}}", 422, "invalid_params"},
        {"{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"count\":[8]}}", 422, "invalid_params"},
        {"{\"kind\":\"transcode\",\"mediaId\":\"" + media + "\",\"params\":{\"in\":true}}", 422, "invalid_params"},
        // A key given twice is refused, not decided by whichever came last.
        {"{\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\",\"params\":{\"count\":2,\"count\":8}}", 422,
         "invalid_params"},
        {"{\"kind\":\"probe\",\"kind\":\"thumbnails\",\"mediaId\":\"" + media + "\"}", 400, "invalid_request"},
        {"{\"kind\":\"probe\",\"mediaId\":\"no-such-media\"}", 422, "unknown_media"},
    };
    for (const auto &c : cases) {
        const Reply r = m_http.postJson(url, alice.token, c.body);
        QVERIFY2(r.status == c.status, (c.body + " -> " + r.body).constData());
        QVERIFY2(r.errorCode() == QLatin1StringView(c.code), (c.body + " -> " + r.body).constData());
        const QString message = r.json().value(u"error"_s).toObject().value(u"message"_s).toString();
        QVERIFY(!message.isEmpty());
        // A refused parameter is named.
        if (c.status == 422 && QByteArrayView(c.code) == "invalid_params") {
            const QByteArray params = c.body.mid(c.body.indexOf("\"params\":{") + 10);
            const QString name = QString::fromUtf8(params.mid(1, params.indexOf('"', 1) - 1));
            QVERIFY2(message.contains(u'\'' + name + u'\''), qPrintable(message));
        }
    }
    // A body over the JSON limit.
    const Reply big = m_http.postJson(url, alice.token, "{\"kind\":\"" + QByteArray(2 << 20, 'k') + "\"}");
    QCOMPARE(big.status, 413);
    QCOMPARE(big.errorCode(), QStringLiteral("payload_too_large"));
    // Nothing was half-created.
    QCOMPARE(jobCount(alice), before);
}

void tst_ServerRest::listFilter()
{
    const Job done =
        runToEnd(dave, "{\"kind\":\"probe\",\"mediaId\":\"" + upload(dave, m_clip, "d.mp4").toUtf8() + "\"}");
    QCOMPARE(done.status, Status::Complete);
    const QUrl all = m_server->url(QStringLiteral("/api/jobs"));
    QCOMPARE(m_http.get(all, dave.token).json().value(QStringLiteral("jobs")).toArray().size(), 1);
    const QJsonArray complete =
        m_http.get(m_server->url(QStringLiteral("/api/jobs?status=complete,failed")), dave.token)
            .json()
            .value(QStringLiteral("jobs"))
            .toArray();
    QCOMPARE(complete.size(), 1);
    QCOMPARE(complete.at(0).toObject().value(QStringLiteral("jobId")).toString(), done.id);
    QCOMPARE(m_http.get(m_server->url(QStringLiteral("/api/jobs?status=running,pending")), dave.token)
                 .json()
                 .value(QStringLiteral("jobs"))
                 .toArray()
                 .size(),
             0);
    const Reply bad = m_http.get(m_server->url(QStringLiteral("/api/jobs?status=done")), dave.token);
    QCOMPARE(bad.status, 400);
    QCOMPARE(bad.errorCode(), QStringLiteral("invalid_status"));
}

void tst_ServerRest::actions()
{
    const Job done = runToEnd(alice, "{\"kind\":\"probe\",\"mediaId\":\"" + m_clipId.toUtf8() + "\"}");
    QCOMPARE(done.status, Status::Complete);
    const QString base = QStringLiteral("/api/jobs/") + done.id;
    Reply r = m_http.send("POST", m_server->url(base + QStringLiteral("/pause")), alice.token);
    QCOMPARE(r.status, 409);
    QCOMPARE(r.errorCode(), QStringLiteral("invalid_state"));
    r = m_http.send("POST", m_server->url(base + QStringLiteral("/resume")), alice.token);
    QCOMPARE(r.status, 409);
    r = m_http.send("POST", m_server->url(base + QStringLiteral("/cancel")), alice.token);
    QCOMPARE(r.status, 409);
    r = m_http.send("POST", m_server->url(base + QStringLiteral("/retry")), alice.token);
    QCOMPARE(r.status, 409); // only failed or canceled jobs are retried
    r = m_http.send("POST", m_server->url(QStringLiteral("/api/jobs/nope/cancel")), alice.token);
    QCOMPARE(r.status, 404);
    QCOMPARE(r.errorCode(), QStringLiteral("not_found"));

    // The server runs no heavy workers (--heavy-workers 0): a transcode stays queued, so every
    // transition of a job that has not started is deterministic.
    r = m_http.postJson(m_server->url(QStringLiteral("/api/jobs")), alice.token,
                        "{\"kind\":\"transcode\",\"mediaId\":\"" + m_clipId.toUtf8() + "\"}");
    QCOMPARE(r.status, 202);
    const QString id = r.json().value(QStringLiteral("jobId")).toString();
    auto act = [&](const char *action) {
        const Reply reply = m_http.send(
            "POST", m_server->url(QStringLiteral("/api/jobs/%1/%2").arg(id, QLatin1StringView(action))), alice.token);
        return std::pair{reply.status, clipdeck::jobs::decodeJob(reply.body).job};
    };
    auto [status, job] = act("pause");
    QCOMPARE(status, 200);
    QCOMPARE(job->status, Status::Paused); // held: paused before it ran
    QVERIFY(!job->startedAt.isValid());
    QCOMPARE(act("pause").first, 409);
    std::tie(status, job) = act("resume");
    QCOMPARE(status, 200);
    QCOMPARE(job->status, Status::Pending);
    std::tie(status, job) = act("cancel");
    QCOMPARE(status, 200);
    QCOMPARE(job->status, Status::Canceled);
    QCOMPARE(act("cancel").first, 409);
    QCOMPARE(m_http.send("DELETE", m_server->url(QStringLiteral("/api/jobs/") + id), bob.token).status, 404);
    std::tie(status, job) = act("retry");
    QCOMPARE(status, 200);
    QCOMPARE(job->status, Status::Pending);
    QCOMPARE(job->attempt, 2);
    // Not finished: it cannot be deleted.
    const Reply busy = m_http.send("DELETE", m_server->url(QStringLiteral("/api/jobs/") + id), alice.token);
    QCOMPARE(busy.status, 409);
    QCOMPARE(busy.errorCode(), QStringLiteral("invalid_state"));
    QCOMPARE(act("cancel").first, 200);
    // The stream of a finished job: the preamble and its terminal snapshot, then the end.
    SseClient stream(m_server->port(), "/api/jobs/" + id.toUtf8() + "/stream", bearer(alice));
    QVERIFY(stream.waitClosed());
    QCOMPARE(stream.events.size(), 1);
    QCOMPARE(jobOf(stream.events.first())->status, Status::Canceled);
    QCOMPARE(jobOf(stream.events.first())->seq, job->seq + 1);
}

void tst_ServerRest::deleteJob()
{
    const Job done = runToEnd(carol, "{\"kind\":\"thumbnails\",\"mediaId\":\"" + upload(carol, m_clip, "c.mp4").toUtf8()
                                         + "\",\"params\":{\"count\":2}}");
    QCOMPARE(done.status, Status::Complete);
    const QUrl url = m_server->url(QStringLiteral("/api/jobs/") + done.id);
    QCOMPARE(m_http.send("DELETE", url, bob.token).status, 404); // not bob's
    QCOMPARE(m_http.send("DELETE", url, carol.token).status, 204);
    QCOMPARE(m_http.get(url, carol.token).status, 404);
    QCOMPARE(m_http.get(m_server->url(done.outputs.first().path), carol.token).status, 404);
    QCOMPARE(m_http.send("DELETE", url, carol.token).status, 404);
}

void tst_ServerRest::usersKeptApart()
{
    const Job done =
        runToEnd(alice, "{\"kind\":\"thumbnails\",\"mediaId\":\"" + m_clipId.toUtf8() + "\",\"params\":{\"count\":2}}");
    QCOMPARE(done.status, Status::Complete);
    const QString job = QStringLiteral("/api/jobs/") + done.id;
    // Another user's things do not exist for bob: 404, never 403.
    QCOMPARE(m_http.get(m_server->url(job), bob.token).status, 404);
    QCOMPARE(m_http.get(m_server->url(job + QStringLiteral("/stream")), bob.token).status, 404);
    QCOMPARE(m_http.get(m_server->url(done.outputs.first().path), bob.token).status, 404);
    QCOMPARE(m_http.get(m_server->url(QStringLiteral("/api/media/") + m_clipId), bob.token).status, 404);
    QCOMPARE(m_http.send("POST", m_server->url(job + QStringLiteral("/retry")), bob.token).status, 404);
    const Reply submit = m_http.postJson(m_server->url(QStringLiteral("/api/jobs")), bob.token,
                                         "{\"kind\":\"probe\",\"mediaId\":\"" + m_clipId.toUtf8() + "\"}");
    QCOMPARE(submit.status, 422);
    QCOMPARE(submit.errorCode(), QStringLiteral("unknown_media"));
    for (const QJsonValue &j : m_http.get(m_server->url(QStringLiteral("/api/jobs")), bob.token)
                                   .json()
                                   .value(QStringLiteral("jobs"))
                                   .toArray())
        QVERIFY(j.toObject().value(QStringLiteral("jobId")).toString() != done.id);
    QCOMPARE(m_http.get(m_server->url(QStringLiteral("/api/media")), bob.token)
                 .json()
                 .value(QStringLiteral("media"))
                 .toArray()
                 .size(),
             0);
}

void tst_ServerRest::cors()
{
    const QUrl url = m_server->url(QStringLiteral("/api/jobs"));
    Reply pre = m_http.send("OPTIONS", url, {}, {},
                            {{"Origin", "https://app.example.com"},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "authorization, content-type"}});
    QCOMPARE(pre.status, 204);
    QCOMPARE(pre.header("Access-Control-Allow-Origin"), QByteArray("https://app.example.com"));
    QVERIFY(pre.header("Access-Control-Allow-Methods").contains("POST"));
    QVERIFY(pre.header("Access-Control-Allow-Headers").contains("Authorization"));
    QVERIFY(pre.header("Access-Control-Allow-Headers").contains("Last-Event-ID"));
    QCOMPARE(pre.header("Access-Control-Allow-Credentials"), QByteArray("true"));
    QVERIFY(pre.header("Vary").contains("Origin"));

    Reply denied = m_http.send("OPTIONS", url, {}, {},
                               {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    QCOMPARE(denied.status, 403);
    QCOMPARE(denied.errorCode(), QStringLiteral("origin_not_allowed"));
    QVERIFY(!denied.hasHeader("Access-Control-Allow-Origin"));

    Reply get = m_http.get(url, alice.token, {{"Origin", "https://app.example.com"}});
    QCOMPARE(get.status, 200);
    QCOMPARE(get.header("Access-Control-Allow-Origin"), QByteArray("https://app.example.com"));
    QVERIFY(get.header("Access-Control-Expose-Headers").contains("Location"));
    // Errors carry them too, so a page can read the error.
    Reply unauth = m_http.get(url, {}, {{"Origin", "https://app.example.com"}});
    QCOMPARE(unauth.status, 401);
    QCOMPARE(unauth.header("Access-Control-Allow-Origin"), QByteArray("https://app.example.com"));
    Reply other = m_http.get(url, alice.token, {{"Origin", "https://evil.example"}});
    QCOMPARE(other.status, 200);
    QVERIFY(!other.hasHeader("Access-Control-Allow-Origin"));

    // A stream answered to a page of an allowed origin.
    SseClient stream(m_server->port(), "/api/events?access_token=" + alice.token,
                     {{"Origin", "https://app.example.com"}});
    QVERIFY(stream.waitOpen());
    QCOMPARE(stream.status, 200);
    QCOMPARE(stream.header("Access-Control-Allow-Origin"), QByteArray("https://app.example.com"));
}

void tst_ServerRest::routingErrors()
{
    Reply r = m_http.get(m_server->url(QStringLiteral("/api/nothing")), alice.token);
    QCOMPARE(r.status, 404);
    QCOMPARE(r.errorCode(), QStringLiteral("not_found"));
    r = m_http.send("PUT", m_server->url(QStringLiteral("/api/jobs")), alice.token, "{}");
    QCOMPARE(r.status, 405);
    QCOMPARE(r.errorCode(), QStringLiteral("method_not_allowed"));
    QVERIFY(r.header("Allow").contains("GET"));
    QVERIFY(r.header("Allow").contains("POST"));
    r = m_http.send("OPTIONS", m_server->url(QStringLiteral("/api/jobs/x")), {});
    QCOMPARE(r.status, 204);
    QVERIFY(r.header("Allow").contains("DELETE"));
}

void tst_ServerRest::httpErrorsAreJson()
{
    RawClient malformed(m_server->port());
    QVERIFY(malformed.waitConnected());
    malformed.socket.write("GET /api/jobs HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n");
    QVERIFY(malformed.waitClosed());
    QCOMPARE(malformed.status(), 400);
    QVERIFY(malformed.body().contains("\"code\":\"bad_request\""));

    RawClient big(m_server->port());
    QVERIFY(big.waitConnected());
    big.socket.write("GET /api/jobs HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(20000, 'b') + "\r\n\r\n");
    QVERIFY(big.waitClosed());
    QCOMPARE(big.status(), 431);
    QVERIFY(big.body().contains("\"code\":\"headers_too_large\""));

    RawClient longLine(m_server->port());
    QVERIFY(longLine.waitConnected());
    longLine.socket.write("GET /" + QByteArray(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    QVERIFY(longLine.waitClosed());
    QCOMPARE(longLine.status(), 414);
    QVERIFY(longLine.body().contains("\"code\":\"uri_too_long\""));
}

QTEST_GUILESS_MAIN(tst_ServerRest)
#include "tst_server_rest.moc"
