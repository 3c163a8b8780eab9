#pragma once

// The Clipdeck servers the user configured (URL + access token), kept in QSettings. Each one is a
// ServerJobSource in the job model while it is configured. A list model for the settings page,
// with the connection state of each server, and "Test connection" on the spot.

#include "client/jobsource.h"

#include <QAbstractListModel>
#include <QList>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <QtQml/qqmlregistration.h>

class QNetworkAccessManager;
class QNetworkReply;
class QSettings;

namespace clipdeck::client {
class JobModel;
} // namespace clipdeck::client

namespace clipdeck::desktop {

class ServerSettings : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ServerSettings is provided by the application (AppController.servers)")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(TestState testState READ testState NOTIFY testChanged)
    Q_PROPERTY(QString testMessage READ testMessage NOTIFY testChanged)

public:
    enum Role {
        UrlRole = Qt::UserRole + 1,
        DisplayNameRole,
        SourceIdRole,
        StateRole,     // JobSource::ConnectionState (an int; Offline while there is no source)
        StateTextRole, // for people: "Reconnecting in 4 s"
        ErrorRole,
        SessionOnlyRole, // bool: added for this run only (`--server`), not kept in the settings
    };
    Q_ENUM(Role)

    // What came of the last "Test connection" (or of a refused addServer()).
    enum class TestState {
        NotTested,   // nothing to say (no test yet, or the form changed since)
        Testing,     // under way
        Ok,          // reachable, and the token is accepted
        Unreachable, // nothing answers, or not a Clipdeck server
        AuthFailed,  // reachable, but the token is refused
        Error,       // not a server address, already configured, or an unexpected answer
    };
    Q_ENUM(TestState)

    // Loads the servers from settings and adds one source per server to the model (not started).
    ServerSettings(QSettings *settings, client::JobModel *model, QObject *parent = nullptr);
    ~ServerSettings() override;

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    TestState testState() const { return m_testState; }
    QString testMessage() const { return m_testMessage; }

    // Starts every server's source.
    void start();

    // Adds a server (saved at once, its source added and started). False, with a message in
    // testMessage, when the URL is not an http(s) URL or is already configured.
    Q_INVOKABLE bool addServer(const QString &url, const QString &token);
    Q_INVOKABLE void removeServer(int row);
    // A server for this run only (`clipdeck --server URL=TOKEN`): its source joins the model and
    // starts like any other, but it is never written to the settings, so a scripted run leaves
    // the user's configuration as it was. A server that is already configured is used as it is
    // when the token is the same. Returns the source's id; empty, with *error, when the URL is
    // not an http(s) URL or the server is configured with another token.
    QString addSessionServer(const QString &url, const QString &token, QString *error = nullptr);
    // The source id of the configured server at url (as normalizedUrl() reads it); empty if none.
    QString sourceIdFor(const QString &url) const;
    // GET /healthz, then an authenticated GET /api/jobs: testState/testMessage say what came of it.
    Q_INVOKABLE void testConnection(const QString &url, const QString &token);
    // Forgets the last test (and drops one under way): the form changed, its result is stale.
    Q_INVOKABLE void clearTest();

    // "http://host:8470" from what a person typed ("host:8470", trailing slashes, ...); invalid
    // when it cannot be an http(s) URL.
    static QUrl normalizedUrl(const QString &text);
    static QString stateText(const client::JobSource *source);

signals:
    void countChanged();
    void testChanged();
    void sourceAdded(clipdeck::client::JobSource *source);
    void sourcesChanged();

private:
    struct Server
    {
        QUrl url;
        QString token;
        QPointer<client::JobSource> source;
        bool persistent = true; // false: addSessionServer(), not saved
    };
    client::JobSource *makeSource(const Server &server);
    void save();
    void setTest(TestState state, const QString &message);
    void refreshStates();

    QSettings *m_settings;
    client::JobModel *m_model;
    QList<Server> m_servers;
    QNetworkAccessManager *m_nam = nullptr;
    QPointer<QNetworkReply> m_testReply;
    int m_testGeneration = 0;
    TestState m_testState = TestState::NotTested;
    QString m_testMessage;
    QTimer m_countdown; // refreshes "Reconnecting in N s" every second
};

} // namespace clipdeck::desktop
