#pragma once

#include <QByteArray>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

// Runs one of the project's executables to its end, for tests that drive the real programs.
namespace fixtures {

struct ProcessRun
{
    int exitCode = -1; // -1 when the process crashed, was killed or never started
    QByteArray out;
    QByteArray err;
};

// Runs `program args...` with `env` and waits for it to exit. `timeoutMs` is only a safety net
// against a hung process (killed then, exit code -1), never a measurement: pick it generously.
ProcessRun runProcess(const QString &program, const QStringList &args, int timeoutMs,
                      const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());

} // namespace fixtures
