#pragma once

#include <QStringList>

// One subcommand of clipdeck-cli. Each lives in its own <name>command.cpp.
struct CliCommand
{
    const char *name;
    const char *summary;
    // Runs with the arguments after the command name; returns the process exit code.
    // A QCoreApplication exists.
    int (*run)(const QStringList &arguments);
};

int runProbeCommand(const QStringList &arguments);
int runRenderCommand(const QStringList &arguments);
int runWatchCommand(const QStringList &arguments);
