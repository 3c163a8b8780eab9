#pragma once

#include <QCommandLineOption>
#include <QList>
#include <QStringList>

QT_BEGIN_NAMESPACE
class QCommandLineParser;
QT_END_NAMESPACE

namespace clipdeck::media {
struct Limits;
}

// One subcommand of clipdeck-cli. Each lives in its own <name>command.cpp.
struct CliCommand
{
    const char *name;
    const char *summary;
    // Runs with the arguments after the command name; returns the process exit code.
    // A QCoreApplication exists.
    int (*run)(const QStringList &arguments);
};

// --max-frame-pixels, --max-media-streams, --max-job-memory (media::Limits, the same options as
// clipdeck-server's), for the commands that open media.
QList<QCommandLineOption> limitOptions();
// The limits the options give (defaults for those not given); false with `error` on a bad value.
bool readLimits(const QCommandLineParser &parser, clipdeck::media::Limits *limits, QString *error);

int runProbeCommand(const QStringList &arguments);
int runRenderCommand(const QStringList &arguments);
int runWatchCommand(const QStringList &arguments);
