#pragma once

// clipdeck-server's settings: defaults, then a config file (--config FILE), then environment
// variables (CLIPDECK_<KEY>), then command-line flags (--<key>), each overriding the one before.
// The same keys everywhere: `--heartbeat 15`, `CLIPDECK_HEARTBEAT=15`, `heartbeat = 15`.

#include "media/operation.h"

#include <QHostAddress>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <utility>
#include <variant>

namespace clipdeck::server {

inline constexpr quint16 DefaultPort = 8470;

struct ServerConfig
{
    QHostAddress address = QHostAddress(QHostAddress::LocalHost); // loopback only, unless asked
    quint16 port = DefaultPort;
    QString dataDir;    // empty: the XDG data location (QStandardPaths::AppLocalDataLocation)
    QString tokensFile; // empty: <dataDir>/tokens, created with a token for "local" when missing
    int heavyWorkers = 1;
    int lightWorkers = 2;
    int heartbeatMs = 15000;
    int idleTimeoutMs = 300000; // a stream without an event for this long is closed
    qint64 maxUploadBytes = qint64(4) << 30;
    qsizetype maxHeaderBytes = 16 * 1024;
    int maxStreamsPerUser = 100;
    QStringList corsOrigins;
    // Reverse proxies whose X-Forwarded-For/-Proto are believed (server/clientaddress.h).
    QList<std::pair<QHostAddress, int>> trustedProxies;
    bool accessLog = false;                // one line per request on stderr (the journal under systemd)
    int history = 500;                     // events kept for replay, per job and per user
    qint64 maxStreamBufferBytes = 1 << 20; // queued bytes past which a stream client is dropped
    int maxConnections = 10000;
    int headerTimeoutMs = 10000;
    int bodyTimeoutMs = 30000;
    int sendTimeoutMs = 60000;
    int keepAliveTimeoutMs = 60000;
    bool benchPublish = false; // POST /api/bench/jobs/{id}/publish, for benchmarks only
    // What one job (and an upload's probe) may make FFmpeg allocate: --max-frame-pixels,
    // --max-media-streams, --max-job-memory.
    media::Limits mediaLimits;
};

struct ConfigRequest
{
    ServerConfig config;
    bool help = false; // print usage() and exit 0
    bool version = false;
};

// Parses arguments (without the program name), environment and config file. Errors say which
// source, key (and line) and what was wrong.
std::variant<ConfigRequest, QString> parseConfig(const QStringList &arguments, const QProcessEnvironment &environment);
QString usage();

// "127.0.0.1:8470", "[::1]:8470", "*:8470", "localhost:0"
bool parseListen(const QString &text, QHostAddress *address, quint16 *port);

} // namespace clipdeck::server
