#pragma once

// Routes requests by method and path pattern ("/api/jobs/{id}/stream"), after the checks every
// route shares: CORS (preflights answered here; allowed origins' headers handed to the route)
// and authentication (401 with WWW-Authenticate: Bearer). A path that matches no route is 404,
// a known path with another method 405 (with Allow). HEAD is served by GET routes.

#include "http/exchange.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

namespace clipdeck::server {

class Authenticator;
class CorsPolicy;
struct ApiError;

// One routed request.
struct Call
{
    http::ExchangePtr exchange;
    QString user;       // who is calling (empty on public routes)
    QStringList params; // the pattern's {placeholders}, percent-decoded, in order
    http::Headers cors; // CORS headers for this request's origin: every response carries them

    const http::Request &request() const { return exchange->request(); }
};

// Answers, with the call's CORS headers.
void replyJson(const Call &call, int status, const QByteArray &json, const http::Headers &extra = {});
void replyError(const Call &call, const ApiError &error, const http::Headers &extra = {});
void replyEmpty(const Call &call, int status, const http::Headers &extra = {});

class Router
{
public:
    enum class Access {
        Public,      // no token (healthz, metrics)
        Token,       // Authorization: Bearer
        StreamToken, // also ?access_token= or the clipdeck_token cookie (EventSource cannot send headers)
    };
    using Handler = std::function<void(const Call &)>;

    Router(const Authenticator &auth, const CorsPolicy &cors) : m_auth(auth), m_cors(cors) { }

    void add(const QByteArray &method, const QString &pattern, Access access, Handler handler);
    // The http::Server handler.
    void dispatch(const http::ExchangePtr &exchange) const;

private:
    struct Route
    {
        QByteArray method;
        QStringList segments; // "{...}" for placeholders
        Access access;
        Handler handler;
        QByteArray label; // "GET /api/jobs/{id}" for metrics
    };
    static bool matches(const Route &route, const QList<QString> &segments, QStringList *params);

    const Authenticator &m_auth;
    const CorsPolicy &m_cors;
    QList<Route> m_routes;
};

} // namespace clipdeck::server
