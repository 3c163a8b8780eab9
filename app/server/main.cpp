// clipdeck-server: the hosted job server (docs/protocol.md, "HTTP API" and "Streams").

#include "server/config.h"
#include "server/instance.h"
#include "signalwatcher.h"

#include <QCoreApplication>
#include <QProcessEnvironment>
#include <QTextStream>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sys/resource.h>

namespace {

// Every connection is a descriptor, and distributions start processes with a soft limit of 1024:
// raise it to the hard limit, as a server meant for thousands of streams must.
void raiseDescriptorLimit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

} // namespace

int main(int argc, char *argv[])
{
    // Before the application object exists: Qt's glib event dispatcher costs O(N²) per wake-up
    // with thousands of sockets; QEventDispatcherUNIX is O(N) (shared/BRIEF.md, pitfalls).
    qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("clipdeck-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CLIPDECK_VERSION));
    QTextStream out(stdout);
    QTextStream err(stderr);

    const auto parsed = clipdeck::server::parseConfig(app.arguments().mid(1), QProcessEnvironment::systemEnvironment());
    if (const auto *error = std::get_if<QString>(&parsed)) {
        err << "clipdeck-server: " << *error << '\n';
        return 2;
    }
    const auto &request = std::get<clipdeck::server::ConfigRequest>(parsed);
    if (request.help) {
        out << clipdeck::server::usage();
        return 0;
    }
    if (request.version) {
        out << "clipdeck-server " << CLIPDECK_VERSION << '\n';
        return 0;
    }

    raiseDescriptorLimit();
    ::signal(SIGPIPE, SIG_IGN); // a vanished client is an EPIPE, never a dead server
    SignalWatcher signalWatcher;

    clipdeck::server::Instance instance(request.config);
    if (!instance.start()) {
        err << "clipdeck-server: " << instance.errorString() << '\n';
        return 1;
    }
    out << "clipdeck-server " << CLIPDECK_VERSION << ": data in " << instance.dataDir() << '\n';
    if (!instance.createdTokenFile().isEmpty())
        out << "access token written to " << instance.createdTokenFile() << " (readable by this user only)\n";
    if (!request.config.trustedProxies.isEmpty())
        out << "trusting X-Forwarded-For/-Proto from " << request.config.trustedProxies.size()
            << " proxy address(es)\n";
    if (request.config.benchPublish)
        out << "bench publishing enabled (POST /api/bench/jobs/{id}/publish): for benchmarks only\n";
    out << "listening on " << instance.url() << Qt::endl;

    bool stopping = false;
    QObject::connect(&signalWatcher, &SignalWatcher::received, &app, [&](int signal) {
        if (signal == SIGHUP) {
            // `systemctl reload`: the token file again; a broken one leaves the tokens in force.
            QString error;
            int count = 0;
            if (instance.reloadTokens(&error, &count))
                out << "clipdeck-server: SIGHUP, " << count << " token(s) loaded from " << instance.tokenFile()
                    << Qt::endl;
            else
                err << "clipdeck-server: SIGHUP, token file not reloaded, keeping the " << count
                    << " token(s) in force: " << error << Qt::endl;
            return;
        }
        if (stopping) {
            err << "clipdeck-server: second signal, exiting now\n";
            err.flush();
            std::_Exit(1);
        }
        stopping = true;
        out << "clipdeck-server: " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down" << Qt::endl;
        instance.shutdown(2000, [] { QCoreApplication::quit(); });
    });
    const int code = app.exec();
    out << "clipdeck-server: stopped" << Qt::endl;
    return code;
}
