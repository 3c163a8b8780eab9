#include "server/cors.h"

namespace clipdeck::server {

CorsPolicy::CorsPolicy(QStringList origins)
{
    for (const QString &o : origins) {
        if (o == u"*")
            m_any = true;
        else
            m_origins.append(o.toUtf8());
    }
}

bool CorsPolicy::allows(QByteArrayView origin) const
{
    if (origin.isEmpty())
        return false;
    if (m_any)
        return true;
    for (const QByteArray &o : m_origins) {
        // Scheme and host are case-insensitive; the list is written by an administrator.
        if (http::equalsIgnoringCase(o, origin))
            return true;
    }
    return false;
}

http::Headers CorsPolicy::responseHeaders(const http::Request &request) const
{
    const QByteArrayView origin = request.header("origin");
    if (!allows(origin))
        return {};
    bool listed = false;
    for (const QByteArray &o : m_origins)
        listed = listed || http::equalsIgnoringCase(o, origin);
    http::Headers h;
    if (listed) {
        h.append({QByteArrayLiteral("Access-Control-Allow-Origin"), origin.toByteArray()});
        h.append({QByteArrayLiteral("Access-Control-Allow-Credentials"), QByteArrayLiteral("true")});
        h.append({QByteArrayLiteral("Vary"), QByteArrayLiteral("Origin")});
    } else {
        h.append({QByteArrayLiteral("Access-Control-Allow-Origin"), QByteArrayLiteral("*")});
    }
    h.append({QByteArrayLiteral("Access-Control-Expose-Headers"),
              QByteArrayLiteral("Location, Content-Range, Accept-Ranges, Content-Length, WWW-Authenticate")});
    return h;
}

http::Headers CorsPolicy::preflightHeaders(const http::Request &request) const
{
    http::Headers h = responseHeaders(request);
    if (h.isEmpty())
        return h;
    // Expose-Headers belongs to actual responses only.
    h.removeIf([](const auto &p) { return p.first == "Access-Control-Expose-Headers"; });
    h.append(
        {QByteArrayLiteral("Access-Control-Allow-Methods"), QByteArrayLiteral("GET, HEAD, POST, DELETE, OPTIONS")});
    h.append({QByteArrayLiteral("Access-Control-Allow-Headers"),
              QByteArrayLiteral("Authorization, Content-Type, Last-Event-ID, X-Filename, Range, Cache-Control")});
    h.append({QByteArrayLiteral("Access-Control-Max-Age"), QByteArrayLiteral("600")});
    if (!h.contains({QByteArrayLiteral("Vary"), QByteArrayLiteral("Origin")}))
        h.append({QByteArrayLiteral("Vary"), QByteArrayLiteral("Origin")});
    return h;
}

bool CorsPolicy::isPreflight(const http::Request &request)
{
    return request.method() == "OPTIONS" && request.hasHeader("access-control-request-method");
}

} // namespace clipdeck::server
