// clipdeck-cli watch URL: prints any Server-Sent Events stream, as text for people or as JSON
// lines for scripts, reconnecting the way the desktop client does.

#include "command.h"

#include "sse/eventsource.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QEventLoop>
#include <QTimer>
#include <QUrl>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#ifdef Q_OS_UNIX
#include <QSocketNotifier>

#include <csignal>
#include <fcntl.h>
#include <unistd.h>
#endif

using clipdeck::sse::Event;
using clipdeck::sse::EventSource;

namespace {

constexpr int ExitOk = 0;
constexpr int ExitFatal = 1;
constexpr int ExitUsage = 2;
// Ended by a signal: 128 + its number, as a shell reports a process it killed, so a script can
// tell an interrupted watch (130 for SIGINT, 143 for SIGTERM) from a stream that ended.
constexpr int ExitSignalBase = 128;

// Every line is written and flushed at once: a script reading the pipe must see an event when
// it arrives, not when a stdio buffer fills.
void writeLine(FILE *to, const QByteArray &line)
{
    std::fwrite(line.constData(), 1, size_t(line.size()), to);
    std::fputc('\n', to);
    std::fflush(to);
}

void appendJsonString(QByteArray &out, const QString &text)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    const QByteArray utf8 = text.toUtf8();
    for (const char c : utf8) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += "\\u00";
                out += hex[(c >> 4) & 0xf];
                out += hex[c & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

// Keys in a fixed order (QJsonObject would sort them), "type" first.
class JsonLine
{
public:
    explicit JsonLine(const char *type)
    {
        m_out = "{\"type\":\"";
        m_out += type;
        m_out += '"';
    }
    JsonLine &add(const char *key, const QString &value)
    {
        appendKey(key);
        appendJsonString(m_out, value);
        return *this;
    }
    JsonLine &add(const char *key, int value)
    {
        appendKey(key);
        m_out += QByteArray::number(value);
        return *this;
    }
    JsonLine &add(const char *key, bool value)
    {
        appendKey(key);
        m_out += value ? "true" : "false";
        return *this;
    }
    void write() { writeLine(stdout, m_out + '}'); }

private:
    void appendKey(const char *key)
    {
        m_out += ",\"";
        m_out += key;
        m_out += "\":";
    }
    QByteArray m_out;
};

void writeText(FILE *to, const QString &text)
{
    writeLine(to, text.toUtf8());
}

QString formatDelay(int milliseconds)
{
    if (milliseconds < 1000)
        return QString::number(milliseconds) + QStringLiteral(" ms");
    return QString::number(milliseconds / 1000.0, 'f', 1) + QStringLiteral(" s");
}

#ifdef Q_OS_UNIX
int signalPipe[2] = {-1, -1};

void onTerminationSignal(int signal)
{
    const char byte = char(signal);
    [[maybe_unused]] const auto written = ::write(signalPipe[1], &byte, 1);
}

// SIGINT/SIGTERM become an event-loop notification, so the stream is closed and the last line
// flushed like any other end. The handler stays installed: `timeout -s INT` signals both the
// child and its process group, and that second copy must not turn a clean exit into a kill.
// Nothing in the loop blocks (the EventSource reads incrementally and caps a response head), so
// the notification is handled at once, whatever the server sends.
std::unique_ptr<QSocketNotifier> installSignalNotifier(std::function<void(int signal)> onSignal)
{
    if (signalPipe[0] < 0) {
        if (::pipe(signalPipe) != 0)
            return nullptr;
        ::fcntl(signalPipe[0], F_SETFD, FD_CLOEXEC);
        ::fcntl(signalPipe[1], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction action = {};
    action.sa_handler = onTerminationSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    auto notifier = std::make_unique<QSocketNotifier>(signalPipe[0], QSocketNotifier::Read);
    QObject::connect(notifier.get(), &QSocketNotifier::activated, notifier.get(), [onSignal] {
        char byte = 0;
        if (::read(signalPipe[0], &byte, 1) == 1)
            onSignal(int(byte));
    });
    return notifier;
}
#endif

std::optional<int> parseNonNegative(const QString &text)
{
    bool ok = false;
    const int value = text.toInt(&ok);
    if (!ok || value < 0)
        return std::nullopt;
    return value;
}

int usageError(const QString &message)
{
    writeText(stderr, QStringLiteral("clipdeck-cli watch: ") + message);
    writeText(stderr, QStringLiteral("Try 'clipdeck-cli watch --help'."));
    return ExitUsage;
}

} // namespace

int runWatchCommand(const QStringList &arguments)
{
    QCommandLineParser cli;
    cli.setApplicationDescription(
        QStringLiteral("Prints a Server-Sent Events stream, reconnecting with backoff and Last-Event-ID like the\n"
                       "Clipdeck client. Exits 0 when the server ends the stream for good (HTTP 204) or after\n"
                       "--max-events events, 1 on a fatal error (e.g. HTTP 404, or a response head over 64 KiB),\n"
                       "2 on a usage error, 130 on SIGINT and 143 on SIGTERM (after closing the stream).\n"
                       "Authorization, Cookie, Proxy-Authorization and every --sensitive-header are not sent\n"
                       "on after a redirect to another origin (scheme, host or port)."));
    cli.addPositionalArgument(QStringLiteral("URL"), QStringLiteral("The stream (http or https)."));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    const QCommandLineOption header(
        QStringLiteral("header"),
        QStringLiteral("Send a request header, e.g. \"Authorization: Bearer T\" (repeatable)."),
        QStringLiteral("Name: value"));
    const QCommandLineOption sensitiveHeader(
        QStringLiteral("sensitive-header"),
        QStringLiteral("A header that carries a secret (e.g. X-Api-Key): like Authorization and Cookie, it is "
                       "not sent after a redirect to another origin (repeatable)."),
        QStringLiteral("NAME"));
    const QCommandLineOption method(QStringLiteral("method"), QStringLiteral("Request method (default GET)."),
                                    QStringLiteral("M"));
    const QCommandLineOption body(QStringLiteral("body"), QStringLiteral("Request body, resent on every reconnect."),
                                  QStringLiteral("TEXT"));
    const QCommandLineOption lastEventId(QStringLiteral("last-event-id"),
                                         QStringLiteral("Resume after this event ID (sent as Last-Event-ID)."),
                                         QStringLiteral("ID"));
    const QCommandLineOption readTimeout(
        QStringLiteral("read-timeout"),
        QStringLiteral("Reconnect when nothing arrives for MS milliseconds (default: never)."), QStringLiteral("MS"));
    const QCommandLineOption retry(
        QStringLiteral("retry"),
        QStringLiteral("Initial reconnection delay in milliseconds (default %1; the server's retry: overrides it).")
            .arg(EventSource::DefaultInitialReconnectDelay),
        QStringLiteral("MS"));
    const QCommandLineOption maxEvents(QStringLiteral("max-events"), QStringLiteral("Stop after N events."),
                                       QStringLiteral("N"));
    const QCommandLineOption comments(QStringLiteral("comments"),
                                      QStringLiteral("Print comment lines (heartbeats) too."));
    const QCommandLineOption jsonl(
        QStringLiteral("jsonl"),
        QStringLiteral("One JSON object per line on stdout: open, event, comment, error, closed."));
    cli.addOptions(
        {help, header, sensitiveHeader, method, body, lastEventId, readTimeout, retry, maxEvents, comments, jsonl});

    if (!cli.parse(QStringList{QStringLiteral("clipdeck-cli watch")} + arguments))
        return usageError(cli.errorText());
    if (cli.isSet(help)) {
        QString text = cli.helpText();
        text = QStringLiteral("Usage: clipdeck-cli watch [options] URL") + text.mid(text.indexOf(u'\n'));
        std::fputs(text.toUtf8().constData(), stdout);
        return ExitOk;
    }
    const QStringList positional = cli.positionalArguments();
    if (positional.size() != 1)
        return usageError(positional.isEmpty() ? QStringLiteral("missing URL") : QStringLiteral("expected one URL"));
    const QUrl url(positional.constFirst(), QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty() || (url.scheme() != u"http" && url.scheme() != u"https"))
        return usageError(QStringLiteral("not an http or https URL: %1").arg(positional.constFirst()));

    EventSource source(url);
    for (const QString &h : cli.values(header)) {
        const qsizetype colon = h.indexOf(u':');
        const QString name = colon > 0 ? h.left(colon).trimmed() : QString();
        if (name.isEmpty() || name.contains(u' '))
            return usageError(QStringLiteral("--header wants \"Name: value\", got \"%1\"").arg(h));
        source.setRawHeader(name.toLatin1(), h.mid(colon + 1).trimmed().toUtf8());
    }
    QStringList sensitive;
    for (const QString &name : cli.values(sensitiveHeader)) {
        if (name.trimmed().isEmpty() || name.contains(u' ') || name.contains(u':'))
            return usageError(QStringLiteral("--sensitive-header wants a header name, got \"%1\"").arg(name));
        sensitive << name.trimmed();
    }
    source.setSensitiveHeaders(sensitive);
    if (cli.isSet(method))
        source.setMethod(cli.value(method).toLatin1());
    if (cli.isSet(body))
        source.setBody(cli.value(body).toUtf8());
    if (cli.isSet(lastEventId))
        source.setLastEventId(cli.value(lastEventId));
    if (cli.isSet(readTimeout)) {
        const auto ms = parseNonNegative(cli.value(readTimeout));
        if (!ms)
            return usageError(
                QStringLiteral("--read-timeout wants milliseconds, got \"%1\"").arg(cli.value(readTimeout)));
        source.setReadTimeout(*ms);
    }
    if (cli.isSet(retry)) {
        const auto ms = parseNonNegative(cli.value(retry));
        if (!ms)
            return usageError(QStringLiteral("--retry wants milliseconds, got \"%1\"").arg(cli.value(retry)));
        source.setInitialReconnectDelay(*ms);
    }
    int eventLimit = 0;
    if (cli.isSet(maxEvents)) {
        const auto n = parseNonNegative(cli.value(maxEvents));
        if (!n || *n == 0)
            return usageError(
                QStringLiteral("--max-events wants a positive number, got \"%1\"").arg(cli.value(maxEvents)));
        eventLimit = *n;
    }
    const bool asJson = cli.isSet(jsonl);
    const bool showComments = cli.isSet(comments);

    QEventLoop loop;
    int eventCount = 0;
    bool fatal = false;
    int endedBySignal = 0;

    QObject::connect(&source, &EventSource::opened, &loop, [&] {
        if (asJson)
            JsonLine("open").write();
        else
            writeText(stderr, QStringLiteral("* open %1").arg(url.toDisplayString()));
    });
    QObject::connect(&source, &EventSource::eventReceived, &loop, [&](const Event &event) {
        if (asJson) {
            JsonLine("event").add("event", event.type).add("id", event.lastEventId).add("data", event.data).write();
        } else {
            QString text = QStringLiteral("event: ") + event.type;
            if (!event.lastEventId.isEmpty())
                text += QStringLiteral("  id: ") + event.lastEventId;
            for (const QString &line : event.data.split(u'\n'))
                text += QStringLiteral("\n    ") + line;
            writeText(stdout, text);
        }
        if (eventLimit > 0 && ++eventCount >= eventLimit)
            source.close();
    });
    if (showComments) {
        QObject::connect(&source, &EventSource::commentReceived, &loop, [&](const QString &text) {
            if (asJson)
                JsonLine("comment").add("text", text).write();
            else
                writeText(stdout, QStringLiteral(":") + text);
        });
    }
    QObject::connect(
        &source, &EventSource::errorOccurred, &loop, [&](const QString &message, int status, bool willReconnect) {
            if (!willReconnect)
                fatal = true;
            if (asJson)
                JsonLine("error")
                    .add("message", message)
                    .add("status", status)
                    .add("reconnecting", willReconnect)
                    .write();
            if (willReconnect) {
                if (!asJson)
                    writeText(
                        stderr,
                        QStringLiteral("! %1; reconnecting in %2").arg(message, formatDelay(source.reconnectDelay())));
            } else {
                writeText(stderr, QStringLiteral("clipdeck-cli watch: ") + message);
            }
        });
    QObject::connect(&source, &EventSource::closed, &loop, [&] {
        if (asJson)
            JsonLine("closed").write();
        else
            writeText(stderr, QStringLiteral("* closed"));
        loop.exit(endedBySignal ? ExitSignalBase + endedBySignal : fatal ? ExitFatal : ExitOk);
    });

#ifdef Q_OS_UNIX
    const auto signalNotifier = installSignalNotifier([&](int signal) {
        if (endedBySignal)
            return; // a second copy (see above): already on the way out
        endedBySignal = signal;
        if (source.readyState() == EventSource::Closed)
            loop.exit(ExitSignalBase + signal); // between the last close and the loop's end
        else
            source.close(); // "closed" is printed, then the loop ends with 128 + signal
    });
#endif

    // Opened from the loop, so even an immediate close has a loop to end.
    QTimer::singleShot(0, &source, [&source] { source.open(); });
    return loop.exec();
}
