// Drives the real `clipdeck` desktop executable end to end, offscreen: a thumbnails job on a
// generated clip submitted from the command line, the window grabbed when it has finished, the
// app quitting by itself. Checks the exit code, that QML printed no warnings, that the screenshot
// is a real picture of the window, and that the job really ran (the engine's database and the
// contact sheet on disk). The screenshot is kept in the build tree: desktop-app-screenshot.png.
// The same through a real clipdeck-server (serverfixture.h): `--server URL=TOKEN` and
// `--submit KIND=FILE,on=URL` upload the clip and run the job there; with a wrong token the app
// gives up at once and says why.

#include "mediafixtures.h"
#include "processrunner.h"
#include "serverfixture.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QJsonArray>
#include <QSettings>
#include <QImage>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

class TestDesktopApp : public QObject
{
    Q_OBJECT

private:
    static QString app() { return qEnvironmentVariable("CLIPDECK_BIN_DIR") + QStringLiteral("/clipdeck"); }

    using Run = fixtures::ProcessRun;

    static Run run(const QStringList &args, const QProcessEnvironment &env, int timeoutMs = 180000)
    {
        return fixtures::runProcess(app(), args, timeoutMs, env);
    }

    static QProcessEnvironment offscreen(const QString &home)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        // Nothing of the user's: settings, data and caches in the test's folder.
        env.insert(QStringLiteral("HOME"), home);
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/config"));
        env.insert(QStringLiteral("XDG_DATA_HOME"), home + QStringLiteral("/data"));
        env.insert(QStringLiteral("XDG_CACHE_HOME"), home + QStringLiteral("/cache"));
        env.remove(QStringLiteral("QT_QUICK_CONTROLS_STYLE"));
        return env;
    }

    // Lines a QML engine prints for warnings and errors: "qrc:/...qml:12:5: ...", "file:...qml:...",
    // "QML Foo: ...", "qml: ..." (console.log), "QQmlApplicationEngine failed to load component",
    // a qt.qml.* logging category. (Not any line that says "qml": a path can, e.g. the test
    // media's under a build folder named so.)
    static QStringList qmlWarnings(const QByteArray &err)
    {
        QStringList found;
        static const QRegularExpression qml(QStringLiteral(R"(\.qml:\d|\bQML\b|^qml: |QQml|qt\.qml)"));
        for (const QByteArray &line : err.split('\n')) {
            const QString text = QString::fromUtf8(line);
            if (text.contains(qml))
                found.append(text);
        }
        return found;
    }

private slots:
    void initTestCase() { QVERIFY2(QFileInfo(app()).isExecutable(), qPrintable(app())); }

    void help()
    {
        QTemporaryDir home;
        const Run r = run({QStringLiteral("--help")}, offscreen(home.path()), 30000);
        QCOMPARE(r.exitCode, 0);
        for (const char *option : {"--submit", "--screenshot", "--quit-when-idle", "--data-dir", "--server", "on=URL"})
            QVERIFY2(r.out.contains(option), option);
    }

    void thumbnailsJobEndToEnd()
    {
        const QString clip = fixtures::basicClip(4.0);
        QVERIFY(!clip.isEmpty());
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QString dataDir = home.path() + QStringLiteral("/clipdeck-data");
        const QString shot =
            QDir(QStringLiteral(CLIPDECK_TEST_OUTPUT_DIR)).filePath(QStringLiteral("desktop-app-screenshot.png"));
        QFile::remove(shot);

        const Run r = run({QStringLiteral("--data-dir"), dataDir, QStringLiteral("--submit"),
                           QStringLiteral("thumbnails=") + clip, QStringLiteral("--screenshot"), shot,
                           QStringLiteral("--quit-when-idle")},
                          offscreen(home.path()));
        const QString diagnostics =
            QStringLiteral("stdout:\n%1\nstderr:\n%2").arg(QString::fromUtf8(r.out), QString::fromUtf8(r.err));
        QVERIFY2(r.exitCode == 0, qPrintable(diagnostics));
        const QStringList warnings = qmlWarnings(r.err);
        QVERIFY2(warnings.isEmpty(), qPrintable(warnings.join(u'\n')));
        QVERIFY2(r.out.contains(" thumbnails complete"), qPrintable(diagnostics));

        // The screenshot: a window-sized picture with something on it.
        const QImage image(shot);
        QVERIFY2(!image.isNull(), qPrintable(shot));
        QVERIFY2(image.width() >= 640 && image.height() >= 400 && image.width() <= 4000 && image.height() <= 3000,
                 qPrintable(QStringLiteral("%1x%2").arg(image.width()).arg(image.height())));
        QSet<QRgb> colours;
        const QImage small = image.scaled(160, 100, Qt::IgnoreAspectRatio, Qt::FastTransformation);
        for (int y = 0; y < small.height(); ++y)
            for (int x = 0; x < small.width(); ++x)
                colours.insert(small.pixel(x, y));
        QVERIFY2(colours.size() >= 8,
                 qPrintable(QStringLiteral("only %1 colours: a blank window?").arg(colours.size())));

        // The job ran on the engine in --data-dir: its database says complete, the outputs exist.
        const QString db = dataDir + QStringLiteral("/jobs.sqlite");
        QVERIFY2(QFileInfo::exists(db), qPrintable(db));
        {
            QSqlDatabase sql = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("check"));
            sql.setDatabaseName(db);
            QVERIFY(sql.open());
            QSqlQuery q(sql);
            QVERIFY(q.exec(QStringLiteral("SELECT name FROM sqlite_master WHERE type='table'")));
            QStringList tables;
            while (q.next())
                tables.append(q.value(0).toString());
            QVERIFY2(!tables.isEmpty(), "the engine's database has no tables");
        }
        QSqlDatabase::removeDatabase(QStringLiteral("check"));

        QStringList outputs;
        QDirIterator it(dataDir + QStringLiteral("/outputs"), QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext())
            outputs.append(QFileInfo(it.next()).fileName());
        QVERIFY2(!outputs.isEmpty(), "no output files");
        QVERIFY2(std::any_of(outputs.cbegin(), outputs.cend(),
                             [](const QString &n) {
                                 return n.endsWith(QLatin1String(".jpg")) || n.endsWith(QLatin1String(".png"))
                                        || n.endsWith(QLatin1String(".webp"));
                             }),
                 qPrintable(outputs.join(u' ')));

        // Settings went to the data dir too, not to the user's configuration.
        QVERIFY(!QFileInfo::exists(home.path() + QStringLiteral("/config/Clipdeck/clipdeck.conf")));
    }

    void failingJobExitsNonZero()
    {
        QTemporaryDir home;
        const QString notMedia = fixtures::textFileNamedMp4();
        QVERIFY(!notMedia.isEmpty());
        const Run r = run({QStringLiteral("--data-dir"), home.path() + QStringLiteral("/d"), QStringLiteral("--submit"),
                           QStringLiteral("scenes=") + notMedia, QStringLiteral("--quit-when-idle")},
                          offscreen(home.path()));
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.out.contains(" scenes failed"), r.out.constData());
        QVERIFY2(qmlWarnings(r.err).isEmpty(), r.err.constData());
    }

    // A thumbnails job on a real server, submitted from the command line: the clip is uploaded,
    // the server runs the job, the app sees it complete over the event stream and exits 0.
    void remoteThumbnailsJobEndToEnd()
    {
        const QString clip = fixtures::basicClip(4.0);
        QVERIFY(!clip.isEmpty());
        QTemporaryDir home;
        QVERIFY(home.isValid());
        serverfixture::ServerProcess server(home.path() + QStringLiteral("/server"));
        QVERIFY(server.start());
        const QString base = QStringLiteral("http://127.0.0.1:%1").arg(server.port());
        const QString dataDir = home.path() + QStringLiteral("/clipdeck-data");
        const QString shot = QDir(QStringLiteral(CLIPDECK_TEST_OUTPUT_DIR))
                                 .filePath(QStringLiteral("desktop-app-remote-screenshot.png"));
        QFile::remove(shot);

        const Run r = run({QStringLiteral("--data-dir"), dataDir, QStringLiteral("--server"),
                           base + u'=' + QString::fromLatin1(serverfixture::alice.token), QStringLiteral("--submit"),
                           QStringLiteral("thumbnails=%1,on=%2").arg(clip, base), QStringLiteral("--screenshot"), shot,
                           QStringLiteral("--quit-when-idle")},
                          offscreen(home.path()));
        const QString diagnostics =
            QStringLiteral("stdout:\n%1\nstderr:\n%2").arg(QString::fromUtf8(r.out), QString::fromUtf8(r.err));
        QVERIFY2(r.exitCode == 0, qPrintable(diagnostics));
        const QStringList warnings = qmlWarnings(r.err);
        QVERIFY2(warnings.isEmpty(), qPrintable(warnings.join(u'\n')));
        QVERIFY2(!QImage(shot).isNull(), qPrintable(shot));

        // The app reports the server's job (its id, not the upload's) as complete ...
        static const QRegularExpression done(QStringLiteral("clipdeck: job (\\S+) thumbnails complete"));
        const auto m = done.match(QString::fromUtf8(r.out));
        QVERIFY2(m.hasMatch(), qPrintable(diagnostics));
        const QString jobId = m.captured(1);
        QVERIFY2(!jobId.startsWith(QLatin1String("upload:")), qPrintable(jobId));

        // ... and the server says the same: the user's one job, complete, with outputs.
        serverfixture::Http http;
        const serverfixture::Reply list = http.get(server.url(QStringLiteral("/api/jobs")), serverfixture::alice.token);
        QCOMPARE(list.status, 200);
        const QJsonArray jobs = list.json().value(QStringLiteral("jobs")).toArray();
        QCOMPARE(jobs.size(), 1);
        const auto job = clipdeck::jobs::decodeJob(QJsonDocument(jobs.first().toObject()).toJson()).job;
        QVERIFY2(job, list.body.constData());
        QCOMPARE(job->id, jobId);
        QCOMPARE(job->kind, QStringLiteral("thumbnails"));
        QCOMPARE(job->status, clipdeck::jobs::Status::Complete);
        QVERIFY(!job->outputs.isEmpty());

        // --server is for the run only: nothing of it in the settings.
        QSettings settings(dataDir + QStringLiteral("/clipdeck.ini"), QSettings::IniFormat);
        QVERIFY2(!settings.allKeys().join(u' ').contains(QLatin1String("servers")),
                 qPrintable(settings.allKeys().join(u' ')));
    }

    // A token the server does not know: the upload is refused, the app exits 1 and says so on
    // stderr, and the server has no job.
    void remoteWrongTokenExitsNonZero()
    {
        const QString clip = fixtures::basicClip(4.0);
        QVERIFY(!clip.isEmpty());
        QTemporaryDir home;
        serverfixture::ServerProcess server(home.path() + QStringLiteral("/server"));
        QVERIFY(server.start());
        const QString base = QStringLiteral("http://127.0.0.1:%1").arg(server.port());

        const Run r = run({QStringLiteral("--data-dir"), home.path() + QStringLiteral("/d"), QStringLiteral("--server"),
                           base + QStringLiteral("=not-a-token-anyone-has"), QStringLiteral("--submit"),
                           QStringLiteral("thumbnails=%1,on=%2").arg(clip, base), QStringLiteral("--quit-when-idle")},
                          offscreen(home.path()), serverfixture::WaitMs);
        const QString diagnostics =
            QStringLiteral("stdout:\n%1\nstderr:\n%2").arg(QString::fromUtf8(r.out), QString::fromUtf8(r.err));
        QVERIFY2(r.exitCode == 1, qPrintable(diagnostics));
        QVERIFY2(r.out.contains(" thumbnails failed"), qPrintable(diagnostics));
        // Why, for the person reading the log: the server refused the token.
        QVERIFY2(r.err.contains("refused the access token"), qPrintable(diagnostics));
        QVERIFY2(qmlWarnings(r.err).isEmpty(), qPrintable(diagnostics));

        serverfixture::Http http;
        const serverfixture::Reply list = http.get(server.url(QStringLiteral("/api/jobs")), serverfixture::alice.token);
        QCOMPARE(list.status, 200);
        QVERIFY(list.json().value(QStringLiteral("jobs")).toArray().isEmpty());
    }

    // A job for a server the run does not know is refused before anything starts.
    void submitToUnknownServerExitsNonZero()
    {
        const QString clip = fixtures::basicClip(4.0);
        QTemporaryDir home;
        const Run r =
            run({QStringLiteral("--data-dir"), home.path() + QStringLiteral("/d"), QStringLiteral("--submit"),
                 QStringLiteral("thumbnails=%1,on=http://127.0.0.1:9").arg(clip), QStringLiteral("--quit-when-idle")},
                offscreen(home.path()), serverfixture::WaitMs);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("no server http://127.0.0.1:9 is configured"), r.err.constData());
        QVERIFY2(qmlWarnings(r.err).isEmpty(), r.err.constData());
    }

    // CLIPDECK_REPORT_STARTUP=1: one "first-frame-ms N" line on stderr (the start-up benchmark).
    // The app runs until the line is there (a deadline only for failure), then is stopped.
    void reportsStartup()
    {
        QTemporaryDir home;
        QProcessEnvironment env = offscreen(home.path());
        env.insert(QStringLiteral("CLIPDECK_REPORT_STARTUP"), QStringLiteral("1"));
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(app(), {QStringLiteral("--data-dir"), home.path() + QStringLiteral("/d")});
        QVERIFY(p.waitForStarted());
        QByteArray err;
        static const QRegularExpression line(QStringLiteral("(?m)^first-frame-ms (\\d+)$"));
        const bool reported = QTest::qWaitFor(
            [&] {
                err += p.readAllStandardError();
                return line.match(QString::fromUtf8(err)).hasMatch() || p.state() == QProcess::NotRunning;
            },
            serverfixture::WaitMs);
        p.terminate();
        if (!p.waitForFinished(10000))
            p.kill();
        p.waitForFinished();
        err += p.readAllStandardError();
        QVERIFY2(reported, err.constData());
        int count = 0;
        for (auto it = line.globalMatch(QString::fromUtf8(err)); it.hasNext(); it.next())
            ++count;
        QVERIFY2(count == 1, err.constData());
        QVERIFY(line.match(QString::fromUtf8(err)).captured(1).toLongLong() > 0);
        QVERIFY2(qmlWarnings(err).isEmpty(), err.constData());
    }
};

QTEST_GUILESS_MAIN(TestDesktopApp)

#include "tst_desktop_app.moc"
