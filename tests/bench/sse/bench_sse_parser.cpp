// Throughput of clipdeck::sse::Parser on the issue #2 inputs, in MiB/s of wire bytes (best and
// median of several runs). Not a test: tests/bench/sse/run.sh runs it next to the npm
// eventsource-parser on the very same bytes, written out with --write-inputs.
//
//   bench_sse_parser [--runs N] [--json] [--write-inputs DIR] [--only NAME]

#include "sse/parser.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <vector>

using namespace clipdeck::sse;

namespace {

// Deterministic on every platform (unlike std::uniform_int_distribution).
class XorShift
{
public:
    explicit XorShift(uint64_t seed) : m_state(seed * 0x9E3779B97F4A7C15ull + 1) { }
    uint64_t next()
    {
        m_state ^= m_state << 13;
        m_state ^= m_state >> 7;
        m_state ^= m_state << 17;
        return m_state;
    }
    uint32_t below(uint32_t n) { return uint32_t(next() % n); }

private:
    uint64_t m_state;
};

QByteArray jobId(XorShift &random)
{
    char text[40];
    const uint64_t a = random.next(), b = random.next();
    std::snprintf(text, sizeof text, "%08x-%04x-4%03x-a%03x-%012llx", unsigned(a), unsigned(a >> 32) & 0xFFFF,
                  unsigned(a >> 48) & 0xFFF, unsigned(b) & 0xFFF, static_cast<unsigned long long>(b >> 16));
    return QByteArray(text);
}

// A job snapshot as docs/protocol.md sketches it: the full state, never a diff.
QByteArray snapshot(const QByteArray &id, int seq, XorShift &random)
{
    static const char *const kinds[] = {"transcode", "proxy", "thumbnails", "scenes", "waveform"};
    static const char *const stages[] = {"probe", "decode", "encode", "mux", "faststart"};
    char text[512];
    const int progressTenths = int(random.below(1001));
    const int n = std::snprintf(
        text, sizeof text,
        "{\"v\":1,\"jobId\":\"%s\",\"seq\":%d,\"kind\":\"%s\",\"status\":\"running\",\"progress\":%d.%d,"
        "\"stage\":\"%s\",\"etaSeconds\":%u,\"speed\":{\"fps\":%u.%u,\"realtime\":%u.%02u},\"error\":null,"
        "\"outputs\":[],\"updatedAt\":\"2025-06-%02uT%02u:%02u:%02u.%03uZ\"}",
        id.constData(), seq, kinds[seq % 5], progressTenths / 10, progressTenths % 10, stages[random.below(5)],
        random.below(3600), 20 + random.below(400), random.below(10), random.below(8), random.below(100),
        1 + random.below(28), random.below(24), random.below(60), random.below(60), random.below(1000));
    return QByteArray(text, n);
}

// 100k small job-progress events, each with an id, as a job server sends them.
QByteArray smallEvents()
{
    XorShift random(1);
    std::vector<QByteArray> jobs;
    std::vector<int> seqs(64, 0);
    for (int i = 0; i < 64; ++i)
        jobs.push_back(jobId(random));
    QByteArray out;
    out.reserve(100000 * 340);
    for (int i = 0; i < 100000; ++i) {
        const int job = int(random.below(64));
        const int seq = ++seqs[size_t(job)];
        out += "id: " + QByteArray::number(i + 1) + "\ndata: " + snapshot(jobs[size_t(job)], seq, random) + "\n\n";
    }
    return out;
}

// Every field: event, id, retry, several data lines, plus the odd heartbeat comment.
QByteArray multiFieldEvents()
{
    XorShift random(2);
    const QByteArray job = jobId(random);
    QByteArray out;
    out.reserve(50000 * 420);
    for (int i = 0; i < 50000; ++i) {
        if (i % 50 == 0)
            out += ": heartbeat\n\n";
        out += "event: progress\nid: " + job + ':' + QByteArray::number(i + 1) + "\nretry: 3000\n";
        out += "data: {\"frame\":" + QByteArray::number(i * 25) + ",\"pts\":" + QByteArray::number(i * 40) + "}\n";
        out += "data: " + snapshot(job, i + 1, random) + '\n';
        out += "data: {\"log\":\"frame=" + QByteArray::number(i * 25) + " fps=" + QByteArray::number(random.below(500))
               + " q=28.0 size=" + QByteArray::number(random.below(100000)) + "kB\"}\n\n";
    }
    return out;
}

// One 8 MiB data line (a huge JSON document in one event).
QByteArray bigLine()
{
    constexpr qsizetype size = 8 * 1024 * 1024;
    XorShift random(3);
    QByteArray value;
    value.reserve(size + 128);
    value += "[";
    while (value.size() < size) {
        value += "{\"frame\":" + QByteArray::number(random.below(1000000)) + ",\"score\":0."
                 + QByteArray::number(random.below(1000000)) + "},";
    }
    value.truncate(size - 1);
    value += "]";
    return "data: " + value + "\n\n";
}

double threadCpuSeconds()
{
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return double(now.tv_sec) + double(now.tv_nsec) * 1e-9;
}

struct Input
{
    const char *name;
    const char *file;
    const char *description;
    qsizetype chunk;
    qsizetype expectedEvents;
    QByteArray bytes;
};

struct Result
{
    double bestMiBs = 0;
    double medianMiBs = 0;
    double bestCpuMiBs = 0; // by this thread's CPU time: less disturbed by a busy machine
    int runs = 0;
    qsizetype events = 0;
};

Result measure(const Input &input, int runs)
{
    std::vector<double> seconds;
    std::vector<double> cpuSeconds;
    Result result;
    // The first run warms caches and the allocator and is not counted.
    for (int run = -1; run < runs; ++run) {
        qsizetype events = 0;
        qsizetype dataUnits = 0;
        Parser parser({[&](const Event &e) {
                           ++events;
                           dataUnits += e.data.size();
                       },
                       {},
                       {}});
        const char *const begin = input.bytes.constData();
        const qsizetype total = input.bytes.size();
        const double cpuStart = threadCpuSeconds();
        const auto start = std::chrono::steady_clock::now();
        for (qsizetype at = 0; at < total; at += input.chunk)
            parser.feed(QByteArrayView(begin + at, std::min(input.chunk, total - at)));
        parser.endOfStream();
        const auto stop = std::chrono::steady_clock::now();
        const double cpuStop = threadCpuSeconds();
        if (events != input.expectedEvents || dataUnits == 0 || parser.hasError()) {
            std::fprintf(stderr, "%s: %lld events, expected %lld\n", input.name, static_cast<long long>(events),
                         static_cast<long long>(input.expectedEvents));
            std::exit(1);
        }
        result.events = events;
        if (run >= 0) {
            seconds.push_back(std::chrono::duration<double>(stop - start).count());
            cpuSeconds.push_back(cpuStop - cpuStart);
        }
    }
    std::sort(seconds.begin(), seconds.end());
    const double mib = double(input.bytes.size()) / (1024.0 * 1024.0);
    result.bestMiBs = mib / seconds.front();
    result.medianMiBs = mib / seconds[seconds.size() / 2];
    const double cpu = *std::min_element(cpuSeconds.begin(), cpuSeconds.end());
    result.bestCpuMiBs = cpu > 0 ? mib / cpu : 0;
    result.runs = runs;
    return result;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    int runs = 20;
    bool json = false;
    QString writeDir;
    QString only;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i < args.size(); ++i) {
        if (args[i] == u"--runs" && i + 1 < args.size()) {
            runs = std::max(1, args[++i].toInt());
        } else if (args[i] == u"--json") {
            json = true;
        } else if (args[i] == u"--write-inputs" && i + 1 < args.size()) {
            writeDir = args[++i];
        } else if (args[i] == u"--only" && i + 1 < args.size()) {
            only = args[++i];
        } else {
            std::fprintf(stderr, "usage: bench_sse_parser [--runs N] [--json] [--write-inputs DIR] [--only NAME]\n");
            return 2;
        }
    }

    const QByteArray events = smallEvents();
    const std::vector<Input> inputs = {
        {"small-events-64k", "small-events.sse", "100k small job-progress events, 64 KiB chunks", 64 * 1024, 100000,
         events},
        {"small-events-1460", "small-events.sse", "100k small job-progress events, 1460-byte chunks", 1460, 100000,
         events},
        {"multi-field", "multi-field.sse", "50k events with event, id, retry, 3 data lines; 64 KiB chunks", 64 * 1024,
         50000, multiFieldEvents()},
        {"8mib-line", "8mib-line.sse", "one 8 MiB data line, 1460-byte chunks", 1460, 1, bigLine()},
    };

    if (!writeDir.isEmpty()) {
        QDir().mkpath(writeDir);
        QJsonArray manifest;
        for (const Input &input : inputs) {
            QFile file(QDir(writeDir).filePath(QString::fromLatin1(input.file)));
            if (!file.open(QIODevice::WriteOnly) || file.write(input.bytes) != input.bytes.size()) {
                std::fprintf(stderr, "cannot write %s\n", qPrintable(file.fileName()));
                return 1;
            }
            manifest.append(QJsonObject{{QStringLiteral("name"), QString::fromLatin1(input.name)},
                                        {QStringLiteral("file"), QString::fromLatin1(input.file)},
                                        {QStringLiteral("description"), QString::fromLatin1(input.description)},
                                        {QStringLiteral("chunk"), qint64(input.chunk)},
                                        {QStringLiteral("events"), qint64(input.expectedEvents)}});
        }
        QFile file(QDir(writeDir).filePath(QStringLiteral("manifest.json")));
        if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(manifest).toJson()) < 0) {
            std::fprintf(stderr, "cannot write %s\n", qPrintable(file.fileName()));
            return 1;
        }
    }

    QJsonArray results;
    if (!json)
        std::printf("%-20s %10s %12s %12s %12s %12s\n", "input", "chunk", "bytes", "best MiB/s", "median MiB/s",
                    "CPU MiB/s");
    for (const Input &input : inputs) {
        if (!only.isEmpty() && only != QLatin1String(input.name))
            continue;
        const Result r = measure(input, runs);
        if (json) {
            results.append(QJsonObject{{QStringLiteral("name"), QString::fromLatin1(input.name)},
                                       {QStringLiteral("description"), QString::fromLatin1(input.description)},
                                       {QStringLiteral("chunk"), qint64(input.chunk)},
                                       {QStringLiteral("bytes"), qint64(input.bytes.size())},
                                       {QStringLiteral("events"), qint64(r.events)},
                                       {QStringLiteral("runs"), r.runs},
                                       {QStringLiteral("bestMiBs"), r.bestMiBs},
                                       {QStringLiteral("medianMiBs"), r.medianMiBs},
                                       {QStringLiteral("bestCpuMiBs"), r.bestCpuMiBs}});
        } else {
            std::printf("%-20s %10lld %12lld %12.0f %12.0f %12.0f\n", input.name, static_cast<long long>(input.chunk),
                        static_cast<long long>(input.bytes.size()), r.bestMiBs, r.medianMiBs, r.bestCpuMiBs);
            std::fflush(stdout);
        }
    }
    if (json) {
        const QJsonObject root{{QStringLiteral("parser"), QStringLiteral("clipdeck::sse::Parser")},
                               {QStringLiteral("results"), results}};
        std::fwrite(QJsonDocument(root).toJson().constData(), 1, size_t(QJsonDocument(root).toJson().size()), stdout);
    }
    return 0;
}
