#pragma once

#include "http/deadlinewheel.h"
#include "http/readiness_p.h"
#include "http/server.h"

#include <QElapsedTimer>
#include <QList>
#include <QTcpServer>
#include <QTimer>

namespace clipdeck::http {

class Connection;

// QTcpServer for listening and accepting only: each accepted descriptor becomes a Connection.
class Listener : public QTcpServer
{
public:
    explicit Listener(std::function<void(int fd)> accept) : m_accept(std::move(accept)) { }

protected:
    void incomingConnection(qintptr fd) override { m_accept(int(fd)); }

private:
    std::function<void(int)> m_accept;
};

struct Server::Private
{
    Server *q;
    ServerSettings settings;
    Listener listener;
    Handler handler;
    ErrorFormatter errorFormatter;
    ResponseObserver observer;
    std::unique_ptr<Readiness> readiness = Readiness::create(); // the connections' sockets
    QList<Connection *> connections;
    QElapsedTimer clock;
    // Every connection's earliest deadline, and one timer that takes what expired: a tick costs
    // what is due, not the number of connections (deadlinewheel.h). The timer runs only while
    // some deadline is armed.
    DeadlineWheel deadlines;
    QTimer sweep;
    ServerStats counters;
    bool closingAll = false;
    std::function<void()> closeAllDone;
    QTimer graceTimer;
    mutable qint64 dateSecond = -1;
    mutable QByteArray date;

    Private(Server *server, ServerSettings s);
    static qint64 tickMs(const ServerSettings &settings);
    void accept(int fd);
    void removed(Connection *connection);
    // deadline: ms on `clock`, 0 for none.
    void armDeadline(Connection *connection, qint64 deadline);
    void expireDeadlines();
    QByteArray httpDate() const;
    std::pair<QByteArray, QByteArray> errorBody(int status, const QString &message) const;
};

} // namespace clipdeck::http
