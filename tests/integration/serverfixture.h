#pragma once

// Shared by the tst_server_* tests: the real clipdeck-server process, an HTTP client on
// QNetworkAccessManager, a raw HTTP client (slow and broken clients), and a raw SSE client that
// can cut its connection at any byte. Every wait spins the event loop with a deadline (a
// failure, never a timing assertion).

#include "jobs/jobjson.h"
#include "sse/parser.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>
#include <QUrl>

#include <csignal>
#include <optional>

#ifdef Q_OS_LINUX
#include <sys/prctl.h>
#endif

namespace serverfixture {

// Generous: the machine running the tests may be busy compiling.
inline constexpr int WaitMs = 60000;

inline QString serverPath()
{
    QString dir = qEnvironmentVariable("CLIPDECK_BIN_DIR");
    if (dir.isEmpty())
        dir = QCoreApplication::applicationDirPath();
    return dir + QStringLiteral("/clipdeck-server");
}

struct User
{
    QByteArray name;
    QByteArray token;
};
inline const User alice{"alice", "alice-token-0123456789abcdef"};
inline const User bob{"bob", "bob-token-0123456789abcdefghi"};
inline const User carol{"carol", "carol-token-0123456789abcdefg"};
inline const User dave{"dave", "dave-token-0123456789abcdefgh"};

// One clipdeck-server process on 127.0.0.1 (a free port) with its own data directory.
class ServerProcess
{
public:
    explicit ServerProcess(QString dataDir) : m_dataDir(std::move(dataDir))
    {
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        QObject::connect(&m_process, &QProcess::readyRead, [this] { m_output += m_process.readAll(); });
#ifdef Q_OS_LINUX
        // A test that crashes must not leave its server running.
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
#endif
    }
    ~ServerProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(10000);
        }
    }

    QString tokensFile() const
    {
        return m_dataDir + QStringLiteral("/test-tokens");
    }

    // Starts with the test users' token file and the given extra arguments; waits for the
    // "listening on" line.
    bool start(const QStringList &extra = {}, bool withTokens = true)
    {
        QDir().mkpath(m_dataDir);
        QStringList args{QStringLiteral("--data-dir"), m_dataDir, QStringLiteral("--listen"),
                         QStringLiteral("127.0.0.1:0")};
        if (withTokens) {
            QFile tokens(tokensFile());
            if (!tokens.open(QIODevice::WriteOnly))
                return false;
            for (const User &u : {alice, bob, carol, dave})
                tokens.write(u.token + ' ' + u.name + '\n');
            tokens.close();
            args << QStringLiteral("--tokens") << tokensFile();
        }
        m_output.clear();
        m_port = 0;
        m_process.start(serverPath(), args + extra);
        if (!m_process.waitForStarted(10000))
            return false;
        static const QRegularExpression listening(QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)"));
        const bool up = QTest::qWaitFor(
            [&] {
                const auto m = listening.match(QString::fromUtf8(m_output));
                if (m.hasMatch())
                    m_port = quint16(m.captured(1).toUInt());
                return m_port != 0 || m_process.state() == QProcess::NotRunning;
            },
            WaitMs);
        if (!up || m_port == 0) {
            qWarning("clipdeck-server did not start: %s", m_output.constData());
            return false;
        }
        return true;
    }

    quint16 port() const
    {
        return m_port;
    }
    QUrl url(const QString &pathAndQuery) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(pathAndQuery));
    }
    QByteArray output() const
    {
        return m_output;
    }
    QProcess &process()
    {
        return m_process;
    }
    qint64 pid() const
    {
        return m_process.processId();
    }

    // SIGTERM and wait; the exit code (-1: crashed or did not stop).
    int terminate()
    {
        ::kill(pid_t(m_process.processId()), SIGTERM);
        if (!waitFinished())
            return -1;
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    }
    void killHard()
    {
        ::kill(pid_t(m_process.processId()), SIGKILL);
        waitFinished();
    }
    bool waitFinished()
    {
        return QTest::qWaitFor([&] { return m_process.state() == QProcess::NotRunning; }, WaitMs);
    }

private:
    QString m_dataDir;
    QProcess m_process;
    QByteArray m_output;
    quint16 m_port = 0;
};

struct Reply
{
    int status = 0;
    QByteArray body;
    QList<QNetworkReply::RawHeaderPair> headers;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;

    QByteArray header(const QByteArray &name) const
    {
        for (const auto &[n, v] : headers) {
            if (n.compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
    bool hasHeader(const QByteArray &name) const
    {
        for (const auto &[n, v] : headers) {
            if (n.compare(name, Qt::CaseInsensitive) == 0)
                return true;
        }
        return false;
    }
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString errorCode() const
    {
        return json().value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString();
    }
};

// One request on QNetworkAccessManager, waited for.
class Http
{
public:
    Reply send(const QByteArray &method, const QUrl &url, const QByteArray &token = {}, const QByteArray &body = {},
               const QList<std::pair<QByteArray, QByteArray>> &headers = {})
    {
        QNetworkRequest request(url);
        if (!token.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + token);
        for (const auto &[n, v] : headers)
            request.setRawHeader(n, v);
        request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        // HEAD through head(): as a custom verb QNAM would wait for the body the headers announce.
        QNetworkReply *reply = method == "HEAD" ? m_nam.head(request) : m_nam.sendCustomRequest(request, method, body);
        Reply r;
        if (!QTest::qWaitFor([&] { return reply->isFinished(); }, WaitMs)) {
            qWarning("no answer to %s %s", method.constData(), qPrintable(url.toString()));
            reply->abort();
        }
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.body = reply->readAll();
        r.headers = reply->rawHeaderPairs();
        r.error = reply->error();
        reply->deleteLater();
        return r;
    }
    Reply get(const QUrl &url, const QByteArray &token = {},
              const QList<std::pair<QByteArray, QByteArray>> &headers = {})
    {
        return send("GET", url, token, {}, headers);
    }
    Reply postJson(const QUrl &url, const QByteArray &token, const QByteArray &json)
    {
        return send("POST", url, token, json, {{"Content-Type", "application/json"}});
    }

private:
    QNetworkAccessManager m_nam;
};

// A raw HTTP client: sends exactly the bytes it is given, reads everything.
class RawClient
{
public:
    // from: the source address (any of 127.0.0.0/8 on Linux), to look like another client.
    explicit RawClient(quint16 port, qint64 readBufferSize = 0, const QHostAddress &from = {})
    {
        if (readBufferSize > 0)
            socket.setReadBufferSize(readBufferSize);
        if (!from.isNull())
            socket.bind(from);
        QObject::connect(&socket, &QTcpSocket::readyRead, [this] {
            if (reading)
                received += socket.readAll();
        });
        QObject::connect(&socket, &QTcpSocket::disconnected, [this] { closed = true; });
        socket.connectToHost(QHostAddress::LocalHost, port);
    }
    ~RawClient() { socket.disconnect(); } // its destructor's disconnected() must not reach us
    bool waitConnected()
    {
        return QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::ConnectedState; }, WaitMs);
    }
    bool waitClosed()
    {
        return QTest::qWaitFor([&] { return closed; }, WaitMs);
    }
    bool waitReceived(const QByteArray &needle)
    {
        return QTest::qWaitFor([&] { return received.contains(needle); }, WaitMs);
    }
    int status() const
    {
        if (!received.startsWith("HTTP/1.1 "))
            return 0;
        return received.mid(9, 3).toInt();
    }
    QByteArray body() const
    {
        const qsizetype end = received.indexOf("\r\n\r\n");
        return end < 0 ? QByteArray() : received.mid(end + 4);
    }

    QTcpSocket socket;
    QByteArray received;
    bool closed = false;
    bool reading = true;
};

// A raw SSE client: GET target with headers, the HTTP head parsed, the body through
// sse::Parser. cutAfter(n) ends the connection (RST) once n body bytes have arrived, feeding the
// parser only those n bytes: a drop at any point, even mid-event.
class SseClient
{
public:
    SseClient(quint16 port, const QByteArray &target, const QList<std::pair<QByteArray, QByteArray>> &headers,
              const QString &lastEventId = {})
    {
        parser.setCallbacks({[this](const clipdeck::sse::Event &e) { events.append(e); },
                             [this](QStringView text) { comments.append(text.toString()); },
                             {}});
        if (!lastEventId.isEmpty())
            parser.setLastEventId(lastEventId);
        QObject::connect(&socket, &QTcpSocket::readyRead, [this] { onData(socket.readAll()); });
        QObject::connect(&socket, &QTcpSocket::disconnected, [this] { finish(); });
        QObject::connect(&socket, &QTcpSocket::connected, [this, target, headers] {
            QByteArray request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
            for (const auto &[n, v] : headers)
                request += n + ": " + v + "\r\n";
            socket.write(request + "\r\n");
        });
        socket.connectToHost(QHostAddress::LocalHost, port);
    }

    ~SseClient() { socket.disconnect(); } // its destructor's disconnected() must not reach the parser

    void cutAfter(qint64 bodyBytes) { m_cutAt = bodyBytes; }
    bool waitOpen()
    {
        return QTest::qWaitFor([&] { return status != 0 || closed; }, WaitMs);
    }
    bool waitEvents(qsizetype n)
    {
        return QTest::qWaitFor([&] { return events.size() >= n || closed; }, WaitMs) && events.size() >= n;
    }
    bool waitClosed()
    {
        return QTest::qWaitFor([&] { return closed; }, WaitMs);
    }
    bool waitComment(const QString &needle)
    {
        return QTest::qWaitFor(
            [&] {
                for (const QString &c : std::as_const(comments)) {
                    if (c.contains(needle))
                        return true;
                }
                return closed;
            },
            WaitMs);
    }
    QString lastEventId() const { return parser.lastEventId(); }
    QByteArray header(const QByteArray &name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }

    QTcpSocket socket;
    clipdeck::sse::Parser parser;
    int status = 0;
    QByteArray head;
    QByteArray body; // every body byte fed to the parser
    QList<clipdeck::sse::Event> events;
    QStringList comments;
    bool closed = false; // by the server, or by the cut
    bool cut = false;

private:
    void onData(QByteArray bytes)
    {
        if (closed)
            return;
        if (status == 0) {
            m_pending += bytes;
            const qsizetype end = m_pending.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            head = m_pending.left(end);
            status = head.mid(9, 3).toInt();
            bytes = m_pending.mid(end + 4);
            m_pending.clear();
        }
        if (status != 200) {
            // Not a stream (204, 401, 404, 429, ...): a complete response, the connection kept.
            body += bytes;
            if (body.size() >= header("Content-Length").toLongLong())
                finish();
            return;
        }
        if (m_cutAt >= 0 && body.size() + bytes.size() >= m_cutAt) {
            bytes.truncate(m_cutAt - body.size());
            body += bytes;
            parser.feed(bytes);
            cut = true;
            socket.abort();
            finish();
            return;
        }
        body += bytes;
        parser.feed(bytes);
    }
    void finish()
    {
        if (closed)
            return;
        closed = true;
        parser.endOfStream();
    }

    QByteArray m_pending;
    qint64 m_cutAt = -1;
};

inline QList<std::pair<QByteArray, QByteArray>> bearer(const User &u)
{
    return {{"Authorization", "Bearer " + u.token}};
}

// The job of an SSE event's data (schema v1), or nullopt.
inline std::optional<clipdeck::jobs::Job> jobOf(const clipdeck::sse::Event &e)
{
    return clipdeck::jobs::decodeJob(e.data.toUtf8()).job;
}

} // namespace serverfixture
