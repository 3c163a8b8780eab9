// A test-only process for tst_enginecrash: the local engine on a database file, as the desktop
// app runs it, driven by commands on stdin and telling everything on stdout, so that the test
// can kill it (SIGKILL) at any moment and start it again on the same files.
//
//   enginecrashchild DATABASE OUTPUT_DIR
//
// stdout: the engine's events in the SSE wire format (byte for byte a per-job stream's events,
// `clipdeck-cli render --events`), each written out at once, so that what the test has read
// is exactly what a watcher saw; and comments: ": open" once open() has returned (its recovery
// events before it), ": ok <command>" or ": error <code> <message>" after each command.
// stdin, one command a line: "submit KIND INPUT", "retry ID", "cancel ID", "remove ID", "quit".

#include "engine/engine.h"
#include "jobs/jobstream.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTextStream>

#include <unistd.h>

#include <cstdio>

using namespace clipdeck;

namespace {

void writeOut(const QByteArray &bytes)
{
    // Unbuffered in effect: the test reads exactly what was emitted before it kills us.
    fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    fflush(stdout);
}

void comment(const QString &text)
{
    writeOut(": " + text.toUtf8() + "\n\n");
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() != 3) {
        QTextStream(stderr) << "usage: enginecrashchild DATABASE OUTPUT_DIR\n";
        return 2;
    }
    engine::EngineSettings settings;
    settings.databasePath = args.at(1);
    settings.outputDir = args.at(2);
    // Many progress events between the batched writes: whatever is not written when the
    // process dies is as large as it gets at the product's settings (persistIntervalMs 1000).
    settings.progressIntervalMs = 20;
    engine::Engine engine(settings);
    QObject::connect(&engine, &engine::Engine::jobUpdated, [](const jobs::Job &job) { writeOut(jobs::jobEvent(job)); });
    if (!engine.open()) {
        comment(QStringLiteral("error open ") + engine.errorString());
        return 1;
    }
    writeOut(jobs::streamPreamble());
    comment(QStringLiteral("open"));

    auto run = [&](const QString &line) {
        const QStringList words = line.split(u' ', Qt::SkipEmptyParts);
        if (words.isEmpty())
            return;
        const QString command = words.first();
        std::optional<jobs::Error> error;
        if (command == u"quit") {
            engine.shutdown();
            comment(QStringLiteral("ok quit"));
            QCoreApplication::quit();
            return;
        }
        if (command == u"submit" && words.size() >= 3) {
            error = engine.submit(words.at(1), line.section(u' ', 2, -1, QString::SectionSkipEmpty)).error;
        } else if (words.size() == 2 && command == u"retry") {
            error = engine.retry(words.at(1));
        } else if (words.size() == 2 && command == u"cancel") {
            error = engine.cancel(words.at(1));
        } else if (words.size() == 2 && command == u"remove") {
            error = engine.remove(words.at(1));
        } else {
            error = jobs::Error{QStringLiteral("bad_command"), line};
        }
        comment(error ? QStringLiteral("error %1 %2").arg(error->code, error->message)
                      : QStringLiteral("ok ") + command);
    };

    QByteArray pending;
    QSocketNotifier input(STDIN_FILENO, QSocketNotifier::Read);
    QObject::connect(&input, &QSocketNotifier::activated, [&] {
        char buffer[4096];
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n <= 0) {
            input.setEnabled(false);
            QCoreApplication::quit(); // the test went away
            return;
        }
        pending.append(buffer, n);
        qsizetype end;
        while ((end = pending.indexOf('\n')) >= 0) {
            const QString line = QString::fromUtf8(pending.left(end)).trimmed();
            pending.remove(0, end + 1);
            run(line);
        }
    });
    return app.exec();
}
