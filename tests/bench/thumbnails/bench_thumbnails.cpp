// Benchmark driver for thumbnails and waveform (tests/bench/thumbnails/run.sh runs it).
//
//   bench_thumbnails thumbnails CLIP OUTDIR [key=value ...]
//   bench_thumbnails waveform CLIP OUTDIR [key=value ...]
//       Runs the product's runThumbnails()/runWaveform() once, in-process, exactly as the local
//       engine would, and prints one line: {"kind","clip","wallSeconds","outputs":N}. The script
//       times the whole process as well, so start-up is counted like the ffmpeg CLI's.

#include "media/thumbnails.h"
#include "media/waveform.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>

#include <cstdio>

using namespace clipdeck::media;

namespace {

class NoControl : public Control
{
public:
    bool checkpoint(const Progress &) override { return true; }
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 4 || (args[1] != u"thumbnails" && args[1] != u"waveform")) {
        std::fprintf(stderr, "usage: bench_thumbnails thumbnails|waveform CLIP OUTDIR [key=value ...]\n");
        return 2;
    }
    Request request;
    request.inputPath = QFileInfo(args[2]).absoluteFilePath();
    request.outputDir = args[3];
    request.baseName = QFileInfo(args[2]).completeBaseName();
    for (qsizetype i = 4; i < args.size(); ++i) {
        const qsizetype eq = args[i].indexOf(u'=');
        if (eq > 0)
            request.params.insert(args[i].left(eq), paramFromText(args[i].mid(eq + 1)));
    }
    const bool thumbnails = args[1] == u"thumbnails";
    NoControl control;
    QElapsedTimer clock;
    clock.start();
    const Result result = thumbnails ? runThumbnails(request, control) : runWaveform(request, control);
    const double seconds = clock.nsecsElapsed() / 1e9;
    if (result.error) {
        std::fprintf(stderr, "%s: %s\n", qPrintable(result.error->code), qPrintable(result.error->message));
        return 1;
    }
    std::printf("{\"kind\":\"%s\",\"clip\":\"%s\",\"wallSeconds\":%.4f,\"outputs\":%d}\n", qPrintable(args[1]),
                qPrintable(request.inputPath), seconds, int(result.outputs.size()));
    return 0;
}
