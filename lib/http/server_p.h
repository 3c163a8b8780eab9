#pragma once

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
    explicit Listener(std::function<void(int fd)> accept) : m_accept(std::move(accept)) {}

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
    QTimer sweep; // checks every connection's deadlines: one timer, not one per connection
    QElapsedTimer clock;
    ServerStats counters;
    bool closingAll = false;
    std::function<void()> closeAllDone;
    QTimer graceTimer;
    mutable qint64 dateSecond = -1;
    mutable QByteArray date;

    Private(Server *server, ServerSettings s);
    void accept(int fd);
    void removed(Connection *connection);
    QByteArray httpDate() const;
    std::pair<QByteArray, QByteArray> errorBody(int status, const QString &message) const;
};

} // namespace clipdeck::http
