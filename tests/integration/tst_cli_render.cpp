// Drives the real clipdeck-cli executable: `render` on generated media (progress, outputs, exit
// codes, --events in SSE wire format, Ctrl-C) and `probe`.

#include "mediafixtures.h"
#include "processrunner.h"

#include "jobs/jobjson.h"
#include "jobs/jobstream.h"
#include "sse/parser.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

#include <sys/stat.h>
#include <unistd.h>

using namespace clipdeck;

class TestCliRender : public QObject
{
    Q_OBJECT

private:
    using Run = fixtures::ProcessRun;

    static QString cli() { return qEnvironmentVariable("CLIPDECK_BIN_DIR") + QStringLiteral("/clipdeck-cli"); }

    static Run run(const QStringList &args, int timeoutMs = 120000)
    {
        return fixtures::runProcess(cli(), args, timeoutMs);
    }

    static QStringList visibleFiles(const QString &dir)
    {
        return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
    }

    QTemporaryDir m_special;

private slots:
    void initTestCase()
    {
        QVERIFY2(QFileInfo(cli()).isExecutable(), qPrintable(cli()));
        QVERIFY(!fixtures::basicClip(4.0).isEmpty());
    }

    void renderThumbnailsWritesOutputs()
    {
        QTemporaryDir out;
        const Run r = run({QStringLiteral("render"), QStringLiteral("thumbnails"), fixtures::basicClip(4.0),
                           QStringLiteral("--output"), out.path(), QStringLiteral("--param"), QStringLiteral("count=4"),
                           QStringLiteral("--param"), QStringLiteral("columns=2")});
        QCOMPARE(r.exitCode, 0);
        const QStringList files = visibleFiles(out.path());
        QCOMPARE(files.filter(QStringLiteral(".thumb-")).size(), 4);
        QVERIFY(files.contains(QStringLiteral("basic-4s.contact.jpg")));
        QVERIFY(files.contains(QStringLiteral("basic-4s.poster.jpg")));
        QVERIFY2(files.filter(QStringLiteral("partial")).isEmpty(), qPrintable(files.join(u' ')));
        // Not a terminal: plain progress lines, then one line per output.
        QVERIFY(r.out.contains("complete"));
        QVERIFY(r.out.contains("contact_sheet: " + QFile::encodeName(out.path())));
    }

    // --events is the job's stream exactly as the server sends it: the preamble, then one
    // event per snapshot, ids = seq, ending with one terminal event. Re-encoding each decoded
    // snapshot with the shared encoder gives back the same bytes.
    void eventsAreTheServerWireFormat()
    {
        QTemporaryDir out;
        const Run r = run({QStringLiteral("render"), QStringLiteral("transcode"), fixtures::basicClip(4.0),
                           QStringLiteral("--output"), out.path(), QStringLiteral("--events"), QStringLiteral("--in"),
                           QStringLiteral("1"), QStringLiteral("--out"), QStringLiteral("3")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.startsWith(jobs::streamPreamble()));

        QList<sse::Event> events;
        int retry = -1;
        sse::Parser parser({[&](const sse::Event &e) { events.append(e); }, {}, [&](int ms) { retry = ms; }});
        QVERIFY(parser.feed(r.out));
        QCOMPARE(retry, jobs::DefaultRetryMs);
        QVERIFY(events.size() >= 3);

        QByteArray reencoded = jobs::streamPreamble();
        qint64 expectedSeq = 1;
        int terminal = 0;
        QString id;
        for (const auto &e : events) {
            QCOMPARE(e.type, QStringLiteral("message"));
            const auto decoded = jobs::decodeJob(e.data.toUtf8());
            QVERIFY2(decoded.job, qPrintable(decoded.error));
            const jobs::Job &job = *decoded.job;
            if (id.isEmpty())
                id = job.id;
            QCOMPARE(job.id, id);
            QCOMPARE(job.seq, expectedSeq++);
            QCOMPARE(e.lastEventId, QString::number(job.seq));
            terminal += job.isTerminal() ? 1 : 0;
            reencoded += jobs::jobEvent(job);
        }
        QCOMPARE(terminal, 1);
        const auto last = jobs::decodeJob(events.last().data.toUtf8()).job;
        QCOMPARE(last->status, jobs::Status::Complete);
        QCOMPARE(last->progress, 100.0);
        QCOMPARE(last->outputs.size(), 1);
        QVERIFY(QFileInfo::exists(last->outputs.first().path));
        QCOMPARE(reencoded, r.out);
        // The progress went to stderr, leaving stdout to the stream.
        QVERIFY(r.err.contains("complete"));
    }

    void brokenInputFailsWithItsCode_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QByteArray>("code");
        QTest::newRow("missing") << QStringLiteral("/nonexistent/clip.mp4") << QByteArray("file_not_found");
        QTest::newRow("text") << fixtures::textFileNamedMp4() << QByteArray("not_media");
        QTest::newRow("empty") << fixtures::zeroByteFile() << QByteArray("empty_file");
    }

    void brokenInputFailsWithItsCode()
    {
        QFETCH(QString, input);
        QFETCH(QByteArray, code);
        QTemporaryDir out;
        const Run r =
            run({QStringLiteral("render"), QStringLiteral("transcode"), input, QStringLiteral("--output"), out.path()});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("(" + code + ")"), r.err.constData());
        QVERIFY(visibleFiles(out.path()).isEmpty());
    }

    // What the input is, told apart before FFmpeg opens it: a FIFO must not block the CLI, nor
    // /dev/zero keep it reading. The unreadable file: root (as tests run here and in CI) reads
    // any file, so the CLI runs without the capabilities that allow that (setpriv), as a user
    // would.
    void specialInputsFailWithTheirCode_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QByteArray>("code");
        QTest::addColumn<bool>("unprivileged");
        QVERIFY(m_special.isValid());
        const QString fifo = m_special.filePath(QStringLiteral("pipe.mp4"));
        QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0644), 0);
        const QString folder = m_special.filePath(QStringLiteral("folder.mp4"));
        QVERIFY(QDir().mkpath(folder));
        const QString locked = m_special.filePath(QStringLiteral("locked.mp4"));
        QVERIFY(QFile::copy(fixtures::basicClip(4.0), locked));
        QVERIFY(QFile::setPermissions(locked, {}));
        QTest::newRow("folder") << folder << QByteArray("is_directory") << false;
        QTest::newRow("fifo") << fifo << QByteArray("is_pipe") << false;
        QTest::newRow("/dev/zero") << QStringLiteral("/dev/zero") << QByteArray("is_device") << false;
        QTest::newRow("unreadable") << locked << QByteArray("permission_denied") << true;
    }

    void specialInputsFailWithTheirCode()
    {
        QFETCH(QString, input);
        QFETCH(QByteArray, code);
        QFETCH(bool, unprivileged);
        QTemporaryDir out;
        QStringList args{QStringLiteral("render"), QStringLiteral("thumbnails"), input, QStringLiteral("--output"),
                         out.path()};
        Run r;
        if (unprivileged && ::geteuid() == 0) {
            const QString setpriv = QStandardPaths::findExecutable(QStringLiteral("setpriv"));
            QVERIFY2(!setpriv.isEmpty(), "setpriv (util-linux) is needed to run the CLI without root's file access");
            r = fixtures::runProcess(
                setpriv,
                QStringList{QStringLiteral("--bounding-set"), QStringLiteral("-dac_override,-dac_read_search"), cli()}
                    + args,
                120000);
        } else {
            r = run(args);
        }
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("(" + code + ")"), r.err.constData());
        QVERIFY2(r.err.contains(QFile::encodeName(input)), r.err.constData());
        QVERIFY(visibleFiles(out.path()).isEmpty());
    }

    // Media over the limits: the code, and a sentence naming the option; the option moves it.
    void limitsAndTheirOptions()
    {
        QTemporaryDir out;
        const QString many = fixtures::manyStreamsClip(500);
        Run r =
            run({QStringLiteral("render"), QStringLiteral("waveform"), many, QStringLiteral("--output"), out.path()});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("(too_many_streams)") && r.err.contains("--max-media-streams"), r.err.constData());
        r = run({QStringLiteral("render"), QStringLiteral("waveform"), many, QStringLiteral("--output"), out.path(),
                 QStringLiteral("--max-media-streams"), QStringLiteral("500")});
        QCOMPARE(r.exitCode, 0);

        const QString huge = fixtures::hugePictureClip();
        r = run({QStringLiteral("render"), QStringLiteral("thumbnails"), huge, QStringLiteral("--output"), out.path()});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("(media_too_large)") && r.err.contains("--max-frame-pixels"), r.err.constData());
        const Run probed = run({QStringLiteral("probe"), huge});
        QCOMPARE(probed.exitCode, 1);
        QVERIFY2(probed.err.contains("(media_too_large)"), probed.err.constData());

        r = run({QStringLiteral("render"), QStringLiteral("transcode"), fixtures::basicClip(4.0),
                 QStringLiteral("--output"), out.path(), QStringLiteral("--max-job-memory"), QStringLiteral("4MiB"),
                 QStringLiteral("--param"), QStringLiteral("width=1920")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("(media_too_large)") && r.err.contains("--max-job-memory"), r.err.constData());
        // Bad option values are usage errors.
        QCOMPARE(run({QStringLiteral("render"), QStringLiteral("probe"), many, QStringLiteral("--max-frame-pixels"),
                      QStringLiteral("huge")})
                     .exitCode,
                 2);
    }

    // --param values are typed as in JSON, by the rule the engine's operations check: a number
    // as text or a flag as a number is refused, naming the parameter; a key given twice too.
    void paramsAreTyped()
    {
        QTemporaryDir out;
        const QString clip = fixtures::basicClip(4.0);
        auto render = [&](const QStringList &params) {
            QStringList args{QStringLiteral("render"), QStringLiteral("thumbnails"), clip, QStringLiteral("--output"),
                             out.path()};
            for (const QString &p : params)
                args << QStringLiteral("--param") << p;
            return run(args);
        };
        Run r = render({QStringLiteral("count=\"8\"")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("'count'") && r.err.contains("(invalid_params)"), r.err.constData());
        r = render({QStringLiteral("count=true")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("'count'"), r.err.constData());
        r = render({QStringLiteral("sheet=no")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("'sheet'"), r.err.constData());
        r = render({QStringLiteral("count=2"), QStringLiteral("count=8")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("'count' is given twice"), r.err.constData());
        QVERIFY(visibleFiles(out.path()).isEmpty());
        r = render({QStringLiteral("count=2"), QStringLiteral("sheet=false"), QStringLiteral("format=\"png\"")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(visibleFiles(out.path()).filter(QStringLiteral(".thumb-")).size(), 2);
        QVERIFY(visibleFiles(out.path()).filter(QStringLiteral("contact")).isEmpty());
    }

    void usageErrorsExitTwo()
    {
        QCOMPARE(run({QStringLiteral("render"), QStringLiteral("juggle"), fixtures::basicClip(4.0)}).exitCode, 2);
        const Run badPreset = run({QStringLiteral("render"), QStringLiteral("transcode"), fixtures::basicClip(4.0),
                                   QStringLiteral("--preset"), QStringLiteral("no-such-preset")});
        QCOMPARE(badPreset.exitCode, 2);
        QVERIFY(badPreset.err.contains("unknown_preset"));
        QCOMPARE(run({QStringLiteral("render"), QStringLiteral("transcode")}).exitCode, 2);
        QCOMPARE(run({QStringLiteral("render"), QStringLiteral("thumbnails"), fixtures::basicClip(4.0),
                      QStringLiteral("--param"), QStringLiteral("novalue")})
                     .exitCode,
                 2);
    }

    // Ctrl-C cancels the job: the operation removes its partial output, the exit code says so.
    void interruptCancelsAndCleansUp()
    {
        QTemporaryDir out;
        QProcess p;
        p.start(cli(), {QStringLiteral("render"), QStringLiteral("transcode"), fixtures::basicClip(30.0),
                        QStringLiteral("--output"), out.path(), QStringLiteral("--preset"), QStringLiteral("hevc")});
        QVERIFY(p.waitForStarted());
        // Wait until the encode has really started writing (a partial file exists).
        QTRY_VERIFY_WITH_TIMEOUT(!visibleFiles(out.path()).filter(QStringLiteral("partial")).isEmpty(), 60000);
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 130);
        QVERIFY(p.readAllStandardError().contains("canceled"));
        QCOMPARE(visibleFiles(out.path()), QStringList());
    }

    void probePrintsStreams()
    {
        const Run text = run({QStringLiteral("probe"), fixtures::basicClip(4.0)});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains("video  h264"));
        QVERIFY(text.out.contains("640×360"));
        QVERIFY(text.out.contains("audio  aac"));

        const Run json = run({QStringLiteral("probe"), fixtures::basicClip(4.0), QStringLiteral("--json")});
        QCOMPARE(json.exitCode, 0);
        QJsonParseError error;
        const QJsonObject o = QJsonDocument::fromJson(json.out, &error).object();
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(o.value(QStringLiteral("streams")).toArray().size(), 2);

        const Run broken = run({QStringLiteral("probe"), fixtures::randomBytesFile()});
        QCOMPARE(broken.exitCode, 1);
        QVERIFY(broken.err.contains("not_media"));
    }
};

QTEST_GUILESS_MAIN(TestCliRender)
#include "tst_cli_render.moc"
