// The engine's own cost per event, with its job store on a real SQLite file: how many progress
// events per second its thread can publish and what each costs it in CPU, and what a state change
// costs (the time from the call to the subscriber having the event, and per change overall).
//
//   bench_engine_events DIR [SECONDS]
//
// The operation here does no media work: it reports progress as fast as it can, so the engine's
// thread (snapshot, throttle, store, signal) is what is measured, not FFmpeg. Comparing two
// builds of the engine (tests/bench/engine/run.sh) shows what a change to the event path costs.

#include "engine/engine.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QTextStream>
#include <QTimer>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <vector>

using namespace clipdeck;

namespace {

std::atomic<bool> g_stop{false};

media::Result spin(const media::Request &, media::Control &control)
{
    for (quint64 i = 0; !g_stop.load(std::memory_order_relaxed); ++i) {
        const double fraction = double(i % 1000000) / 1000000.0;
        if (!control.checkpoint(media::Progress{fraction, QStringLiteral("encoding"), 25.0, double(i) / 25.0}))
            return media::Result{media::Error{QString(media::errors::Canceled), QString()}, {}};
    }
    return {};
}

qint64 threadCpuNs()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return qint64(t.tv_sec) * 1000000000 + t.tv_nsec;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        QTextStream(stderr) << "usage: bench_engine_events DIR [SECONDS]\n";
        return 2;
    }
    const QString dir = args.at(1);
    const int seconds = args.size() > 2 ? args.at(2).toInt() : 5;
    QDir(dir).removeRecursively();
    QDir().mkpath(dir);

    engine::EngineSettings settings;
    settings.databasePath = dir + QStringLiteral("/jobs.sqlite");
    settings.outputDir = dir + QStringLiteral("/out");
    settings.progressIntervalMs = 0; // every report an event: the engine is the bottleneck
    settings.operations = {media::OperationSpec{QStringLiteral("spin"), QString(), true, nullptr, &spin}};
    engine::Engine engine(settings);
    if (!engine.open()) {
        QTextStream(stderr) << engine.errorString() << '\n';
        return 1;
    }
    const QString input = dir + QStringLiteral("/input");
    QFile(input).open(QIODevice::WriteOnly);

    // 1. Progress events of one running job.
    qint64 events = 0;
    QString spinning;
    QMetaObject::Connection counting = QObject::connect(&engine, &engine::Engine::jobUpdated, [&](const jobs::Job &j) {
        if (j.id == spinning && j.status == jobs::Status::Running)
            ++events;
    });
    spinning = engine.submit(QStringLiteral("spin"), input).job->id;
    QElapsedTimer wall;
    qint64 cpuStart = 0;
    // Measure from the first running event on.
    while (events == 0)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    events = 0;
    wall.start();
    cpuStart = threadCpuNs();
    QTimer::singleShot(seconds * 1000, &app, &QCoreApplication::quit);
    app.exec();
    const double elapsed = double(wall.nsecsElapsed()) / 1e9;
    const double cpu = double(threadCpuNs() - cpuStart) / 1e9;
    g_stop = true;
    engine.cancel(spinning);
    QObject::disconnect(counting);
    while (!engine.job(spinning)->isTerminal())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);

    // 2. State changes: a held job paused and canceled, over and over. Latency: from the call to
    //    the subscriber having the event (a write before the emit adds to it; after, it does not).
    engine.setConcurrency(0, 0);
    constexpr int Changes = 4000;
    std::vector<qint64> latencies;
    latencies.reserve(Changes);
    QElapsedTimer changeClock;
    changeClock.start();
    qint64 delivered = 0;
    QObject::connect(&engine, &engine::Engine::jobUpdated, [&] { delivered = changeClock.nsecsElapsed(); });
    const qint64 cpuChanges = threadCpuNs();
    for (int i = 0; i < Changes / 2; ++i) {
        const QString id = engine.submit(QStringLiteral("spin"), input).job->id;
        const qint64 t0 = changeClock.nsecsElapsed();
        engine.pause(id); // pending -> paused (held): a state change, written and emitted
        latencies.push_back(delivered - t0);
        const qint64 t1 = changeClock.nsecsElapsed();
        engine.cancel(id); // -> canceled
        latencies.push_back(delivered - t1);
        engine.remove(id);
    }
    const double changesCpuUs = double(threadCpuNs() - cpuChanges) / 1e3 / (Changes * 1.5); // submit + pause + cancel
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) { return double(latencies[size_t(p * double(latencies.size() - 1))]) / 1e3; };

    QTextStream out(stdout);
    out << "progress events/s " << qRound(double(events) / elapsed) << '\n';
    out << "engine thread CPU per progress event (us) " << QString::number(cpu * 1e6 / double(events), 'f', 2) << '\n';
    out << "state change call->event (us) p50 " << QString::number(pct(0.5), 'f', 1) << " p99 "
        << QString::number(pct(0.99), 'f', 1) << '\n';
    out << "engine thread CPU per state change incl. remove (us) " << QString::number(changesCpuUs, 'f', 1) << '\n';
    engine.shutdown();
    return 0;
}
