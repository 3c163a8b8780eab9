#include "command.h"
#include "progressline.h"

#include "engine/engine.h"
#include "jobs/jobstream.h"
#include "media/operation.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSocketNotifier>
#include <QTextStream>

#include <csignal>
#include <cstdio>
#include <unistd.h>

using namespace clipdeck;

namespace {

int interruptPipe[2] = {-1, -1};

void onInterrupt(int)
{
    const char byte = 1;
    [[maybe_unused]] auto n = ::write(interruptPipe[1], &byte, 1);
}

QString kindsHelp()
{
    QString text = QStringLiteral("\nKinds:\n");
    for (const auto &op : media::operations())
        text += QStringLiteral("  %1%2\n").arg(op.kind, -12).arg(op.description);
    return text;
}

} // namespace

int runRenderCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Run one job on the local FFmpeg engine, offline, and show its progress.\n"
                       "Exit code: 0 when the job completes, 1 when it fails, 130 when interrupted."));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("preset"), QStringLiteral("Transcode preset (transcode, proxy)."), QStringLiteral("P")},
        {QStringLiteral("in"), QStringLiteral("Start at time T (12.5, 01:02.5, 00:01:02.500)."), QStringLiteral("T")},
        {QStringLiteral("out"), QStringLiteral("End at time T."), QStringLiteral("T")},
        {QStringLiteral("output"), QStringLiteral("Folder for the outputs (default: the current folder)."),
         QStringLiteral("DIR")},
        {QStringLiteral("param"),
         QStringLiteral("A parameter of the kind, repeatable (e.g. count=8). v is typed as in JSON: a number, "
                        "true or false, or \"text\"; other text is a string as written."),
         QStringLiteral("k=v")},
        {QStringLiteral("events"), QStringLiteral("Write the job's event stream to stdout in SSE wire format, "
                                                  "as a Clipdeck server sends it.")},
    });
    parser.addOptions(limitOptions());
    parser.addPositionalArgument(QStringLiteral("KIND"), QStringLiteral("What to do (see Kinds)."));
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The input media file."));
    const QString help = parser.helpText() + kindsHelp();
    if (!parser.parse(QStringList{QStringLiteral("clipdeck-cli render")} + arguments)) {
        QTextStream(stderr) << "clipdeck-cli render: " << parser.errorText() << '\n';
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << help;
        return 0;
    }
    if (parser.positionalArguments().size() != 2) {
        QTextStream(stderr) << "clipdeck-cli render: expected KIND and FILE\n" << help;
        return 2;
    }
    const QString kind = parser.positionalArguments().at(0);
    const QString input = QFileInfo(parser.positionalArguments().at(1)).absoluteFilePath();

    QVariantMap params;
    // As a server refuses a JSON body with a key given twice: the last one does not silently win.
    auto add = [&params](const QString &key, const QVariant &value) {
        if (params.contains(key)) {
            QTextStream(stderr) << "clipdeck-cli render: Parameter '" << key << "' is given twice. ("
                                << media::errors::InvalidParams << ")\n";
            return false;
        }
        params.insert(key, value);
        return true;
    };
    for (const QString &pair : parser.values(QStringLiteral("param"))) {
        const qsizetype eq = pair.indexOf(u'=');
        if (eq <= 0) {
            QTextStream(stderr) << "clipdeck-cli render: --param wants k=v, not '" << pair << "'\n";
            return 2;
        }
        if (!add(pair.left(eq), media::paramFromText(pair.mid(eq + 1))))
            return 2;
    }
    for (const char *option : {"preset", "in", "out"}) {
        const QString name = QLatin1String(option);
        for (const QString &value : parser.values(name)) {
            if (!add(name, value))
                return 2;
        }
    }

    // A one-off run keeps no history: nothing to share with, or disturb, a desktop app's queue.
    engine::EngineSettings settings;
    settings.databasePath.clear();
    QString limitsError;
    if (!readLimits(parser, &settings.limits, &limitsError)) {
        QTextStream(stderr) << "clipdeck-cli render: " << limitsError << '\n';
        return 2;
    }
    settings.outputDir =
        QDir(parser.isSet(QStringLiteral("output")) ? parser.value(QStringLiteral("output")) : QDir::currentPath())
            .absolutePath();
    engine::Engine engine(settings);
    if (!engine.open()) {
        QTextStream(stderr) << "clipdeck-cli render: " << engine.errorString() << '\n';
        return 1;
    }

    const bool events = parser.isSet(QStringLiteral("events"));
    // With --events, stdout carries the stream and the progress goes to stderr.
    ProgressLine progress(events ? stderr : stdout);
    FILE *eventsOut = stdout;
    qint64 lastSeq = 0;
    QString jobId;
    int exitCode = 1;
    bool interrupted = false;
    bool readerGone = false;

    auto show = [&](const jobs::Job &job) {
        if (job.id != jobId || job.seq <= lastSeq)
            return; // the submit snapshot and the signal can carry the same seq: dedupe by seq
        lastSeq = job.seq;
        if (events && !readerGone) {
            const QByteArray bytes = jobs::jobEvent(job);
            if (fwrite(bytes.constData(), 1, size_t(bytes.size()), eventsOut) != size_t(bytes.size())
                || fflush(eventsOut) != 0) {
                // Whoever read the stream went away (e.g. `| head`): stop the job so it cleans
                // up its partial outputs, rather than dying of SIGPIPE and leaving them behind.
                readerGone = true;
                if (!job.isTerminal())
                    engine.cancel(jobId);
            }
        }
        if (!job.isTerminal()) {
            progress.update(job);
            return;
        }
        progress.update(job);
        progress.finish();
        QTextStream err(stderr);
        QTextStream out(events ? stderr : stdout);
        switch (job.status) {
        case jobs::Status::Complete:
            for (const auto &o : job.outputs)
                out << o.role << ": " << o.path << " (" << ProgressLine::formatSize(o.size) << ")\n";
            exitCode = 0;
            break;
        case jobs::Status::Canceled:
            err << "clipdeck-cli render: canceled\n";
            exitCode = interrupted ? 130 : readerGone ? 141 : 1;
            break;
        default:
            err << "clipdeck-cli render: " << (job.error ? job.error->message : QStringLiteral("failed")) << " ("
                << (job.error ? job.error->code : QStringLiteral("unknown")) << ")\n";
            exitCode = 1;
        }
        QCoreApplication::exit(exitCode);
    };
    QObject::connect(&engine, &engine::Engine::jobUpdated, &engine, show);

    if (::pipe(interruptPipe) == 0) {
        std::signal(SIGINT, onInterrupt);
        std::signal(SIGTERM, onInterrupt);
    }
    std::signal(SIGPIPE, SIG_IGN); // a closed stdout shows up as a failed write instead
    QSocketNotifier interruptNotifier(interruptPipe[0], QSocketNotifier::Read);
    QObject::connect(&interruptNotifier, &QSocketNotifier::activated, &engine, [&] {
        char byte;
        [[maybe_unused]] auto n = ::read(interruptPipe[0], &byte, 1);
        if (interrupted) {
            std::_Exit(130); // a second Ctrl-C: the user does not want to wait for cleanup
        }
        interrupted = true;
        QTextStream(stderr) << "\nclipdeck-cli render: stopping (Ctrl-C again to quit at once)\n";
        engine.cancel(jobId);
    });

    if (events) {
        const QByteArray preamble = jobs::streamPreamble();
        fwrite(preamble.constData(), 1, size_t(preamble.size()), eventsOut);
    }
    const engine::SubmitResult submitted = engine.submit(kind, input, params);
    if (!submitted.job) {
        QTextStream(stderr) << "clipdeck-cli render: " << submitted.error->message << " (" << submitted.error->code
                            << ")\n";
        if (submitted.error->code == u"unknown_kind")
            QTextStream(stderr) << kindsHelp();
        return 2;
    }
    jobId = submitted.job->id;
    show(*submitted.job);
    const int rc = QCoreApplication::exec();
    engine.shutdown();
    return rc;
}
