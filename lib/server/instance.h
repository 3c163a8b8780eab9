#pragma once

// One running clipdeck-server: builds the parts from the configuration, wires them together,
// starts and stops them. It holds no logic of its own — that is in the parts:
//   TokenStore/Authenticator (who), CorsPolicy, Database, MediaStore, JobOwners, the Engine,
//   JobView, JobService, StreamHub, EventBridge (engine -> hub), Metrics, the Router and the
//   route groups, and the http::Server.

#include "server/config.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

namespace clipdeck::server {

class Instance : public QObject
{
    Q_OBJECT

public:
    explicit Instance(ServerConfig config, QObject *parent = nullptr);
    ~Instance() override;

    // Opens everything and starts listening. false: errorString() says what failed.
    bool start();
    QString errorString() const { return m_error; }

    QString dataDir() const;
    QString url() const;              // http://HOST:PORT of the listening socket
    QString createdTokenFile() const; // set when start() created the token file
    QString tokenFile() const { return m_tokenFile; }

    // Reads the token file again (SIGHUP, `systemctl reload`): new requests see the new tokens;
    // open streams stay open. A file that does not load changes nothing: false, and *error says
    // why. *count: the tokens now in force.
    bool reloadTokens(QString *error, int *count);

    // Clean shutdown: stop accepting, interrupt running jobs (recorded, and streamed as
    // failed "interrupted"), give every stream a final comment and end it, then close the
    // connections (at most graceMs). done() runs when all is closed.
    void shutdown(int graceMs, std::function<void()> done);

private:
    struct Parts;
    ServerConfig m_config;
    std::unique_ptr<Parts> m_parts;
    QString m_error;
    QString m_createdTokenFile;
    QString m_tokenFile;
    QElapsedTimer m_uptime;
};

} // namespace clipdeck::server
