// The job monitor under load: N live jobs, each updated R times a second, through the real
// JobModel into the real JobMonitor view (qml/JobMonitor.qml) in a window. Measures, on the GUI
// thread, what a person would feel:
//   - frame intervals (frameSwapped to frameSwapped) and the GUI thread's work per frame
//     (afterAnimating, where a frame starts on the GUI thread, to afterSynchronizing, where the
//     render thread takes over), p50/p99/max, and frames over 16 ms;
//   - GUI-thread CPU time per wall second (CLOCK_THREAD_CPUTIME_ID);
//   - resident memory with the jobs loaded.
// The same run is done with the model's coalescing on (one dataChanged per job per frame) and
// off (a dataChanged per update) unless --coalescing says which: the ratio is what coalescing
// buys. Updates come from a JobSource made for this benchmark: a source's signals are the
// model's only input, the same path the engine and server sources take.
//
//   bench_monitor [--jobs 1000] [--rate 10] [--seconds 10] [--coalescing on|off|both] [--json]
//   (--rate 0: no updates, only the animation: the renderer's own cost, the baseline)
//
// tests/bench/monitor/run.sh runs it under Xvfb and the app's start-up measurement beside it.

#include "client/jobmodel.h"
#include "client/jobsource.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QQmlEngine>
#include <QQuickStyle>
#include <QQuickView>
#include <QQuickWindow>
#include <QSGRendererInterface>
#include <QTemporaryFile>
#include <QTimer>
#include <QtQml/qqmlextensionplugin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

Q_IMPORT_QML_PLUGIN(ClipdeckPlugin)
Q_IMPORT_QML_PLUGIN(Clipdeck_ClientPlugin)

using namespace clipdeck::jobs;
using namespace clipdeck::client;
using namespace Qt::StringLiterals;

namespace {

// Jobs that run forever: every tick moves a slice of them on, so that each job gets `rate`
// snapshots a second, spread evenly over the second as a busy engine or server would send them.
class LoadSource : public JobSource
{
public:
    LoadSource(int jobs, int rate) : m_rate(rate)
    {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (int i = 0; i < jobs; ++i) {
            Job job;
            job.id = u"job-%1"_s.arg(i);
            job.kind = i % 3 == 0 ? u"transcode"_s : (i % 3 == 1 ? u"thumbnails"_s : u"proxy"_s);
            job.input = u"/media/clip-%1.mov"_s.arg(i);
            job.status = Status::Running;
            job.stage = u"encoding"_s;
            job.createdAt = job.startedAt = job.updatedAt = now;
            job.seq = 1;
            m_jobs.push_back(job);
        }
        connect(&m_timer, &QTimer::timeout, this, &LoadSource::tick);
        m_timer.setTimerType(Qt::PreciseTimer);
    }

    void begin(int tickMs)
    {
        m_tickMs = tickMs;
        m_timer.start(tickMs);
    }
    void end() { m_timer.stop(); }
    qint64 updatesSent() const { return m_sent; }

    QString sourceId() const override { return u"bench"_s; }
    QString displayName() const override { return u"Benchmark"_s; }
    ConnectionState connectionState() const override { return ConnectionState::Connected; }
    void start() override
    {
        for (const Job &job : m_jobs)
            emit jobUpdated(job);
    }
    void stop() override { }
    QString submit(const JobSubmission &) override { return {}; }
    void cancel(const QString &) override { }
    void pause(const QString &) override { }
    void resume(const QString &) override { }
    void retry(const QString &) override { }
    void remove(const QString &) override { }
    QString clipName(const Job &job) const override { return job.input.section(u'/', -1); }
    void fetchOutput(const QString &, const QString &) override { }

private:
    void tick()
    {
        // updates per tick = jobs * rate * tick / 1000, carried over so the rate is exact.
        m_owed += double(m_jobs.size()) * m_rate * m_tickMs / 1000.0;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        while (m_owed >= 1.0) {
            m_owed -= 1.0;
            Job &job = m_jobs[m_next];
            m_next = (m_next + 1) % m_jobs.size();
            ++job.seq;
            job.progress = std::fmod(job.progress + 0.37, 100.0);
            job.etaSeconds = 100.0 - job.progress;
            job.speed = Speed{24.0 + (job.seq % 7), 1.0 + (job.seq % 3) * 0.1};
            job.updatedAt = now;
            emit jobUpdated(job);
            ++m_sent;
        }
    }

    std::vector<Job> m_jobs;
    QTimer m_timer;
    int m_rate;
    int m_tickMs = 10;
    double m_owed = 0;
    size_t m_next = 0;
    qint64 m_sent = 0;
};

double threadCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

qint64 residentKiB()
{
    QFile status(u"/proc/self/status"_s);
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    return -1;
}

// A real event loop, which sleeps when there is nothing to do (processEvents in a loop would
// spin and take the CPU the renderer needs).
void runEventLoopFor(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

struct Distribution
{
    double p50 = 0, p99 = 0, max = 0;
    int over16 = 0;  // work distributions: over a 60 Hz frame's budget
    int dropped = 0; // intervals: over 1.5 frames at 60 Hz, i.e. a frame missed
    int count = 0;
};

Distribution distribution(std::vector<double> values)
{
    Distribution d;
    d.count = int(values.size());
    if (values.empty())
        return d;
    std::sort(values.begin(), values.end());
    auto at = [&](double q) { return values[std::min(values.size() - 1, size_t(q * values.size()))]; };
    d.p50 = at(0.50);
    d.p99 = at(0.99);
    d.max = values.back();
    d.over16 = int(std::count_if(values.begin(), values.end(), [](double v) { return v > 16.0; }));
    d.dropped = int(std::count_if(values.begin(), values.end(), [](double v) { return v > 25.0; }));
    return d;
}

QJsonObject toJson(const Distribution &d)
{
    return {{u"p50"_s, d.p50},         {u"p99"_s, d.p99},         {u"max"_s, d.max},
            {u"over16ms"_s, d.over16}, {u"dropped"_s, d.dropped}, {u"frames"_s, d.count}};
}

struct RunResult
{
    Distribution interval;
    Distribution guiWork;
    Distribution render; // beforeRendering to frameSwapped: the renderer's part of a frame
    double guiCpuPercent = 0;
    double updatesPerSecond = 0;
    qint64 rssKiB = 0;
    QString graphics; // "opengl", "software", ...
};

RunResult runOnce(int jobs, int rate, int seconds, bool coalescing)
{
    JobModel model;
    model.setCoalescingInterval(coalescing ? 16 : 0);
    LoadSource source(jobs, rate);
    model.addSource(&source);
    source.start();

    QQuickView view;
    view.setResizeMode(QQuickView::SizeRootObjectToView);
    view.engine()->addImportPath(u"qrc:/qt/qml"_s); // on the default import path only from 6.5
    view.resize(1280, 900);
    view.setInitialProperties({{u"jobModel"_s, QVariant::fromValue(&model)}});
    // QQuickView::loadFromModule is 6.5+; the module's resource path works on 6.4 and later.
    // The monitor beside something that animates all the time (as a busy indicator would): the
    // render loop then runs at the display's rate, so a frame interval well over 16.7 ms is a
    // dropped frame, not a moment with nothing new to draw.
    QTemporaryFile wrapper(QDir::tempPath() + u"/bench_monitor_XXXXXX.qml"_s);
    if (!wrapper.open())
        std::exit(2);
    wrapper.write(R"(import QtQuick
import Clipdeck
import Clipdeck.Client
Item {
    id: root
    required property JobModel jobModel
    JobMonitor { anchors.fill: parent; jobModel: root.jobModel }
    Rectangle {
        width: 8; height: 8; color: "gray"
        RotationAnimation on rotation { from: 0; to: 360; duration: 1000; loops: Animation.Infinite }
    }
}
)");
    wrapper.flush();
    view.setSource(QUrl::fromLocalFile(wrapper.fileName()));
    if (view.status() != QQuickView::Ready) {
        for (const QQmlError &error : view.errors())
            std::fprintf(stderr, "bench_monitor: %s\n", qPrintable(error.toString()));
        std::exit(2);
    }
    view.show();

    QElapsedTimer clock;
    clock.start();
    std::vector<double> intervals, work, render;
    double lastSwap = -1, frameStart = -1;
    std::atomic<bool> measuring = false;
    // DirectConnection: these are emitted on the render thread with the threaded loop; the
    // times are taken there, and the vectors are only read after the run.
    QObject::connect(
        &view, &QQuickWindow::afterAnimating, &view, [&] { frameStart = clock.nsecsElapsed() / 1e6; },
        Qt::DirectConnection);
    QObject::connect(
        &view, &QQuickWindow::afterSynchronizing, &view,
        [&] {
            if (measuring && frameStart >= 0)
                work.push_back(clock.nsecsElapsed() / 1e6 - frameStart);
        },
        Qt::DirectConnection);
    double renderStart = -1;
    QObject::connect(
        &view, &QQuickWindow::beforeRendering, &view, [&] { renderStart = clock.nsecsElapsed() / 1e6; },
        Qt::DirectConnection);
    QObject::connect(
        &view, &QQuickWindow::frameSwapped, &view,
        [&] {
            const double now = clock.nsecsElapsed() / 1e6;
            if (measuring && lastSwap >= 0)
                intervals.push_back(now - lastSwap);
            if (measuring && renderStart >= 0)
                render.push_back(now - renderStart);
            lastSwap = now;
        },
        Qt::DirectConnection);

    // Warm up: first frames, delegate creation, glyph caches.
    source.begin(10);
    runEventLoopFor(1500);

    measuring = true;
    const qint64 sentBefore = source.updatesSent();
    const double cpuBefore = threadCpuMs();
    QElapsedTimer wall;
    wall.start();
    runEventLoopFor(seconds * 1000);
    measuring = false;
    const double wallMs = wall.nsecsElapsed() / 1e6;
    RunResult result;
    result.guiCpuPercent = 100.0 * (threadCpuMs() - cpuBefore) / wallMs;
    result.updatesPerSecond = (source.updatesSent() - sentBefore) * 1000.0 / wallMs;
    result.rssKiB = residentKiB();
    switch (view.rendererInterface()->graphicsApi()) {
    case QSGRendererInterface::Software: result.graphics = u"software"_s; break;
    case QSGRendererInterface::OpenGL: result.graphics = u"opengl"_s; break;
    default: result.graphics = u"other"_s; break;
    }
    source.end();
    result.interval = distribution(intervals);
    result.guiWork = distribution(work);
    result.render = distribution(render);
    return result;
}

} // namespace

int main(int argc, char **argv)
{
    // The app's style (app/desktop/main.cpp): what the delegates cost depends on it.
    if (qEnvironmentVariableIsEmpty("QT_QUICK_CONTROLS_STYLE"))
        QQuickStyle::setStyle(u"Fusion"_s);
    QGuiApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addOptions({{u"jobs"_s, u"Live jobs."_s, u"n"_s, u"1000"_s},
                       {u"rate"_s, u"Updates per job per second."_s, u"n"_s, u"10"_s},
                       {u"seconds"_s, u"Measured seconds per run."_s, u"n"_s, u"10"_s},
                       {u"coalescing"_s, u"on, off or both."_s, u"mode"_s, u"both"_s},
                       {u"json"_s, u"One JSON object per run on stdout."_s}});
    parser.addHelpOption();
    parser.process(app);
    const int jobs = parser.value(u"jobs"_s).toInt();
    const int rate = parser.value(u"rate"_s).toInt();
    const int seconds = parser.value(u"seconds"_s).toInt();
    const QString mode = parser.value(u"coalescing"_s);

    std::vector<bool> modes;
    if (mode != u"off")
        modes.push_back(true);
    if (mode != u"on")
        modes.push_back(false);

    for (bool coalescing : modes) {
        const RunResult r = runOnce(jobs, rate, seconds, coalescing);
        if (parser.isSet(u"json"_s)) {
            const QJsonObject o{{u"coalescing"_s, coalescing},
                                {u"jobs"_s, jobs},
                                {u"rate"_s, rate},
                                {u"updatesPerSecond"_s, r.updatesPerSecond},
                                {u"frameIntervalMs"_s, toJson(r.interval)},
                                {u"guiWorkPerFrameMs"_s, toJson(r.guiWork)},
                                {u"renderPerFrameMs"_s, toJson(r.render)},
                                {u"guiCpuPercent"_s, r.guiCpuPercent},
                                {u"rssKiB"_s, r.rssKiB},
                                {u"graphics"_s, r.graphics}};
            std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
        } else {
            std::printf("%s, coalescing %-3s  %d jobs x %d/s (%.0f updates/s delivered)\n"
                        "  frame interval ms  p50 %.2f  p99 %.2f  max %.2f  dropped (> 25 ms): %d of %d\n"
                        "  GUI work/frame ms  p50 %.2f  p99 %.2f  max %.2f  over 16 ms: %d\n"
                        "  render/frame ms    p50 %.2f  p99 %.2f  max %.2f  over 16 ms: %d\n"
                        "  GUI thread CPU %.1f %%  RSS %lld KiB\n",
                        qPrintable(r.graphics), coalescing ? "on" : "off", jobs, rate, r.updatesPerSecond,
                        r.interval.p50, r.interval.p99, r.interval.max, r.interval.dropped, r.interval.count,
                        r.guiWork.p50, r.guiWork.p99, r.guiWork.max, r.guiWork.over16, r.render.p50, r.render.p99,
                        r.render.max, r.render.over16, r.guiCpuPercent, r.rssKiB);
        }
        std::fflush(stdout);
    }
    return 0;
}
