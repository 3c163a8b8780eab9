#include "serversettings.h"

#include "client/jobmodel.h"
#include "client/jobsource.h"
#include "client/serverjobsource.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSettings>

#include <algorithm>

namespace clipdeck::desktop {

using client::JobSource;

ServerSettings::ServerSettings(QSettings *settings, client::JobModel *model, QObject *parent)
    : QAbstractListModel(parent), m_settings(settings), m_model(model), m_nam(new QNetworkAccessManager(this))
{
    const int n = m_settings->beginReadArray(QStringLiteral("servers"));
    for (int i = 0; i < n; ++i) {
        m_settings->setArrayIndex(i);
        Server server{normalizedUrl(m_settings->value(QStringLiteral("url")).toString()),
                      m_settings->value(QStringLiteral("token")).toString(),
                      {},
                      true};
        if (server.url.isValid())
            m_servers.append(server);
    }
    m_settings->endArray();
    for (Server &server : m_servers)
        server.source = makeSource(server);

    m_countdown.setInterval(1000);
    connect(&m_countdown, &QTimer::timeout, this, &ServerSettings::refreshStates);
}

ServerSettings::~ServerSettings()
{
    for (const Server &server : std::as_const(m_servers)) {
        if (server.source) {
            server.source->stop();
            m_model->removeSource(server.source);
        }
    }
}

void ServerSettings::start()
{
    for (const Server &server : std::as_const(m_servers)) {
        if (server.source)
            server.source->start();
    }
}

JobSource *ServerSettings::makeSource(const Server &server)
{
    auto *source = new client::ServerJobSource(server.url, server.token, nullptr, this);
    connect(source, &JobSource::connectionStateChanged, this, &ServerSettings::refreshStates);
    connect(source, &JobSource::displayNameChanged, this, &ServerSettings::refreshStates);
    m_model->addSource(source);
    emit sourceAdded(source);
    emit sourcesChanged();
    return source;
}

int ServerSettings::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_servers.size());
}

QVariant ServerSettings::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Server &server = m_servers.at(index.row());
    const JobSource *source = server.source;
    switch (role) {
    case Qt::DisplayRole:
    case DisplayNameRole: return source ? source->displayName() : server.url.host();
    case UrlRole: return server.url.toString();
    case SourceIdRole: return source ? source->sourceId() : QString();
    case StateRole: return int(source ? source->connectionState() : JobSource::ConnectionState::Offline);
    case StateTextRole: return stateText(source);
    case ErrorRole: return source ? source->errorString() : QString();
    case SessionOnlyRole: return !server.persistent;
    }
    return {};
}

QHash<int, QByteArray> ServerSettings::roleNames() const
{
    return {{UrlRole, "url"},
            {DisplayNameRole, "displayName"},
            {SourceIdRole, "sourceId"},
            {StateRole, "connectionState"},
            {StateTextRole, "stateText"},
            {ErrorRole, "error"},
            {SessionOnlyRole, "sessionOnly"}};
}

bool ServerSettings::addServer(const QString &url, const QString &token)
{
    const QUrl normalized = normalizedUrl(url);
    if (!normalized.isValid()) {
        setTest(TestState::Error, tr("“%1” is not a server address (http://host:port).").arg(url.trimmed()));
        return false;
    }
    for (const Server &server : std::as_const(m_servers)) {
        if (server.url == normalized) {
            setTest(TestState::Error, tr("%1 is already configured.").arg(normalized.toString()));
            return false;
        }
    }
    beginInsertRows({}, int(m_servers.size()), int(m_servers.size()));
    Server server{normalized, token.trimmed(), {}, true};
    server.source = makeSource(server);
    m_servers.append(server);
    endInsertRows();
    save();
    emit countChanged();
    server.source->start();
    // The form is emptied: a test result would speak of a server no longer in it.
    clearTest();
    return true;
}

void ServerSettings::removeServer(int row)
{
    if (row < 0 || row >= m_servers.size())
        return;
    beginRemoveRows({}, row, row);
    Server server = m_servers.takeAt(row);
    endRemoveRows();
    if (server.source) {
        server.source->stop();
        m_model->removeSource(server.source);
        server.source->deleteLater();
    }
    save();
    emit countChanged();
    emit sourcesChanged();
}

QString ServerSettings::addSessionServer(const QString &url, const QString &token, QString *error)
{
    const QUrl normalized = normalizedUrl(url);
    if (!normalized.isValid()) {
        if (error)
            *error = tr("“%1” is not a server address (http://host:port).").arg(url.trimmed());
        return {};
    }
    for (const Server &server : std::as_const(m_servers)) {
        if (server.url != normalized)
            continue;
        if (server.token != token.trimmed()) {
            if (error)
                *error = tr("%1 is already configured with another token.").arg(normalized.toString());
            return {};
        }
        return server.source ? server.source->sourceId() : QString();
    }
    beginInsertRows({}, int(m_servers.size()), int(m_servers.size()));
    Server server{normalized, token.trimmed(), {}, false};
    server.source = makeSource(server);
    m_servers.append(server);
    endInsertRows();
    emit countChanged();
    server.source->start();
    return server.source->sourceId();
}

QString ServerSettings::sourceIdFor(const QString &url) const
{
    const QUrl normalized = normalizedUrl(url);
    for (const Server &server : std::as_const(m_servers)) {
        if (normalized.isValid() && server.url == normalized && server.source)
            return server.source->sourceId();
    }
    return {};
}

void ServerSettings::save()
{
    // Session servers (addSessionServer) stay out of the settings.
    const auto kept = std::count_if(m_servers.cbegin(), m_servers.cend(), [](const Server &s) { return s.persistent; });
    int index = 0;
    m_settings->beginWriteArray(QStringLiteral("servers"), int(kept));
    for (const Server &server : std::as_const(m_servers)) {
        if (!server.persistent)
            continue;
        m_settings->setArrayIndex(index++);
        m_settings->setValue(QStringLiteral("url"), server.url.toString());
        m_settings->setValue(QStringLiteral("token"), server.token);
    }
    m_settings->endArray();
    m_settings->sync();
}

void ServerSettings::testConnection(const QString &url, const QString &token)
{
    const QUrl base = normalizedUrl(url);
    if (!base.isValid()) {
        setTest(TestState::Error, tr("“%1” is not a server address (http://host:port).").arg(url.trimmed()));
        return;
    }
    if (m_testReply)
        m_testReply->abort();
    const int generation = ++m_testGeneration;
    setTest(TestState::Testing, tr("Connecting to %1…").arg(base.toString()));

    auto endpoint = [base](const QString &path) {
        QUrl u = base;
        u.setPath(base.path() + path);
        return u;
    };
    QNetworkRequest health(endpoint(QStringLiteral("/healthz")));
    health.setTransferTimeout(8000);
    QNetworkReply *reply = m_nam->get(health);
    m_testReply = reply;
    connect(reply, &QNetworkReply::finished, this, [=, this] {
        reply->deleteLater();
        if (generation != m_testGeneration)
            return;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (reply->error() != QNetworkReply::NoError || status != 200) {
            setTest(TestState::Unreachable,
                    status ? tr("Unreachable: %1 answered HTTP %2 to /healthz — is it a Clipdeck server?")
                                 .arg(base.toString())
                                 .arg(status)
                           : tr("Unreachable: nothing answers at %1 (%2).").arg(base.toString(), reply->errorString()));
            return;
        }
        QNetworkRequest jobsRequest(endpoint(QStringLiteral("/api/jobs")));
        jobsRequest.setTransferTimeout(8000);
        jobsRequest.setRawHeader("Authorization", "Bearer " + token.trimmed().toUtf8());
        // The token stays with the server typed in: never after a redirect to another origin.
        jobsRequest.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::SameOriginRedirectPolicy);
        QNetworkReply *authReply = m_nam->get(jobsRequest);
        m_testReply = authReply;
        connect(authReply, &QNetworkReply::finished, this, [=, this] {
            authReply->deleteLater();
            if (generation != m_testGeneration)
                return;
            const int code = authReply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            if (code == 200)
                setTest(TestState::Ok, tr("OK: %1 is reachable and accepts the token.").arg(base.toString()));
            else if (code == 401 || code == 403)
                setTest(TestState::AuthFailed,
                        tr("Token refused: %1 is reachable but does not accept this token.").arg(base.toString()));
            else if (code)
                setTest(TestState::Error, tr("%1 answered HTTP %2 to /api/jobs.").arg(base.toString()).arg(code));
            else
                setTest(TestState::Unreachable,
                        tr("Unreachable: nothing answers at %1 (%2).").arg(base.toString(), authReply->errorString()));
        });
    });
}

QUrl ServerSettings::normalizedUrl(const QString &text)
{
    QString t = text.trimmed();
    if (t.isEmpty())
        return {};
    if (!t.contains(QLatin1String("://")))
        t.prepend(QLatin1String("http://"));
    QUrl url(t, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty()
        || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
        return {};
    QString path = url.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    url.setPath(path);
    url.setQuery(QString());
    url.setFragment(QString());
    return url;
}

QString ServerSettings::stateText(const JobSource *source)
{
    if (!source)
        return tr("Offline");
    switch (source->connectionState()) {
    case JobSource::ConnectionState::Connected: return tr("Connected");
    case JobSource::ConnectionState::Connecting: return tr("Connecting…");
    case JobSource::ConnectionState::Reconnecting:
        return source->reconnectInSeconds() >= 0 ? tr("Reconnecting in %1 s").arg(source->reconnectInSeconds())
                                                 : tr("Reconnecting…");
    case JobSource::ConnectionState::Offline: return tr("Offline");
    case JobSource::ConnectionState::AuthFailed: return tr("Token refused");
    }
    return tr("Offline");
}

void ServerSettings::clearTest()
{
    if (m_testReply)
        m_testReply->abort();
    ++m_testGeneration;
    if (m_testState != TestState::NotTested || !m_testMessage.isEmpty())
        setTest(TestState::NotTested, {});
}

void ServerSettings::setTest(TestState state, const QString &message)
{
    m_testState = state;
    m_testMessage = message;
    emit testChanged();
}

void ServerSettings::refreshStates()
{
    bool reconnecting = false;
    for (const Server &server : std::as_const(m_servers)) {
        if (server.source && server.source->connectionState() == JobSource::ConnectionState::Reconnecting)
            reconnecting = true;
    }
    if (reconnecting && !m_countdown.isActive())
        m_countdown.start();
    else if (!reconnecting)
        m_countdown.stop();
    if (!m_servers.isEmpty())
        emit dataChanged(index(0), index(int(m_servers.size()) - 1),
                         {DisplayNameRole, StateRole, StateTextRole, ErrorRole});
}

} // namespace clipdeck::desktop
