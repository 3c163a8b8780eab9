#include "server/config.h"

#include "server/clientaddress.h"

#include <QFile>
#include <QHash>
#include <QTextStream>

#include <cmath>
#include <functional>

namespace clipdeck::server {

namespace {

enum class Kind { Text, Listen, Count, Seconds, Bytes, Flag, List, Pixels };

struct Option
{
    const char *key;
    Kind kind;
    const char *valueName;
    const char *help;
};

// The one table every source is read with.
const Option options[] = {
    {"listen", Kind::Listen, "HOST:PORT",
     "address and port to listen on (default 127.0.0.1:8470; port 0 picks a free one)"},
    {"data-dir", Kind::Text, "DIR", "jobs, media, outputs and tokens (default: the XDG data folder)"},
    {"tokens", Kind::Text, "FILE",
     "token file, one 'TOKEN USER' per line (default DATA_DIR/tokens, created on first start)"},
    {"heavy-workers", Kind::Count, "N", "encodes running at once (default 1)"},
    {"light-workers", Kind::Count, "N", "other jobs running at once (default 2)"},
    {"heartbeat", Kind::Seconds, "SECONDS", "heartbeat comment on a quiet stream this often (default 15)"},
    {"idle-timeout", Kind::Seconds, "SECONDS", "close a stream that delivered no event for this long (default 300)"},
    {"max-upload", Kind::Bytes, "BYTES", "largest upload (default 4294967296)"},
    {"max-header-bytes", Kind::Bytes, "BYTES", "largest request header section (default 16384)"},
    {"max-streams-per-user", Kind::Count, "N", "open event streams per user (default 100)"},
    {"cors-origin", Kind::List, "ORIGIN", "allow a web page of this origin (repeatable; '*' for any)"},
    {"trusted-proxy", Kind::List, "ADDR[/PREFIX]",
     "believe X-Forwarded-For/-Proto from this reverse proxy (repeatable; e.g. 127.0.0.1, 10.0.0.0/8)"},
    {"access-log", Kind::Flag, nullptr, "log every request: client address, method, path, status, time"},
    {"history", Kind::Count, "N", "events kept per job and per user to replay after a reconnect (default 500)"},
    {"max-stream-buffer", Kind::Bytes, "BYTES", "drop a stream client with more than this queued (default 1048576)"},
    {"max-connections", Kind::Count, "N", "open connections at most (default 10000)"},
    {"header-timeout", Kind::Seconds, "SECONDS", "a request head must arrive within this (default 10)"},
    {"body-timeout", Kind::Seconds, "SECONDS", "longest pause in a request body (default 30)"},
    {"send-timeout", Kind::Seconds, "SECONDS", "longest time queued output may not move (default 60)"},
    {"keepalive-timeout", Kind::Seconds, "SECONDS", "close an idle keep-alive connection after this (default 60)"},
    {"bench-publish", Kind::Flag, nullptr, "enable POST /api/bench/jobs/{id}/publish (for benchmarks only)"},
    {"max-frame-pixels", Kind::Pixels, "N|WxH",
     "largest picture a job or an upload may have, in pixels (default 8192x4320, 8K)"},
    {"max-media-streams", Kind::Count, "N", "streams a media file may have (default 64)"},
    {"max-job-memory", Kind::Bytes, "BYTES", "memory one job's decoding may hold (default 2GiB)"},
};

const Option *findOption(const QString &key)
{
    for (const Option &o : options) {
        if (key == QLatin1StringView(o.key))
            return &o;
    }
    return nullptr;
}

QString envName(const char *key)
{
    return QStringLiteral("CLIPDECK_") + QString::fromLatin1(key).toUpper().replace(u'-', u'_');
}

// key -> values, in the order given
using Values = QHash<QString, QStringList>;

std::optional<qint64> parseBytes(const QString &text)
{
    return media::parseByteCount(text);
}

std::optional<QString> apply(ServerConfig &c, const Option &o, const QStringList &values)
{
    const QString v = values.isEmpty() ? QString() : values.last().trimmed();
    const QString key = QString::fromLatin1(o.key);
    auto count = [&](int min, int *out) -> std::optional<QString> {
        bool ok = false;
        const int n = v.toInt(&ok);
        if (!ok || n < min)
            return QStringLiteral("%1 must be a whole number >= %2, not \"%3\"").arg(key).arg(min).arg(v);
        *out = n;
        return std::nullopt;
    };
    auto seconds = [&](double min, int *outMs) -> std::optional<QString> {
        bool ok = false;
        const double s = v.toDouble(&ok);
        if (!ok || !std::isfinite(s) || s < min || s > 86400.0 * 365)
            return QStringLiteral("%1 must be a number of seconds >= %2, not \"%3\"").arg(key).arg(min).arg(v);
        *outMs = int(std::lround(s * 1000));
        return std::nullopt;
    };
    auto bytes = [&](qint64 min, qint64 *out) -> std::optional<QString> {
        const auto n = parseBytes(v);
        if (!n || *n < min)
            return QStringLiteral("%1 must be a byte count >= %2 (suffixes K, M, G, KiB, MiB, GiB), not \"%3\"")
                .arg(key)
                .arg(min)
                .arg(v);
        *out = *n;
        return std::nullopt;
    };

    auto flag = [&](bool *out) -> std::optional<QString> {
        if (v.isEmpty() || v == u"1" || v.compare(u"true", Qt::CaseInsensitive) == 0
            || v.compare(u"yes", Qt::CaseInsensitive) == 0)
            *out = true;
        else if (v == u"0" || v.compare(u"false", Qt::CaseInsensitive) == 0
                 || v.compare(u"no", Qt::CaseInsensitive) == 0)
            *out = false;
        else
            return QStringLiteral("%1 must be true or false, not \"%2\"").arg(key, v);
        return std::nullopt;
    };

    const QByteArrayView k(o.key);
    if (k == "listen") {
        if (!parseListen(v, &c.address, &c.port))
            return QStringLiteral("listen must be HOST:PORT (e.g. 127.0.0.1:8470, [::1]:8470, *:8470), not \"%1\"")
                .arg(v);
    } else if (k == "data-dir") {
        if (v.isEmpty())
            return QStringLiteral("data-dir must not be empty");
        c.dataDir = v;
    } else if (k == "tokens") {
        if (v.isEmpty())
            return QStringLiteral("tokens must not be empty");
        c.tokensFile = v;
    } else if (k == "heavy-workers") {
        return count(0, &c.heavyWorkers);
    } else if (k == "light-workers") {
        return count(0, &c.lightWorkers);
    } else if (k == "heartbeat") {
        return seconds(0.05, &c.heartbeatMs);
    } else if (k == "idle-timeout") {
        return seconds(0.05, &c.idleTimeoutMs);
    } else if (k == "max-upload") {
        return bytes(1, &c.maxUploadBytes);
    } else if (k == "max-header-bytes") {
        qint64 n = 0;
        if (auto e = bytes(256, &n))
            return e;
        if (n > 1 << 20)
            return QStringLiteral("max-header-bytes must be at most 1048576");
        c.maxHeaderBytes = qsizetype(n);
    } else if (k == "max-streams-per-user") {
        return count(1, &c.maxStreamsPerUser);
    } else if (k == "cors-origin") {
        for (const QString &value : values) {
            for (const QString &origin : value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                const QString o2 = origin.trimmed();
                if (o2 != u"*" && !o2.startsWith(u"http://") && !o2.startsWith(u"https://"))
                    return QStringLiteral(
                               "cors-origin must be an origin such as https://app.example.com, or *, not \"%1\"")
                        .arg(o2);
                if (o2.endsWith(u'/'))
                    return QStringLiteral("cors-origin \"%1\": an origin has no path (drop the trailing /)").arg(o2);
                c.corsOrigins.append(o2);
            }
        }
    } else if (k == "history") {
        return count(1, &c.history);
    } else if (k == "max-stream-buffer") {
        return bytes(1024, &c.maxStreamBufferBytes);
    } else if (k == "max-connections") {
        return count(1, &c.maxConnections);
    } else if (k == "header-timeout") {
        return seconds(0.05, &c.headerTimeoutMs);
    } else if (k == "body-timeout") {
        return seconds(0.05, &c.bodyTimeoutMs);
    } else if (k == "send-timeout") {
        return seconds(0.05, &c.sendTimeoutMs);
    } else if (k == "keepalive-timeout") {
        return seconds(0.05, &c.keepAliveTimeoutMs);
    } else if (k == "max-frame-pixels") {
        const auto pixels = media::parsePixelCount(v);
        if (!pixels)
            return QStringLiteral("max-frame-pixels must be a number of pixels or WIDTHxHEIGHT (e.g. 7680x4320), "
                                  "not \"%1\"")
                .arg(v);
        c.mediaLimits.maxFramePixels = *pixels;
    } else if (k == "max-media-streams") {
        return count(1, &c.mediaLimits.maxStreams);
    } else if (k == "max-job-memory") {
        return bytes(qint64(1) << 20, &c.mediaLimits.memoryBudgetBytes);
    } else if (k == "trusted-proxy") {
        for (const QString &value : values) {
            for (const QString &entry : value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                const auto subnet = TrustedProxies::parseEntry(entry);
                if (!subnet)
                    return QStringLiteral("trusted-proxy must be an address or ADDR/PREFIX such as 127.0.0.1 or "
                                          "10.0.0.0/8, not \"%1\"")
                        .arg(entry.trimmed());
                c.trustedProxies.append(*subnet);
            }
        }
    } else if (k == "access-log") {
        return flag(&c.accessLog);
    } else if (k == "bench-publish") {
        return flag(&c.benchPublish);
    }
    return std::nullopt;
}

std::optional<QString> readConfigFile(const QString &path, Values *out)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return QStringLiteral("cannot read the config file %1: %2").arg(path, file.errorString());
    QTextStream in(&file);
    int lineNumber = 0;
    while (!in.atEnd()) {
        const QString line = in.readLine().trimmed();
        ++lineNumber;
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        const qsizetype eq = line.indexOf(u'=');
        const QString key = (eq < 0 ? line : line.left(eq)).trimmed();
        const QString value = eq < 0 ? QString() : line.mid(eq + 1).trimmed();
        const Option *o = findOption(key);
        if (!o)
            return QStringLiteral("%1:%2: unknown key \"%3\"").arg(path).arg(lineNumber).arg(key);
        if (eq < 0 && o->kind != Kind::Flag)
            return QStringLiteral("%1:%2: \"%3\" needs a value (%3 = %4)")
                .arg(path)
                .arg(lineNumber)
                .arg(key, QLatin1StringView(o->valueName));
        (*out)[key].append(value);
    }
    return std::nullopt;
}

} // namespace

bool parseListen(const QString &text, QHostAddress *address, quint16 *port)
{
    QString host;
    QString portText;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0 || text.mid(close + 1, 1) != u":")
            return false;
        host = text.mid(1, close - 1);
        portText = text.mid(close + 2);
    } else {
        const qsizetype colon = text.lastIndexOf(u':');
        if (colon <= 0)
            return false;
        host = text.left(colon);
        portText = text.mid(colon + 1);
        if (host.contains(u':'))
            return false; // IPv6 needs brackets
    }
    bool ok = false;
    const uint p = portText.toUInt(&ok);
    if (!ok || p > 65535)
        return false;
    QHostAddress a;
    if (host == u"*")
        a = QHostAddress(QHostAddress::Any);
    else if (host.compare(u"localhost", Qt::CaseInsensitive) == 0)
        a = QHostAddress(QHostAddress::LocalHost);
    else if (!a.setAddress(host))
        return false;
    *address = a;
    *port = quint16(p);
    return true;
}

QString usage()
{
    QString out =
        QStringLiteral("usage: clipdeck-server [options]\n\n"
                       "The Clipdeck job server: REST API, job event streams (SSE), uploads, local FFmpeg workers.\n"
                       "Every option can also be set as an environment variable (CLIPDECK_HEARTBEAT=5 for\n"
                       "--heartbeat 5) or in a config file (--config FILE, lines 'heartbeat = 5'); flags win over\n"
                       "the environment, which wins over the file.\n\n"
                       "  --config FILE              read settings from FILE (env CLIPDECK_CONFIG)\n");
    for (const Option &o : options) {
        QString left = QStringLiteral("  --") + QLatin1StringView(o.key);
        if (o.valueName)
            left += u' ' + QLatin1StringView(o.valueName);
        out += left.leftJustified(29) + u' ' + QLatin1StringView(o.help) + u'\n';
    }
    out += QStringLiteral("  --help                     this text\n  --version                  the version\n");
    return out;
}

std::variant<ConfigRequest, QString> parseConfig(const QStringList &arguments, const QProcessEnvironment &environment)
{
    ConfigRequest request;
    Values flags;
    QString configFile = environment.value(QStringLiteral("CLIPDECK_CONFIG"));
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        QString arg = arguments.at(i);
        if (arg == u"--help" || arg == u"-h") {
            request.help = true;
            continue;
        }
        if (arg == u"--version") {
            request.version = true;
            continue;
        }
        if (!arg.startsWith(u"--"))
            return QStringLiteral("unexpected argument \"%1\" (options start with --; see --help)").arg(arg);
        arg = arg.mid(2);
        QString value;
        bool hasValue = false;
        if (const qsizetype eq = arg.indexOf(u'='); eq >= 0) {
            value = arg.mid(eq + 1);
            arg = arg.left(eq);
            hasValue = true;
        }
        if (arg == u"config") {
            if (!hasValue) {
                if (i + 1 >= arguments.size())
                    return QStringLiteral("--config needs a FILE");
                value = arguments.at(++i);
            }
            configFile = value;
            continue;
        }
        const Option *o = findOption(arg);
        if (!o)
            return QStringLiteral("unknown option --%1 (see --help)").arg(arg);
        if (o->kind != Kind::Flag && !hasValue) {
            if (i + 1 >= arguments.size())
                return QStringLiteral("--%1 needs a value (%2)").arg(arg, QLatin1StringView(o->valueName));
            value = arguments.at(++i);
        }
        flags[arg].append(value);
    }

    Values file;
    if (!configFile.isEmpty()) {
        if (auto error = readConfigFile(configFile, &file))
            return *error;
    }
    Values env;
    for (const Option &o : options) {
        const QString name = envName(o.key);
        if (environment.contains(name))
            env[QString::fromLatin1(o.key)].append(environment.value(name));
    }

    // Lowest precedence first: each source replaces what the one before set.
    const std::pair<const Values *, QString> sources[] = {{&file, QStringLiteral("config file ") + configFile},
                                                          {&env, QStringLiteral("environment")},
                                                          {&flags, QStringLiteral("command line")}};
    for (const Option &o : options) {
        const QString key = QString::fromLatin1(o.key);
        const QByteArrayView k(o.key);
        for (const auto &[values, name] : sources) {
            const auto it = values->find(key);
            if (it == values->end())
                continue;
            // A list from one source replaces the list from the sources before it.
            if (k == "cors-origin")
                request.config.corsOrigins.clear();
            else if (k == "trusted-proxy")
                request.config.trustedProxies.clear();
            if (auto error = apply(request.config, o, *it))
                return name + QStringLiteral(": ") + *error;
        }
    }
    return request;
}

} // namespace clipdeck::server
