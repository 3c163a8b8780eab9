#include "server/instance.h"

#include "engine/engine.h"
#include "http/server.h"
#include "server/apierror.h"
#include "server/auth.h"
#include "server/benchroutes.h"
#include "server/clientaddress.h"
#include "server/cors.h"
#include "server/database.h"
#include "server/eventbridge.h"
#include "server/jobowners.h"
#include "server/jobroutes.h"
#include "server/jobservice.h"
#include "server/jobview.h"
#include "server/mediaroutes.h"
#include "server/mediastore.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/streamhub.h"
#include "server/streamroutes.h"
#include "server/systemroutes.h"
#include "server/tokenstore.h"

#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QStandardPaths>

// Off unless asked for: --access-log, or QT_LOGGING_RULES="clipdeck.server.access.info=true".
Q_LOGGING_CATEGORY(lcAccess, "clipdeck.server.access", QtWarningMsg)

namespace clipdeck::server {

struct Instance::Parts
{
    TokenStore tokens;
    Authenticator auth{tokens};
    CorsPolicy cors;
    Database database;
    std::unique_ptr<MediaStore> media;
    std::unique_ptr<JobOwners> owners;
    std::unique_ptr<engine::Engine> engine;
    std::unique_ptr<JobView> view;
    std::unique_ptr<StreamHub> hub;
    std::unique_ptr<JobService> jobs;
    std::unique_ptr<EventBridge> bridge;
    Metrics metrics;
    std::unique_ptr<Router> router;
    std::unique_ptr<MediaRoutes> mediaRoutes;
    std::unique_ptr<JobRoutes> jobRoutes;
    std::unique_ptr<StreamRoutes> streamRoutes;
    std::unique_ptr<SystemRoutes> systemRoutes;
    std::unique_ptr<BenchRoutes> benchRoutes;
    std::unique_ptr<http::Server> http;

    ~Parts()
    {
        // Connections first (nothing arrives any more), then what they used.
        http.reset();
        bridge.reset();
        hub.reset();
    }
};

Instance::Instance(ServerConfig config, QObject *parent) : QObject(parent), m_config(std::move(config))
{
    if (m_config.dataDir.isEmpty())
        m_config.dataDir = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
    m_config.dataDir = QFileInfo(m_config.dataDir).absoluteFilePath();
}

Instance::~Instance() = default;

QString Instance::dataDir() const
{
    return m_config.dataDir;
}

QString Instance::createdTokenFile() const
{
    return m_createdTokenFile;
}

QString Instance::url() const
{
    if (!m_parts || !m_parts->http)
        return {};
    const QHostAddress a = m_parts->http->serverAddress();
    const QString host = a.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + a.toString() + u']' : a.toString();
    return QStringLiteral("http://%1:%2").arg(host).arg(m_parts->http->serverPort());
}

bool Instance::start()
{
    auto p = std::make_unique<Parts>();
    const QString dir = m_config.dataDir;
    if (!QDir().mkpath(dir)) {
        m_error = QStringLiteral("cannot create the data directory %1").arg(dir);
        return false;
    }

    // Who may call.
    QString tokenFile = m_config.tokensFile;
    if (tokenFile.isEmpty()) {
        tokenFile = dir + QStringLiteral("/tokens");
        if (!QFileInfo::exists(tokenFile)) {
            if (p->tokens.createFile(tokenFile, QStringLiteral("local")).isEmpty()) {
                m_error = p->tokens.errorString();
                return false;
            }
            m_createdTokenFile = tokenFile;
        }
    }
    if (!p->tokens.load(tokenFile)) {
        m_error = p->tokens.errorString();
        return false;
    }
    m_tokenFile = tokenFile;
    p->cors = CorsPolicy(m_config.corsOrigins);

    // What is kept.
    if (!p->database.open(dir + QStringLiteral("/server.sqlite"))) {
        m_error = p->database.errorString();
        return false;
    }
    p->media = std::make_unique<MediaStore>(p->database, dir + QStringLiteral("/media"));
    if (!p->media->open(&m_error))
        return false;
    p->owners = std::make_unique<JobOwners>(p->database);
    if (!p->owners->load(&m_error))
        return false;

    engine::EngineSettings settings;
    settings.databasePath = dir + QStringLiteral("/jobs.sqlite");
    settings.outputDir = dir + QStringLiteral("/outputs");
    settings.heavyConcurrency = m_config.heavyWorkers;
    settings.lightConcurrency = m_config.lightWorkers;
    settings.limits = m_config.mediaLimits;
    p->engine = std::make_unique<engine::Engine>(settings);
    p->view = std::make_unique<JobView>(*p->media);

    HubSettings hub;
    hub.heartbeatMs = m_config.heartbeatMs;
    hub.idleTimeoutMs = m_config.idleTimeoutMs;
    hub.maxQueuedBytes = m_config.maxStreamBufferBytes;
    hub.maxStreamsPerUser = m_config.maxStreamsPerUser;
    hub.history = m_config.history;
    p->hub = std::make_unique<StreamHub>(hub);
    p->jobs = std::make_unique<JobService>(*p->engine, *p->owners, *p->media, *p->view, settings.outputDir);
    // Connected before the engine opens, so its recovery events (jobs interrupted by a crash)
    // reach the history like any other.
    p->bridge = std::make_unique<EventBridge>(*p->engine, *p->owners, *p->view, *p->hub);
    if (!p->engine->open()) {
        m_error = p->engine->errorString();
        return false;
    }

    // The API.
    p->router = std::make_unique<Router>(p->auth, p->cors);
    p->mediaRoutes =
        std::make_unique<MediaRoutes>(*p->media, p->metrics, m_config.maxUploadBytes, m_config.mediaLimits);
    p->mediaRoutes->install(*p->router);
    p->jobRoutes = std::make_unique<JobRoutes>(*p->jobs);
    p->jobRoutes->install(*p->router);
    StreamRoutes::ExtraLookup extra;
    if (m_config.benchPublish) {
        p->benchRoutes = std::make_unique<BenchRoutes>(*p->hub, *p->owners);
        p->benchRoutes->install(*p->router);
        extra = [bench = p->benchRoutes.get()](const QString &user, const QString &id) {
            return bench->current(user, id);
        };
    }
    p->streamRoutes = std::make_unique<StreamRoutes>(*p->hub, *p->jobs, extra);
    p->streamRoutes->install(*p->router);
    m_uptime.start();
    Parts *parts = p.get();
    p->systemRoutes = std::make_unique<SystemRoutes>([this, parts] {
        Metrics::State state;
        state.hub = parts->hub->counters();
        state.http = parts->http->stats();
        state.jobsByStatus = parts->jobs->countByStatus();
        state.uptimeSeconds = m_uptime.elapsed() / 1000;
        return parts->metrics.render(state);
    });
    p->systemRoutes->install(*p->router);

    http::ServerSettings httpSettings;
    httpSettings.limits.maxHeaderBytes = m_config.maxHeaderBytes;
    httpSettings.limits.maxBodyBytes = 1 << 20; // routes that take more say so (uploads)
    httpSettings.maxConnections = m_config.maxConnections;
    httpSettings.headerTimeoutMs = m_config.headerTimeoutMs;
    httpSettings.bodyTimeoutMs = m_config.bodyTimeoutMs;
    httpSettings.sendTimeoutMs = m_config.sendTimeoutMs;
    httpSettings.idleTimeoutMs = m_config.keepAliveTimeoutMs;
    p->http = std::make_unique<http::Server>(httpSettings);
    p->http->setHandler([router = p->router.get()](const http::ExchangePtr &exchange) { router->dispatch(exchange); });
    p->http->setErrorFormatter([](int status, const QString &message) {
        return std::pair{QByteArrayLiteral("application/json"), errorJson(QString(codeForHttpStatus(status)), message)};
    });
    if (m_config.accessLog)
        QLoggingCategory::setFilterRules(QStringLiteral("clipdeck.server.access.info=true"));
    p->http->setResponseObserver([parts, proxies = TrustedProxies(m_config.trustedProxies)](
                                     const http::Exchange &exchange, int status, double ms) {
        parts->metrics.observeRequest(exchange.label(), status, ms);
        if (!lcAccess().isInfoEnabled())
            return;
        const http::Request &request = exchange.request();
        const ClientAddress client = resolveClient(exchange.peerAddress(), request.header("x-forwarded-for"),
                                                   request.header("x-forwarded-proto"), proxies);
        // The path only: a query string may hold an access token.
        qCInfo(lcAccess, "%s %s %s %s %d %.2f ms", qPrintable(client.address.toString()), qPrintable(client.scheme),
               request.method().toByteArray().constData(), request.path().toByteArray().constData(), status, ms);
    });
    if (!p->http->listen(m_config.address, m_config.port)) {
        m_error = QStringLiteral("cannot listen on %1:%2: %3")
                      .arg(m_config.address.toString())
                      .arg(m_config.port)
                      .arg(p->http->errorString());
        return false;
    }
    m_parts = std::move(p);
    return true;
}

bool Instance::reloadTokens(QString *error, int *count)
{
    if (!m_parts)
        return false;
    TokenStore fresh;
    if (!fresh.load(m_tokenFile)) {
        *error = fresh.errorString();
        *count = m_parts->tokens.size();
        return false;
    }
    m_parts->tokens = std::move(fresh); // the Authenticator reads this very object
    *count = m_parts->tokens.size();
    return true;
}

void Instance::shutdown(int graceMs, std::function<void()> done)
{
    if (!m_parts) {
        if (done)
            done();
        return;
    }
    m_parts->http->stopListening();
    // Running jobs end "failed: interrupted" — recorded, and streamed to whoever watches.
    m_parts->engine->shutdown();
    m_parts->hub->shutdown();
    m_parts->http->closeAll(graceMs, std::move(done));
}

} // namespace clipdeck::server
