#include "server/router.h"

#include "server/apierror.h"
#include "server/auth.h"
#include "server/cors.h"

namespace clipdeck::server {

namespace {

http::Headers withCommon(const Call &call, const http::Headers &extra)
{
    http::Headers headers = call.cors;
    headers.append(extra);
    return headers;
}

} // namespace

void replyJson(const Call &call, int status, const QByteArray &json, const http::Headers &extra)
{
    http::Headers headers = withCommon(call, extra);
    headers.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")});
    headers.append({QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store")});
    call.exchange->respond(status, headers, json);
}

void replyError(const Call &call, const ApiError &error, const http::Headers &extra)
{
    replyJson(call, error.status, errorJson(error), extra);
}

void replyEmpty(const Call &call, int status, const http::Headers &extra)
{
    call.exchange->respond(status, withCommon(call, extra));
}

void Router::add(const QByteArray &method, const QString &pattern, Access access, Handler handler)
{
    Route r;
    r.method = method;
    r.segments = pattern.mid(1).split(u'/');
    r.access = access;
    r.handler = std::move(handler);
    r.label = method + ' ' + pattern.toUtf8();
    m_routes.append(std::move(r));
}

bool Router::matches(const Route &route, const QList<QString> &segments, QStringList *params)
{
    if (route.segments.size() != segments.size())
        return false;
    params->clear();
    for (qsizetype i = 0; i < segments.size(); ++i) {
        const QString &p = route.segments.at(i);
        if (p.startsWith(u'{')) {
            if (segments.at(i).isEmpty())
                return false;
            params->append(segments.at(i));
        } else if (p != segments.at(i)) {
            return false;
        }
    }
    return true;
}

void Router::dispatch(const http::ExchangePtr &exchange) const
{
    const http::Request &request = exchange->request();
    Call call;
    call.exchange = exchange;
    call.cors = m_cors.responseHeaders(request);
    const QList<QString> segments = request.pathSegments();

    const QByteArray method = request.method().toByteArray();
    const QByteArray routeMethod = method == "HEAD" ? QByteArrayLiteral("GET") : method;
    const Route *found = nullptr;
    QList<QByteArray> allowed;
    QStringList params;
    for (const Route &r : m_routes) {
        if (!matches(r, segments, &params))
            continue;
        if (!allowed.contains(r.method))
            allowed.append(r.method);
        if (r.method == routeMethod && !found) {
            found = &r;
            call.params = params;
        }
    }

    if (method == "OPTIONS" && !allowed.isEmpty()) {
        exchange->setLabel(QByteArrayLiteral("OPTIONS"));
        if (CorsPolicy::isPreflight(request)) {
            if (!m_cors.allows(request.header("origin"))) {
                replyError(call,
                           ApiError(403, codes::OriginNotAllowed, QStringLiteral("This origin may not use the API.")));
                return;
            }
            exchange->respond(204, m_cors.preflightHeaders(request));
            return;
        }
        if (allowed.contains("GET"))
            allowed.append("HEAD");
        allowed.append("OPTIONS");
        replyEmpty(call, 204, {{QByteArrayLiteral("Allow"), allowed.join(", ")}});
        return;
    }
    if (!found) {
        if (allowed.isEmpty()) {
            exchange->setLabel(QByteArrayLiteral("unmatched"));
            replyError(call,
                       ApiError(404, codes::NotFound,
                                QStringLiteral("There is nothing at %1.").arg(QString::fromUtf8(request.path()))));
        } else {
            exchange->setLabel(QByteArrayLiteral("unmatched"));
            if (allowed.contains("GET"))
                allowed.append("HEAD");
            allowed.append("OPTIONS");
            replyError(call,
                       ApiError(405, codes::MethodNotAllowed,
                                QStringLiteral("%1 is not allowed here.").arg(QString::fromLatin1(method))),
                       {{QByteArrayLiteral("Allow"), allowed.join(", ")}});
        }
        return;
    }
    exchange->setLabel(found->label);

    if (found->access != Access::Public) {
        const AuthResult auth = m_auth.authenticate(request, found->access == Access::StreamToken);
        if (!auth.user) {
            const QByteArray challenge = auth.presented
                                             ? QByteArrayLiteral("Bearer realm=\"clipdeck\", error=\"invalid_token\"")
                                             : QByteArrayLiteral("Bearer realm=\"clipdeck\"");
            replyError(call,
                       ApiError(401, codes::Unauthorized,
                                auth.presented
                                    ? QStringLiteral("The access token is not valid.")
                                    : QStringLiteral("This needs an access token (Authorization: Bearer TOKEN).")),
                       {{QByteArrayLiteral("WWW-Authenticate"), challenge}});
            return;
        }
        call.user = *auth.user;
    }
    found->handler(call);
}

} // namespace clipdeck::server
