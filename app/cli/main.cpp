#include "command.h"

#include <QCoreApplication>
#include <QTextStream>

#include <array>
#include <cstdio>

namespace {

const std::array commands{
    CliCommand{"probe", "show what a media file contains", runProbeCommand},
    CliCommand{"render", "run a job on the local FFmpeg engine with a progress bar", runRenderCommand},
    CliCommand{"watch", "print any Server-Sent Events stream (curl -N that understands SSE)", runWatchCommand},
};

int usage(FILE *to)
{
    QTextStream out(to);
    out << "usage: clipdeck-cli <command> [options]\n\ncommands:\n";
    for (const auto &c : commands)
        out << "  " << QString::fromLatin1(c.name).leftJustified(10) << c.summary << '\n';
    out << "\n'clipdeck-cli <command> --help' describes a command.\n";
    return to == stdout ? 0 : 2;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("clipdeck-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CLIPDECK_VERSION));

    QStringList args = app.arguments().mid(1);
    if (args.isEmpty())
        return usage(stderr);
    const QString name = args.takeFirst();
    if (name == u"--help" || name == u"-h" || name == u"help")
        return usage(stdout);
    if (name == u"--version") {
        QTextStream(stdout) << "clipdeck-cli " << CLIPDECK_VERSION << '\n';
        return 0;
    }
    for (const auto &c : commands) {
        if (name == QLatin1String(c.name))
            return c.run(args);
    }
    QTextStream(stderr) << "clipdeck-cli: unknown command '" << name << "'\n";
    return usage(stderr);
}
