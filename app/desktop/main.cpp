// clipdeck: the desktop app. A QApplication (QSystemTrayIcon needs QtWidgets) running the QML
// module Clipdeck (qml/) over the controllers in this folder (QML module Clipdeck.App). It starts
// on the local engine with nothing to set up; servers are added in Settings. main() is the list of
// steps, each a named function above it.

#include "appcontroller.h"
#include "desktopintegration.h"
#include "scriptedrun.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QPalette>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QTextStream>
#include <QtQml/qqmlextensionplugin.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

Q_IMPORT_QML_PLUGIN(ClipdeckPlugin)        // qml/: the views
Q_IMPORT_QML_PLUGIN(Clipdeck_ClientPlugin) // lib/client: JobModel, JobFilterModel, JobSource
Q_IMPORT_QML_PLUGIN(Clipdeck_AppPlugin)    // app/desktop: AppController, JobLauncher, ServerSettings

using namespace clipdeck;

namespace {

// A dark palette for CLIPDECK_COLOR_SCHEME=dark: for desktops whose platform theme does not hand
// Qt a dark palette, and to check the views in dark without one. The desktop's own palette (KDE,
// qt6ct, GNOME's dark style through its platform theme) is used otherwise; Fusion follows it.
QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x31), base(0x1e, 0x1f, 0x22), text(0xe6, 0xe6, 0xe6);
    const QColor button(0x36, 0x38, 0x3d), highlight(0x3d, 0x8b, 0xe0), disabled(0x80, 0x80, 0x80);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x26, 0x27, 0x2b));
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, button);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    p.setColor(QPalette::Light, QColor(0x4a, 0x4c, 0x52));
    p.setColor(QPalette::Midlight, QColor(0x3e, 0x40, 0x45));
    p.setColor(QPalette::Mid, QColor(0x55, 0x57, 0x5d));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, Qt::black);
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x7c, 0xb8, 0xff));
    p.setColor(QPalette::LinkVisited, QColor(0xb3, 0x9d, 0xdb));
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

// Milliseconds since this process started, for CLIPDECK_REPORT_STARTUP (the start-up benchmark):
// the kernel's start time, so the dynamic loader, static initialisers and everything before
// main() count too. /proc/self/stat field 22 (starttime) is in clock ticks since boot
// (sysconf(_SC_CLK_TCK), 100 per second on Linux), measured on the clock CLOCK_BOOTTIME reads:
// the resolution is one tick, 10 ms. -1 where there is no /proc.
qint64 msSinceProcessStart()
{
    char buffer[1024];
    const int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    if (n <= 0)
        return -1;
    buffer[n] = '\0';
    // Field 2, the command name in parentheses, may hold spaces: count from its closing ')'.
    const char *p = std::strrchr(buffer, ')');
    if (!p)
        return -1;
    unsigned long long startTicks = 0;
    // After ')': field 3 (state) ... field 22 (starttime) is the 20th.
    if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                    &startTicks)
        != 1)
        return -1;
    const long ticksPerSecond = ::sysconf(_SC_CLK_TCK);
    timespec now{};
    if (ticksPerSecond <= 0 || ::clock_gettime(CLOCK_BOOTTIME, &now) != 0)
        return -1;
    const qint64 nowMs = qint64(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
    return nowMs - qint64(startTicks * 1000 / (unsigned long long)ticksPerSecond);
}

// With CLIPDECK_REPORT_STARTUP=1: "first-frame-ms <N>" on stderr when the window's first frame
// is on screen (frameSwapped, once). The signal comes from the render thread with the threaded
// render loop, hence a direct connection and an atomic flag.
void reportStartupOnFirstFrame(QQuickWindow *window)
{
    if (qEnvironmentVariable("CLIPDECK_REPORT_STARTUP") != QLatin1String("1"))
        return;
    auto reported = std::make_shared<std::atomic_bool>(false);
    QObject::connect(
        window, &QQuickWindow::frameSwapped, window,
        [reported] {
            if (reported->exchange(true))
                return;
            std::fprintf(stderr, "first-frame-ms %lld\n", static_cast<long long>(msSinceProcessStart()));
            std::fflush(stderr);
        },
        Qt::DirectConnection);
}

// Whether OpenGL here is a software rasteriser (Mesa's llvmpipe/softpipe: VMs, remote desktops,
// machines without a GPU driver). It cannot draw the monitor at 60 Hz on a few cores, where Qt
// Quick's own software renderer, which repaints only what changed, can (docs/benchmarks.md, "Job
// monitor under load"). Costs one throwaway context at start-up.
bool openGlIsSoftwareRasteriser()
{
    QOpenGLContext context;
    QOffscreenSurface surface;
    surface.create();
    if (!context.create() || !context.makeCurrent(&surface))
        return false;
    const auto *renderer = reinterpret_cast<const char *>(context.functions()->glGetString(GL_RENDERER));
    const bool software = renderer && (std::strstr(renderer, "llvmpipe") || std::strstr(renderer, "softpipe"));
    context.doneCurrent();
    return software;
}

// Qt Quick's scene graph backend: the user's choice (QT_QUICK_BACKEND, QSG_RHI_BACKEND) wins;
// otherwise the software renderer where OpenGL would be a software rasteriser anyway.
void chooseSceneGraphBackend()
{
    if (!qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND") || !qEnvironmentVariableIsEmpty("QSG_RHI_BACKEND"))
        return;
    if (QGuiApplication::platformName() == QLatin1String("offscreen"))
        return;
    if (openGlIsSoftwareRasteriser())
        QQuickWindow::setGraphicsApi(QSGRendererInterface::Software);
}

// Fusion follows the system palette (light and dark); Basic does not. QT_QUICK_CONTROLS_STYLE
// still wins when set. Before the application object exists.
void chooseControlsStyle()
{
    if (qEnvironmentVariableIsEmpty("QT_QUICK_CONTROLS_STYLE"))
        QQuickStyle::setStyle(QStringLiteral("Fusion"));
}

// CLIPDECK_COLOR_SCHEME=dark: the dark palette for the application, and its roles for Main.qml's
// paletteOverride ({"window": "#2b2d31", ...}): Qt Quick Controls 6.4 take their palette from the
// platform theme, not from QGuiApplication::setPalette(), so the window needs them too. Empty
// otherwise: the system's palette.
QVariantMap applyColorScheme()
{
    QVariantMap paletteOverride;
    if (qEnvironmentVariable("CLIPDECK_COLOR_SCHEME") != QLatin1String("dark"))
        return paletteOverride;
    const QPalette dark = darkPalette();
    QApplication::setPalette(dark);
    const std::pair<const char *, QPalette::ColorRole> roles[] = {{"window", QPalette::Window},
                                                                  {"windowText", QPalette::WindowText},
                                                                  {"base", QPalette::Base},
                                                                  {"alternateBase", QPalette::AlternateBase},
                                                                  {"text", QPalette::Text},
                                                                  {"button", QPalette::Button},
                                                                  {"buttonText", QPalette::ButtonText},
                                                                  {"brightText", QPalette::BrightText},
                                                                  {"light", QPalette::Light},
                                                                  {"midlight", QPalette::Midlight},
                                                                  {"mid", QPalette::Mid},
                                                                  {"dark", QPalette::Dark},
                                                                  {"shadow", QPalette::Shadow},
                                                                  {"highlight", QPalette::Highlight},
                                                                  {"highlightedText", QPalette::HighlightedText},
                                                                  {"link", QPalette::Link},
                                                                  {"linkVisited", QPalette::LinkVisited},
                                                                  {"toolTipBase", QPalette::ToolTipBase},
                                                                  {"toolTipText", QPalette::ToolTipText},
                                                                  {"placeholderText", QPalette::PlaceholderText}};
    for (const auto &[name, role] : roles)
        paletteOverride.insert(QString::fromLatin1(name), dark.color(QPalette::Active, role));
    return paletteOverride;
}

// Names, version, desktop file and icon: where settings go, what the desktop shows.
void identifyApplication()
{
    QCoreApplication::setOrganizationName(QStringLiteral("Clipdeck"));
    QCoreApplication::setApplicationName(QStringLiteral("clipdeck"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CLIPDECK_VERSION));
    QGuiApplication::setDesktopFileName(QStringLiteral("clipdeck"));
    QGuiApplication::setWindowIcon(QIcon(QStringLiteral(":/clipdeck/icons/clipdeck.svg")));
}

// What the command line asks for (scriptedrun.h has the scripted options' contract).
struct Options
{
    QString dataDir;
    QStringList servers; // URL=TOKEN
    QList<desktop::ScriptedSubmission> submissions;
    QString screenshotPath;
    bool quitWhenIdle = false;
    bool showSettings = false;
};

// Parses the command line; --help and --version exit here. Returns nothing (after saying why on
// stderr) when an option's value is malformed.
std::optional<Options> parseArguments(const QApplication &application)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Clipdeck: run exports, proxies, thumbnails, scene detection and waveforms on this computer "
                       "or on a Clipdeck server, and watch them."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {QStringLiteral("data-dir"),
         QStringLiteral("Keep the job database, outputs and settings in DIR instead of the user's data folder."),
         QStringLiteral("DIR")},
        {QStringLiteral("server"),
         QStringLiteral("Use the Clipdeck server at URL with the access token TOKEN for this run only; it is "
                        "not saved in the settings (repeatable)."),
         QStringLiteral("URL=TOKEN")},
        {QStringLiteral("submit"),
         QStringLiteral("Start a job at launch: KIND=FILE[,preset=NAME][,on=URL] (repeatable). Without on= it "
                        "runs on this computer; with it, on that server (configured, or given with --server)."),
         QStringLiteral("KIND=FILE")},
        {QStringLiteral("screenshot"),
         QStringLiteral("Save a picture of the window once every submitted job has finished."), QStringLiteral("PATH")},
        {QStringLiteral("quit-when-idle"),
         QStringLiteral("Quit once every submitted job has finished (exit code 0: all completed, "
                        "1: one did not, 2: the screenshot could not be written).")},
        {QStringLiteral("show-settings"), QStringLiteral("Open the Servers dialog at launch.")},
    });
    parser.process(application);

    Options options;
    options.dataDir = parser.value(QStringLiteral("data-dir"));
    options.servers = parser.values(QStringLiteral("server"));
    options.screenshotPath = parser.value(QStringLiteral("screenshot"));
    options.quitWhenIdle = parser.isSet(QStringLiteral("quit-when-idle"));
    options.showSettings = parser.isSet(QStringLiteral("show-settings"));
    for (const QString &text : parser.values(QStringLiteral("submit"))) {
        const auto s = desktop::ScriptedSubmission::parse(text);
        if (s.kind.isEmpty()) {
            QTextStream(stderr) << "clipdeck: --submit expects KIND=FILE[,preset=NAME][,on=URL], not " << text << '\n';
            return std::nullopt;
        }
        options.submissions.append(s);
    }
    return options;
}

// `--server URL=TOKEN` servers, for this run only. False (after saying why on stderr) when one is
// malformed or conflicts with a configured server.
bool addSessionServers(desktop::AppController &app, const QStringList &servers)
{
    for (const QString &text : servers) {
        // URL=TOKEN: the first '=' ends the URL (a server address has none; a token may).
        const qsizetype eq = text.indexOf(u'=');
        QString error;
        if (eq <= 0 || app.servers()->addSessionServer(text.left(eq), text.mid(eq + 1), &error).isEmpty()) {
            QTextStream(stderr) << "clipdeck: --server expects URL=TOKEN"
                                << (error.isEmpty() ? QString() : QStringLiteral(": ") + error) << '\n';
            return false;
        }
    }
    return true;
}

// Loads Main.qml with the app as its `app`; the window, or nullptr when QML could not make it.
QQuickWindow *loadMainWindow(QQmlApplicationEngine &qml, desktop::AppController &app,
                             const QVariantMap &paletteOverride, bool showSettings)
{
    // Where qt_add_qml_module puts the modules (RESOURCE_PREFIX /qt/qml); default from Qt 6.5 on.
    qml.addImportPath(QStringLiteral("qrc:/qt/qml"));
    qml.setInitialProperties({{QStringLiteral("app"), QVariant::fromValue(&app)},
                              {QStringLiteral("paletteOverride"), paletteOverride},
                              {QStringLiteral("showSettingsAtStart"), showSettings}});
    QObject::connect(
        &qml, &QQmlApplicationEngine::objectCreationFailed, QCoreApplication::instance(),
        [] { QCoreApplication::exit(3); }, Qt::QueuedConnection);
    qml.load(QUrl(QStringLiteral("qrc:/qt/qml/Clipdeck/Main.qml")));
    if (qml.rootObjects().isEmpty())
        return nullptr;
    return qobject_cast<QQuickWindow *>(qml.rootObjects().constFirst());
}

// The window comes up when the tray icon or a notification is clicked; the start-up report.
void connectWindow(QQuickWindow *window, desktop::AppController &app)
{
    reportStartupOnFirstFrame(window);
    QObject::connect(app.integration(), &desktop::DesktopIntegration::activateRequested, window, [window] {
        window->show();
        window->raise();
        window->requestActivate();
    });
}

} // namespace

int main(int argc, char *argv[])
{
    chooseControlsStyle();
    QApplication application(argc, argv);
    chooseSceneGraphBackend();
    const QVariantMap paletteOverride = applyColorScheme();
    identifyApplication();

    const std::optional<Options> options = parseArguments(application);
    if (!options)
        return 2;

    desktop::AppController app(options->dataDir);
    app.start();
    if (!addSessionServers(app, options->servers))
        return 2;

    QQmlApplicationEngine qml;
    QQuickWindow *window = loadMainWindow(qml, app, paletteOverride, options->showSettings);
    if (qml.rootObjects().isEmpty())
        return 3;
    if (window)
        connectWindow(window, app);

    desktop::ScriptedRun scripted(&app, &qml, options->submissions, options->screenshotPath, options->quitWhenIdle);
    if (scripted.isActive() || !options->submissions.isEmpty())
        scripted.start();

    return application.exec();
}
