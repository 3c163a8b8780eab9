// Drives the real `clipdeck` desktop executable end to end, offscreen: a thumbnails job on a
// generated clip submitted from the command line, the window grabbed when it has finished, the
// app quitting by itself. Checks the exit code, that QML printed no warnings, that the screenshot
// is a real picture of the window, and that the job really ran (the engine's database and the
// contact sheet on disk). The screenshot is kept in the build tree: desktop-app-screenshot.png.

#include "mediafixtures.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
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

    struct Run
    {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
    };

    static Run run(const QStringList &args, const QProcessEnvironment &env, int timeoutMs = 180000)
    {
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(app(), args);
        Run r;
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished();
        }
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError();
        return r;
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

    // Lines a QML engine prints for warnings and errors: "qrc:/...qml:12:5: ...", "file:...qml:..."
    // or "QML Foo: ...", "qml: ...".
    static QStringList qmlWarnings(const QByteArray &err)
    {
        QStringList found;
        static const QRegularExpression qml(QStringLiteral("qml"), QRegularExpression::CaseInsensitiveOption);
        for (const QByteArray &line : err.split('\n')) {
            const QString text = QString::fromUtf8(line);
            if (text.contains(qml))
                found.append(text);
        }
        return found;
    }

private slots:
    void initTestCase()
    {
        QVERIFY2(QFileInfo(app()).isExecutable(), qPrintable(app()));
    }

    void help()
    {
        QTemporaryDir home;
        const Run r = run({QStringLiteral("--help")}, offscreen(home.path()), 30000);
        QCOMPARE(r.exitCode, 0);
        for (const char *option : {"--submit", "--screenshot", "--quit-when-idle", "--data-dir"})
            QVERIFY2(r.out.contains(option), option);
    }

    void thumbnailsJobEndToEnd()
    {
        const QString clip = fixtures::basicClip(4.0);
        QVERIFY(!clip.isEmpty());
        QTemporaryDir home;
        QVERIFY(home.isValid());
        const QString dataDir = home.path() + QStringLiteral("/clipdeck-data");
        const QString shot = QDir(QStringLiteral(CLIPDECK_TEST_OUTPUT_DIR)).filePath(QStringLiteral("desktop-app-screenshot.png"));
        QFile::remove(shot);

        const Run r = run({QStringLiteral("--data-dir"), dataDir,
                           QStringLiteral("--submit"), QStringLiteral("thumbnails=") + clip,
                           QStringLiteral("--screenshot"), shot, QStringLiteral("--quit-when-idle")},
                          offscreen(home.path()));
        const QString diagnostics = QStringLiteral("stdout:\n%1\nstderr:\n%2")
                                        .arg(QString::fromUtf8(r.out), QString::fromUtf8(r.err));
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
        QVERIFY2(colours.size() >= 8, qPrintable(QStringLiteral("only %1 colours: a blank window?").arg(colours.size())));

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
        QVERIFY2(std::any_of(outputs.cbegin(), outputs.cend(), [](const QString &n) {
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
        const Run r = run({QStringLiteral("--data-dir"), home.path() + QStringLiteral("/d"),
                           QStringLiteral("--submit"), QStringLiteral("scenes=") + notMedia,
                           QStringLiteral("--quit-when-idle")},
                          offscreen(home.path()));
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.out.contains(" scenes failed"), r.out.constData());
        QVERIFY2(qmlWarnings(r.err).isEmpty(), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestDesktopApp)

#include "tst_desktop_app.moc"
