// `clipdeck-cli watch` as a user runs it: the real executable against a scripted HTTP server.

#include "scriptedhttpserver.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>

#ifdef Q_OS_UNIX
#include <csignal>
#endif

using testsupport::HttpScript;
using testsupport::ScriptedHttpServer;

namespace {

QString cliPath()
{
    QString dir = qEnvironmentVariable("CLIPDECK_BIN_DIR");
    if (dir.isEmpty())
        dir = QCoreApplication::applicationDirPath();
    return dir + QStringLiteral("/clipdeck-cli");
}

struct Result
{
    bool finished = false;
    int exitCode = -1;
    QList<QByteArray> lines; // stdout, one entry per line
    QByteArray out;
    QByteArray err;
};

// Runs the command while the event loop (and so the in-process server) keeps going.
Result runCli(const QStringList &arguments)
{
    Result result;
    QProcess process;
    process.start(cliPath(), QStringList{QStringLiteral("watch")} + arguments);
    if (!process.waitForStarted()) {
        qWarning("cannot start %s: %s", qPrintable(cliPath()), qPrintable(process.errorString()));
        return result;
    }
    QSignalSpy finished(&process, &QProcess::finished);
    result.finished = finished.wait(20000);
    if (!result.finished) {
        qWarning("clipdeck-cli did not finish; stdout so far: %s; stderr: %s",
                 process.readAllStandardOutput().constData(), process.readAllStandardError().constData());
        process.kill();
        process.waitForFinished();
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    result.lines = result.out.split('\n');
    if (!result.lines.isEmpty() && result.lines.last().isEmpty())
        result.lines.removeLast();
    return result;
}

QByteArray sseEvent(const QByteArray &data, const QByteArray &id = {}, const QByteArray &type = {})
{
    QByteArray out;
    if (!type.isEmpty())
        out += "event: " + type + '\n';
    if (!id.isEmpty())
        out += "id: " + id + '\n';
    return out + "data: " + data + "\n\n";
}

} // namespace

class tst_CliWatch : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void jsonlLifecycle();
    void commentsOnlyWhenAsked();
    void maxEvents();
    void fatalStatusExitsNonZero();
    void sendsMethodHeadersBodyAndLastEventId();
    void readTimeoutReconnects();
    void textOutput();
    void usage_data();
    void usage();
    void redirectToAnotherOriginDropsSecrets();
    void hugeResponseHeadIsFatal();
    void signalEndsWatch_data();
    void signalEndsWatch();
};

void tst_CliWatch::initTestCase()
{
    QVERIFY2(QFileInfo(cliPath()).isExecutable(), qPrintable(cliPath()));
}

void tst_CliWatch::jsonlLifecycle()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::chunkedStream()
                       .send(":hb\n" + sseEvent("{\"p\":1}", "7", "progress"))
                       .wait(20)
                       .send("data: two\ndata: \"lines\"\tand\\tab\n\n")
                       .end());
    server.enqueue(HttpScript::reply(204));
    const Result r = runCli({QStringLiteral("--jsonl"), QStringLiteral("--comments"), QStringLiteral("--retry"),
                             QStringLiteral("10"), server.url(QStringLiteral("/api/events")).toString()});
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 0);
    const QList<QByteArray> expected{
        R"({"type":"open"})",
        R"({"type":"comment","text":"hb"})",
        R"({"type":"event","event":"progress","id":"7","data":"{\"p\":1}"})",
        R"({"type":"event","event":"message","id":"7","data":"two\n\"lines\"\tand\\tab"})",
        R"({"type":"error","message":"the server ended the stream","status":0,"reconnecting":true})",
        R"({"type":"closed"})",
    };
    QCOMPARE(r.lines, expected);
    QCOMPARE(server.requests().size(), 2);
    QCOMPARE(server.requests().at(1).header("Last-Event-ID"), QByteArray("7"));
}

void tst_CliWatch::commentsOnlyWhenAsked()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::chunkedStream().send(":hb\n" + sseEvent("x")).end());
    server.enqueue(HttpScript::reply(204));
    const Result r =
        runCli({QStringLiteral("--jsonl"), QStringLiteral("--retry"), QStringLiteral("0"), server.url().toString()});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.lines.size(), 4); // open, event, error, closed
    QVERIFY(!r.out.contains("comment"));
}

void tst_CliWatch::maxEvents()
{
    ScriptedHttpServer server;
    HttpScript script = HttpScript::stream();
    for (int i = 1; i <= 5; ++i)
        script.send(sseEvent(QByteArray::number(i), QByteArray::number(i))).wait(10);
    server.enqueue(script); // then held open: only --max-events can end it
    const Result r = runCli(
        {QStringLiteral("--jsonl"), QStringLiteral("--max-events"), QStringLiteral("2"), server.url().toString()});
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.lines,
             (QList<QByteArray>{R"({"type":"open"})", R"({"type":"event","event":"message","id":"1","data":"1"})",
                                R"({"type":"event","event":"message","id":"2","data":"2"})", R"({"type":"closed"})"}));
    QCOMPARE(server.requests().size(), 1);
}

void tst_CliWatch::fatalStatusExitsNonZero()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(404, "no such job\n"));
    const Result r =
        runCli({QStringLiteral("--jsonl"), server.url(QStringLiteral("/api/jobs/nope/stream")).toString()});
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(r.lines,
             (QList<QByteArray>{R"({"type":"error","message":"HTTP 404 Not Found","status":404,"reconnecting":false})",
                                R"({"type":"closed"})"}));
    QVERIFY2(r.err.contains("404"), r.err.constData());

    // Text mode says it on stderr, with nothing on stdout.
    server.enqueue(HttpScript::reply(403));
    const Result text = runCli({server.url().toString()});
    QCOMPARE(text.exitCode, 1);
    QVERIFY(text.out.isEmpty());
    QVERIFY2(text.err.contains("clipdeck-cli watch: HTTP 403 Forbidden"), text.err.constData());
}

void tst_CliWatch::sendsMethodHeadersBodyAndLastEventId()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::reply(503));
    server.enqueue(HttpScript::reply(204));
    const Result r = runCli({QStringLiteral("--method"), QStringLiteral("POST"), QStringLiteral("--body"),
                             QStringLiteral("{\"jobs\":[\"j1\"]}"), QStringLiteral("--header"),
                             QStringLiteral("Authorization: Bearer abc"), QStringLiteral("--header"),
                             QStringLiteral("Content-Type:application/json"), QStringLiteral("--last-event-id"),
                             QStringLiteral("42"), QStringLiteral("--retry"), QStringLiteral("10"),
                             QStringLiteral("--jsonl"), server.url(QStringLiteral("/api/events")).toString()});
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(
        r.lines.first(),
        QByteArray(R"({"type":"error","message":"HTTP 503 Service Unavailable","status":503,"reconnecting":true})"));
    QCOMPARE(server.requests().size(), 2);
    for (const auto &req : server.requests()) {
        QCOMPARE(req.method, QByteArray("POST"));
        QCOMPARE(req.target, QByteArray("/api/events"));
        QCOMPARE(req.body, QByteArray("{\"jobs\":[\"j1\"]}"));
        QCOMPARE(req.header("Authorization"), QByteArray("Bearer abc"));
        QCOMPARE(req.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(req.header("Last-Event-ID"), QByteArray("42"));
        QCOMPARE(req.header("Accept"), QByteArray("text/event-stream"));
    }
}

void tst_CliWatch::readTimeoutReconnects()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::stream().send(sseEvent("a", "1"))); // then silence
    server.enqueue(HttpScript::reply(204));
    const Result r = runCli({QStringLiteral("--jsonl"), QStringLiteral("--read-timeout"), QStringLiteral("150"),
                             QStringLiteral("--retry"), QStringLiteral("10"), server.url().toString()});
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.lines.size(), 4);
    QCOMPARE(r.lines.at(2),
             QByteArray(R"({"type":"error","message":"no data received for 150 ms","status":0,"reconnecting":true})"));
    QCOMPARE(server.requests().at(1).header("Last-Event-ID"), QByteArray("1"));
}

void tst_CliWatch::textOutput()
{
    ScriptedHttpServer server;
    server.enqueue(HttpScript::chunkedStream()
                       .send(":hb\n" + sseEvent("{\"p\":1}", "7", "progress"))
                       .send("data: a\ndata: b\n\n")
                       .end());
    server.enqueue(HttpScript::reply(204));
    const Result r = runCli(
        {QStringLiteral("--comments"), QStringLiteral("--retry"), QStringLiteral("10"), server.url().toString()});
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.out, QByteArray(":hb\n"
                               "event: progress  id: 7\n"
                               "    {\"p\":1}\n"
                               "event: message  id: 7\n"
                               "    a\n"
                               "    b\n"));
    QVERIFY2(r.err.contains("* open http://127.0.0.1:"), r.err.constData());
    QVERIFY2(r.err.contains("! the server ended the stream; reconnecting in "), r.err.constData());
    QVERIFY2(r.err.endsWith("* closed\n"), r.err.constData());
}

void tst_CliWatch::usage_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QByteArray>("message");
    QTest::newRow("help") << QStringList{QStringLiteral("--help")} << 0
                          << QByteArray("Usage: clipdeck-cli watch [options] URL");
    QTest::newRow("no url") << QStringList{} << 2 << QByteArray("missing URL");
    QTest::newRow("two urls") << QStringList{QStringLiteral("http://a/"), QStringLiteral("http://b/")} << 2
                              << QByteArray("expected one URL");
    QTest::newRow("not http") << QStringList{QStringLiteral("ftp://a/")} << 2 << QByteArray("not an http or https URL");
    QTest::newRow("bad header") << QStringList{QStringLiteral("--header"), QStringLiteral("NoColon"),
                                               QStringLiteral("http://a/")}
                                << 2 << QByteArray("--header wants");
    QTest::newRow("bad max-events") << QStringList{QStringLiteral("--max-events"), QStringLiteral("0"),
                                                   QStringLiteral("http://a/")}
                                    << 2 << QByteArray("--max-events wants");
    QTest::newRow("bad retry") << QStringList{QStringLiteral("--retry"), QStringLiteral("soon"),
                                              QStringLiteral("http://a/")}
                               << 2 << QByteArray("--retry wants");
    QTest::newRow("unknown option") << QStringList{QStringLiteral("--follow"), QStringLiteral("http://a/")} << 2
                                    << QByteArray("Unknown option");
    QTest::newRow("bad sensitive-header")
        << QStringList{QStringLiteral("--sensitive-header"), QStringLiteral("X-Key: v"), QStringLiteral("http://a/")}
        << 2 << QByteArray("--sensitive-header wants a header name");
}

void tst_CliWatch::usage()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QByteArray, message);
    const Result r = runCli(arguments);
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, exitCode);
    const QByteArray &where = exitCode == 0 ? r.out : r.err;
    QVERIFY2(where.contains(message), where.constData());
}

// Issue #15: a Cookie given with --header used to follow a 301 to another host.
void tst_CliWatch::redirectToAnotherOriginDropsSecrets()
{
    ScriptedHttpServer first;
    ScriptedHttpServer other; // another port: another origin
    first.enqueue(HttpScript::redirect(301, other.url(QStringLiteral("/stream")).toEncoded()));
    other.enqueue(HttpScript::reply(204));
    const Result r =
        runCli({QStringLiteral("--header"), QStringLiteral("Cookie: clipdeck_token=secret"), QStringLiteral("--header"),
                QStringLiteral("Authorization: Bearer secret"), QStringLiteral("--header"),
                QStringLiteral("X-Api-Key: secret"), QStringLiteral("--header"), QStringLiteral("X-Client: watch"),
                QStringLiteral("--sensitive-header"), QStringLiteral("x-api-key"), QStringLiteral("--jsonl"),
                first.url().toString()});
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(first.requests().size(), 1);
    QCOMPARE(first.requests().at(0).header("Cookie"), QByteArray("clipdeck_token=secret"));
    QCOMPARE(first.requests().at(0).header("X-Api-Key"), QByteArray("secret"));
    QCOMPARE(other.requests().size(), 1);
    const auto &followed = other.requests().at(0);
    QVERIFY(!followed.hasHeader("Cookie"));
    QVERIFY(!followed.hasHeader("Authorization"));
    QVERIFY(!followed.hasHeader("X-Api-Key"));
    QCOMPARE(followed.header("X-Client"), QByteArray("watch"));
}

// Issue #15: a 50 MB head kept the client busy and growing, and 1-4 MB heads ended in "no content
// type". Now the head is refused once it passes 64 KiB, while the server is still sending it.
void tst_CliWatch::hugeResponseHeadIsFatal()
{
    ScriptedHttpServer server;
    HttpScript script = HttpScript::raw().send("HTTP/1.1 200 OK\r\n");
    const QByteArray field = "X-Filler: " + QByteArray(1000, 'f') + "\r\n";
    for (int i = 0; i < 3200; ++i) // 50 MB, 16 KB every 20 ms: longer than the hang guard
        script.send(QByteArray(field).repeated(16)).wait(20);
    server.enqueue(script.send("Content-Type: text/event-stream\r\n\r\n" + sseEvent("never")));
    const Result r = runCli({QStringLiteral("--jsonl"), server.url().toString()});
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(
        r.lines,
        (QList<QByteArray>{
            R"({"type":"error","message":"the response head is larger than the limit of 65536 bytes","status":0,"reconnecting":false})",
            R"({"type":"closed"})"}));
    QCOMPARE(server.requests().size(), 1);
}

void tst_CliWatch::signalEndsWatch_data()
{
    QTest::addColumn<int>("signal");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("server");
#ifdef Q_OS_UNIX
    for (const auto &[name, signal] : {std::pair{"SIGINT", SIGINT}, std::pair{"SIGTERM", SIGTERM}}) {
        const int code = 128 + signal;
        QTest::addRow("%s, idle stream", name) << signal << code << QStringLiteral("idle");
        QTest::addRow("%s, stream that never stops", name) << signal << code << QStringLiteral("firehose");
        QTest::addRow("%s, huge head sent slowly", name) << signal << code << QStringLiteral("slow head");
    }
#endif
}

// SIGINT and SIGTERM close the stream, print "closed" and exit 128 + the signal's number, whatever
// the server is doing. The waits below are hang guards only.
void tst_CliWatch::signalEndsWatch()
{
#ifndef Q_OS_UNIX
    QSKIP("signals are POSIX");
#else
    QFETCH(int, signal);
    QFETCH(int, exitCode);
    QFETCH(QString, server);
    ScriptedHttpServer http;
    if (server == u"idle") {
        http.enqueue(HttpScript::stream().send(sseEvent("x", "1"))); // then held open
    } else if (server == u"firehose") {
        HttpScript script = HttpScript::stream();
        for (int i = 0; i < 20000; ++i)
            script.send(sseEvent(QByteArray(200, 'e'), QByteArray::number(i)).repeated(8)).wait(1);
        http.enqueue(script);
    } else {
        HttpScript script = HttpScript::raw().send("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 4000; ++i) // under the head limit for the first minute
            script.send("X-Slow: " + QByteArray(8, 's') + "\r\n").wait(15);
        http.enqueue(script);
    }
    QProcess process;
    process.start(cliPath(), {QStringLiteral("watch"), QStringLiteral("--jsonl"), http.url().toString()});
    QVERIFY(process.waitForStarted());
    QByteArray out;
    connect(&process, &QProcess::readyReadStandardOutput, this, [&] { out += process.readAllStandardOutput(); });
    if (server == u"slow head") {
        QTRY_COMPARE(http.requests().size(), 1);
        QTest::qWait(100); // some of the head is in
        QVERIFY(out.isEmpty());
    } else {
        QTRY_VERIFY(out.contains("\"event\""));
    }
    QSignalSpy finished(&process, &QProcess::finished);
    ::kill(pid_t(process.processId()), signal);
    QVERIFY(finished.wait(20000));
    out += process.readAllStandardOutput();
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), exitCode);
    QVERIFY2(out.endsWith("{\"type\":\"closed\"}\n"), out.right(200).constData());
    QVERIFY2(!out.contains("\"error\""), out.right(400).constData());
    QTRY_COMPARE(http.openConnectionCount(), 0);
#endif
}

QTEST_GUILESS_MAIN(tst_CliWatch)
#include "tst_cli_watch.moc"
