// The viewer's exact frames, measured until the picture is in a QVideoSink: random exact seeks
// side by side with mpv --hr-seek=yes over its JSON IPC (same targets, passes taking turns),
// frame steps both ways, a simulated scrub, and open/index time (tests/bench/seek/run.sh).
//
//   bench_seek seek  CLIP [--passes N] [--threading frame|slice|both] [--quick] [--mpv] [--seed S]
//   bench_seek step  CLIP [--start FRAME] [--count N]
//   bench_seek scrub CLIP [--seconds D]
//   bench_seek open  CLIP
//
// Each prints one JSON object on stdout (milliseconds).

#include "media/framereader.h"

#include <QElapsedTimer>
#include <QFile>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>
#include <QVideoFrame>
#include <QVideoFrameFormat>
#include <QVideoSink>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>
#include <set>
#include <vector>

using namespace clipdeck::media;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point t0, Clock::time_point t1)
{
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

// CPU time of this process (all threads), milliseconds.
double cpuMs()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3)
           + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// CPU time of another process (utime + stime from /proc), milliseconds.
double cpuMsOf(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray line = stat.readAll();
    // Fields after the command name (which may hold spaces) in parentheses.
    const QList<QByteArray> f = line.mid(line.lastIndexOf(')') + 2).split(' ');
    const double ticks = double(f.value(11).toLongLong() + f.value(12).toLongLong());
    return ticks * 1000.0 / double(sysconf(_SC_CLK_TCK));
}

QJsonObject summary(std::vector<double> ms)
{
    QJsonObject o;
    if (ms.empty())
        return o;
    std::sort(ms.begin(), ms.end());
    auto pct = [&ms](double p) {
        const double at = p * double(ms.size() - 1);
        const size_t lo = size_t(at);
        const size_t hi = std::min(ms.size() - 1, lo + 1);
        return ms[lo] + (ms[hi] - ms[lo]) * (at - double(lo));
    };
    o[QStringLiteral("n")] = int(ms.size());
    o[QStringLiteral("p50")] = pct(0.50);
    o[QStringLiteral("p95")] = pct(0.95);
    o[QStringLiteral("max")] = ms.back();
    o[QStringLiteral("mean")] = std::accumulate(ms.begin(), ms.end(), 0.0) / double(ms.size());
    return o;
}

QVideoFrameFormat::PixelFormat qtFormat(PixelFormat f)
{
    switch (f) {
    case PixelFormat::Yuv420P: return QVideoFrameFormat::Format_YUV420P;
    case PixelFormat::Yuv422P: return QVideoFrameFormat::Format_YUV422P;
    case PixelFormat::Yuv420P10: return QVideoFrameFormat::Format_YUV420P10;
    case PixelFormat::Nv12: return QVideoFrameFormat::Format_NV12;
    case PixelFormat::P010: return QVideoFrameFormat::Format_P010;
    case PixelFormat::Gray8: return QVideoFrameFormat::Format_Y8;
    case PixelFormat::Rgba8888: return QVideoFrameFormat::Format_RGBA8888;
    }
    return QVideoFrameFormat::Format_Invalid;
}

// What the viewer will do with a delivered picture: copy it into a QVideoFrame and hand it to
// the sink (QVideoSink::setVideoFrame may be called from a decoding thread).
class SinkFeeder
{
public:
    void show(const DecodedFrame &decoded)
    {
        QVideoFrameFormat format(QSize(decoded.width(), decoded.height()), qtFormat(decoded.pixelFormat()));
        format.setColorSpace(decoded.colorSpace() == ColorSpace::Bt601    ? QVideoFrameFormat::ColorSpace_BT601
                             : decoded.colorSpace() == ColorSpace::Bt2020 ? QVideoFrameFormat::ColorSpace_BT2020
                                                                          : QVideoFrameFormat::ColorSpace_BT709);
        format.setColorRange(decoded.colorRange() == ColorRange::Full ? QVideoFrameFormat::ColorRange_Full
                                                                      : QVideoFrameFormat::ColorRange_Video);
        QVideoFrame frame(format);
        if (!frame.map(QVideoFrame::WriteOnly))
            qFatal("cannot map a QVideoFrame");
        for (int p = 0; p < frame.planeCount() && p < decoded.planeCount(); ++p) {
            const int rows = decoded.planeHeight(p);
            const int bytes = std::min(frame.bytesPerLine(p), decoded.bytesPerLine(p));
            for (int y = 0; y < rows; ++y)
                std::memcpy(frame.bits(p) + y * frame.bytesPerLine(p), decoded.bits(p) + y * decoded.bytesPerLine(p),
                            size_t(bytes));
        }
        frame.unmap();
        frame.setStartTime(qint64(decoded.seconds() * 1e6));
        m_sink.setVideoFrame(frame);
    }

private:
    QVideoSink m_sink;
};

// One request at a time: request() and wait() for its exact frame (and the quick picture).
struct Waiter
{
    std::mutex mutex;
    std::condition_variable done;
    qint64 wanted = -1;
    Clock::time_point exactAt, quickAt;
    double exactCpuMs = 0;
    bool exact = false, quick = false;
    std::set<qint64> exactFrames; // every exact frame shown (scrub)
    qint64 quickCount = 0;
    std::vector<std::pair<qint64, Clock::time_point>> shown;
    SinkFeeder sink;

    AsyncFrameReader::Callbacks callbacks()
    {
        return {[this](const DecodedFrame &f) {
                    sink.show(f);
                    const auto now = Clock::now();
                    std::lock_guard lock(mutex);
                    if (f.isExact()) {
                        exactFrames.insert(f.frameNumber());
                        shown.emplace_back(f.frameNumber(), now);
                        if (f.frameNumber() == wanted) {
                            exact = true;
                            exactAt = now;
                            exactCpuMs = cpuMs();
                        }
                    } else {
                        ++quickCount;
                        if (!quick) {
                            quick = true;
                            quickAt = now;
                        }
                    }
                    done.notify_all();
                },
                [](qint64 frame, const Error &e) { qFatal("frame %lld failed: %s", frame, qPrintable(e.message)); }};
    }
    void expect(qint64 frame)
    {
        std::lock_guard lock(mutex);
        wanted = frame;
        exact = quick = false;
    }
    void wait()
    {
        std::unique_lock lock(mutex);
        done.wait(lock, [this] { return exact; });
    }
};

std::unique_ptr<FrameReader> openReader(const QString &path,
                                        DecoderThreading threading = DecoderThreading::FrameAndSlice, int threads = 0)
{
    FrameReaderOptions options;
    options.threading = threading;
    options.threads = threads;
    auto opened = FrameReader::open(path, options);
    if (auto *e = std::get_if<Error>(&opened))
        qFatal("%s: %s", qPrintable(path), qPrintable(e->message));
    auto reader = std::move(std::get<std::unique_ptr<FrameReader>>(opened));
    reader->waitForIndex();
    return reader;
}

// mpv paused with no video output, driven over its JSON IPC socket.
class Mpv
{
public:
    explicit Mpv(const QString &clip)
    {
        m_socketPath = m_dir.path() + QStringLiteral("/mpv.sock");
        m_process.setProgram(QStringLiteral("mpv"));
        m_process.setArguments(
            {QStringLiteral("--no-config"), QStringLiteral("--really-quiet"), QStringLiteral("--pause"),
             QStringLiteral("--keep-open=always"), QStringLiteral("--vo=null"), QStringLiteral("--ao=null"),
             QStringLiteral("--hr-seek=yes"), QStringLiteral("--input-ipc-server=") + m_socketPath, clip});
        m_process.start();
        if (!m_process.waitForStarted())
            qFatal("mpv does not start");
        for (int i = 0; i < 200 && m_socket.state() != QLocalSocket::ConnectedState; ++i) {
            m_socket.connectToServer(m_socketPath);
            if (!m_socket.waitForConnected(100))
                QThread::msleep(20);
        }
        if (m_socket.state() != QLocalSocket::ConnectedState)
            qFatal("cannot connect to mpv's IPC socket");
        // Loaded and showing the first picture: ask until the duration is known, then one
        // exact seek to the start so the demuxer and decoder are warm like ours.
        for (int i = 0; i < 200; ++i) {
            send(QJsonArray{QStringLiteral("get_property"), QStringLiteral("duration")});
            const QJsonObject reply = waitFor([](const QJsonObject &o) { return o.contains(QStringLiteral("error")); });
            if (reply.value(QStringLiteral("error")).toString() == QStringLiteral("success"))
                break;
            QThread::msleep(20);
        }
        seek(0);
    }
    ~Mpv()
    {
        send(QJsonArray{QStringLiteral("quit")});
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished();
        }
    }
    double cpuMs() const { return cpuMsOf(m_process.processId()); }

    // Exact seek; returns when mpv reports playback-restart (the frame is decoded and shown).
    double seek(double seconds)
    {
        const auto t0 = Clock::now();
        send(QJsonArray{QStringLiteral("seek"), seconds, QStringLiteral("absolute+exact")});
        waitFor([](const QJsonObject &o) {
            return o.value(QStringLiteral("event")).toString() == QStringLiteral("playback-restart");
        });
        return msSince(t0, Clock::now());
    }

private:
    void send(const QJsonArray &command)
    {
        QJsonObject o;
        o[QStringLiteral("command")] = command;
        m_socket.write(QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n');
        m_socket.flush();
    }
    template <typename Predicate>
    QJsonObject waitFor(Predicate matches)
    {
        for (;;) {
            while (m_socket.canReadLine()) {
                const QJsonObject o = QJsonDocument::fromJson(m_socket.readLine()).object();
                if (matches(o))
                    return o;
            }
            if (!m_socket.waitForReadyRead(30000))
                qFatal("mpv stopped answering");
        }
    }

    QTemporaryDir m_dir;
    QString m_socketPath;
    QProcess m_process;
    QLocalSocket m_socket;
};

QString argument(const QStringList &args, const QString &name, const QString &fallback = {})
{
    const qsizetype at = args.indexOf(name);
    return at >= 0 && at + 1 < args.size() ? args[at + 1] : fallback;
}

DecoderThreading threadingOf(const QString &name)
{
    if (name == QStringLiteral("slice"))
        return DecoderThreading::Slice;
    if (name == QStringLiteral("frame"))
        return DecoderThreading::Frame;
    return DecoderThreading::FrameAndSlice;
}

QJsonObject runSeek(const QString &clip, const QStringList &args)
{
    const int passes = argument(args, QStringLiteral("--passes"), QStringLiteral("2")).toInt();
    const bool quick = args.contains(QStringLiteral("--quick"));
    const bool withMpv = args.contains(QStringLiteral("--mpv"));
    const DecoderThreading threading = threadingOf(argument(args, QStringLiteral("--threading")));
    const int threads = argument(args, QStringLiteral("--threads"), QStringLiteral("0")).toInt();
    QRandomGenerator rng(argument(args, QStringLiteral("--seed"), QStringLiteral("20261203")).toUInt());

    auto probe = openReader(clip, threading, threads);
    const qint64 frames = probe->frameCount();
    const VideoProperties props = probe->properties();
    const double frameSeconds = 1.0 / props.frameRate.toDouble();
    // Targets: each pass visits every 2-second stretch (the GOP) once, in random order, at a
    // random frame inside it, on a fresh reader: no target is answered from kept pictures.
    const qint64 gop = std::max<qint64>(1, qint64(std::llround(2.0 / frameSeconds)));
    std::vector<std::vector<qint64>> targets(static_cast<size_t>(passes));
    for (auto &pass : targets) {
        std::vector<qint64> gops(size_t((frames + gop - 1) / gop));
        std::iota(gops.begin(), gops.end(), 0);
        std::shuffle(gops.begin(), gops.end(), std::mt19937(rng.generate()));
        for (qint64 g : gops)
            pass.push_back(std::min(frames - 1, g * gop + qint64(rng.bounded(quint32(gop)))));
    }
    probe.reset();

    std::vector<double> ours, oursQuick, theirs;
    double oursCpu = 0, theirsCpu = 0;
    qint64 cacheHits = 0, seeks = 0;
    for (int p = 0; p < passes; ++p) {
        {
            Waiter waiter;
            auto reader = openReader(clip, threading, threads);
            const FrameReader *raw = reader.get();
            AsyncFrameReader async(std::move(reader), waiter.callbacks());
            async.request(0); // warm: the first picture is on screen before seeking, as in mpv
            waiter.expect(0);
            waiter.wait();
            async.waitUntilIdle();
            for (qint64 t : targets[size_t(p)]) {
                waiter.expect(t);
                const double cpu0 = cpuMs();
                const auto t0 = Clock::now();
                async.request(t, quick ? AsyncFrameReader::QuickKeyframe : AsyncFrameReader::NoFlags);
                waiter.wait();
                ours.push_back(msSince(t0, waiter.exactAt));
                oursCpu += waiter.exactCpuMs - cpu0;
                if (waiter.quick)
                    oursQuick.push_back(msSince(t0, waiter.quickAt));
                async.waitUntilIdle();
            }
            cacheHits += raw->statistics().cacheHits;
            seeks += raw->statistics().seeks;
        }
        if (withMpv) {
            Mpv mpv(clip);
            auto reader = openReader(clip);
            const double cpu0 = mpv.cpuMs();
            for (qint64 t : targets[size_t(p)]) // the middle of the frame: no rounding doubt
                theirs.push_back(mpv.seek(*reader->secondsOfFrame(t) + frameSeconds / 2));
            theirsCpu += mpv.cpuMs() - cpu0;
        }
    }
    QJsonObject o;
    o[QStringLiteral("clip")] = clip;
    o[QStringLiteral("frames")] = frames;
    o[QStringLiteral("width")] = props.width;
    o[QStringLiteral("height")] = props.height;
    o[QStringLiteral("codec")] = props.codec;
    o[QStringLiteral("exact")] = summary(ours);
    o[QStringLiteral("cpuMsPerSeek")] = oursCpu / double(ours.size());
    if (withMpv)
        o[QStringLiteral("mpvCpuMsPerSeek")] = theirsCpu / double(theirs.size());
    if (!oursQuick.empty())
        o[QStringLiteral("quick")] = summary(oursQuick);
    if (withMpv)
        o[QStringLiteral("mpv")] = summary(theirs);
    o[QStringLiteral("cacheHits")] = cacheHits;
    o[QStringLiteral("seeks")] = seeks;
    return o;
}

QJsonObject runStep(const QString &clip, const QStringList &args)
{
    auto reader = openReader(clip);
    const qint64 frames = reader->frameCount();
    const qint64 start =
        std::min(frames - 1, argument(args, QStringLiteral("--start"), QStringLiteral("900")).toLongLong());
    const qint64 count = argument(args, QStringLiteral("--count"), QStringLiteral("120")).toLongLong();
    // The clips have a keyframe every 2 seconds.
    const qint64 gop = qint64(std::llround(2.0 * reader->properties().frameRate.toDouble()));
    Waiter waiter;
    AsyncFrameReader async(std::move(reader), waiter.callbacks());
    auto step = [&](qint64 frame) {
        waiter.expect(frame);
        const auto t0 = Clock::now();
        async.request(frame);
        waiter.wait();
        const double ms = msSince(t0, waiter.exactAt);
        async.waitUntilIdle();
        return ms;
    };
    step(start);
    std::vector<double> forward, backward, crossing;
    for (qint64 i = 1; i <= count && start + i < frames; ++i)
        forward.push_back(step(start + i));
    // Back over everything stepped through and as far again, across two GOP boundaries.
    for (qint64 frame = std::min(frames - 1, start + count) - 1; frame >= std::max<qint64>(0, start - count); --frame) {
        const double ms = step(frame);
        (frame % gop == gop - 1 ? crossing : backward).push_back(ms);
    }
    std::vector<double> allBackward = backward;
    allBackward.insert(allBackward.end(), crossing.begin(), crossing.end());
    QJsonObject o;
    o[QStringLiteral("clip")] = clip;
    o[QStringLiteral("forward")] = summary(forward);
    o[QStringLiteral("backward")] = summary(allBackward);
    o[QStringLiteral("backwardWithinGop")] = summary(backward);
    o[QStringLiteral("backwardIntoEarlierGop")] = summary(crossing);
    return o;
}

QJsonObject runScrub(const QString &clip, const QStringList &args)
{
    const double seconds = argument(args, QStringLiteral("--seconds"), QStringLiteral("5")).toDouble();
    auto reader = openReader(clip);
    const qint64 frames = reader->frameCount();
    Waiter waiter;
    AsyncFrameReader async(std::move(reader), waiter.callbacks());
    async.request(0);
    waiter.expect(0);
    waiter.wait();
    async.waitUntilIdle();
    {
        std::lock_guard lock(waiter.mutex);
        waiter.exactFrames.clear();
        waiter.shown.clear();
        waiter.quickCount = 0;
    }
    // A drag from the first frame to the last, one request per 16 ms display frame.
    const int ticks = std::max(1, int(std::lround(seconds * 1000 / 16)));
    const auto t0 = Clock::now();
    qint64 last = 0;
    for (int i = 1; i <= ticks; ++i) {
        std::this_thread::sleep_until(t0 + std::chrono::microseconds(qint64(i) * 16000));
        last = qint64(std::llround(double(i) / ticks * double(frames - 1)));
        if (i == ticks)
            waiter.expect(last);
        async.request(last, AsyncFrameReader::QuickKeyframe);
    }
    const auto dragEnd = Clock::now();
    waiter.wait();
    const double settle = msSince(dragEnd, waiter.exactAt);
    std::lock_guard lock(waiter.mutex);
    qint64 duringDrag = 0;
    std::set<qint64> distinct;
    for (const auto &[frame, at] : waiter.shown) {
        if (at <= dragEnd && distinct.insert(frame).second)
            ++duringDrag;
    }
    QJsonObject o;
    o[QStringLiteral("clip")] = clip;
    o[QStringLiteral("dragSeconds")] = msSince(t0, dragEnd) / 1000;
    o[QStringLiteral("requests")] = ticks;
    o[QStringLiteral("exactFramesDuringDrag")] = duringDrag;
    o[QStringLiteral("exactFramesPerSecond")] = double(duringDrag) / (msSince(t0, dragEnd) / 1000);
    o[QStringLiteral("quickPictures")] = waiter.quickCount;
    o[QStringLiteral("lastFrameExactAfterMs")] = settle;
    return o;
}

QJsonObject runOpen(const QString &clip)
{
    const auto t0 = Clock::now();
    auto opened = FrameReader::open(clip);
    const auto t1 = Clock::now();
    if (auto *e = std::get_if<Error>(&opened))
        qFatal("%s: %s", qPrintable(clip), qPrintable(e->message));
    auto &reader = std::get<std::unique_ptr<FrameReader>>(opened);
    const qint64 estimate = reader->frameCount();
    const bool container = reader->properties().indexFromContainer;
    auto first = reader->decode(0);
    const auto t2 = Clock::now();
    reader->waitForIndex();
    const auto t3 = Clock::now();
    QJsonObject o;
    o[QStringLiteral("clip")] = clip;
    o[QStringLiteral("bytes")] = QFile(clip).size();
    o[QStringLiteral("indexFromContainer")] = container;
    o[QStringLiteral("openMs")] = msSince(t0, t1);
    o[QStringLiteral("firstFrameMs")] = msSince(t0, t2);
    o[QStringLiteral("indexCompleteMs")] = msSince(t0, t3);
    o[QStringLiteral("frameCountAtOpen")] = estimate;
    o[QStringLiteral("frames")] = reader->frameCount();
    o[QStringLiteral("firstFrameOk")] = std::holds_alternative<DecodedFrame>(first);
    return o;
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM",
            qgetenv("QT_QPA_PLATFORM").isEmpty() ? QByteArray("offscreen") : qgetenv("QT_QPA_PLATFORM"));
    QGuiApplication app(argc, argv); // QVideoSink needs the multimedia integration
    const QStringList args = app.arguments();
    if (args.size() < 3) {
        fprintf(stderr, "usage: bench_seek seek|step|scrub|open CLIP [options]\n");
        return 2;
    }
    const QString mode = args[1], clip = args[2];
    QJsonObject result;
    if (mode == QStringLiteral("seek"))
        result = runSeek(clip, args);
    else if (mode == QStringLiteral("step"))
        result = runStep(clip, args);
    else if (mode == QStringLiteral("scrub"))
        result = runScrub(clip, args);
    else if (mode == QStringLiteral("open"))
        result = runOpen(clip);
    else
        return 2;
    printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    return 0;
}
