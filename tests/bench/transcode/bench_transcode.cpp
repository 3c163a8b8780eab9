// Runs one transcode (or times probe) in-process, for tests/bench/transcode/run.sh.
//
//   bench_transcode transcode INPUT OUTPUT_DIR BASENAME [key=value ...]
//       runTranscode with those parameters; prints "wall_seconds <s>" and the output path.
//   bench_transcode probe INPUT [RUNS]
//       probe() RUNS times (default 50); prints the mean and the fastest wall time.

#include "media/probe.h"
#include "media/transcode.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTextStream>

#include <algorithm>
#include <cstdio>

using namespace clipdeck::media;

namespace {

class QuietControl : public Control
{
public:
    bool checkpoint(const Progress &p) override
    {
        stages += p.stage == last ? 0 : 1;
        last = p.stage;
        return true;
    }
    QString last;
    int stages = 0;
};

int usage()
{
    std::fputs("usage: bench_transcode transcode INPUT OUTPUT_DIR BASENAME [key=value ...]\n"
               "       bench_transcode probe INPUT [RUNS]\n",
               stderr);
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    QTextStream out(stdout);
    if (args.size() >= 3 && args[1] == u"probe") {
        const int runs = args.size() > 3 ? args[3].toInt() : 50;
        double total = 0;
        double best = 1e9;
        for (int i = 0; i < runs; ++i) {
            QElapsedTimer t;
            t.start();
            auto info = probe(args[2]);
            const double ms = t.nsecsElapsed() / 1e6;
            if (auto *e = std::get_if<Error>(&info)) {
                out << "error " << e->code << ": " << e->message << Qt::endl;
                return 1;
            }
            total += ms;
            best = std::min(best, ms);
        }
        out << "probe_ms_mean " << total / runs << "\nprobe_ms_min " << best << Qt::endl;
        return 0;
    }
    if (args.size() < 5 || args[1] != u"transcode")
        return usage();
    QVariantMap params;
    for (int i = 5; i < args.size(); ++i) {
        const qsizetype eq = args[i].indexOf(u'=');
        if (eq <= 0)
            return usage();
        params.insert(args[i].left(eq), paramFromText(args[i].mid(eq + 1)));
    }
    QuietControl control;
    QElapsedTimer timer;
    timer.start();
    const Result result = runTranscode(Request{args[2], args[3], args[4], params}, control);
    const double seconds = timer.nsecsElapsed() / 1e9;
    if (result.error) {
        out << "error " << result.error->code << ": " << result.error->message << Qt::endl;
        return 1;
    }
    out << "wall_seconds " << seconds << "\noutput " << result.outputs.first().path << Qt::endl;
    return 0;
}
