#include "server/systemroutes.h"

#include "server/router.h"

namespace clipdeck::server {

void SystemRoutes::install(Router &router)
{
    router.add("GET", QStringLiteral("/healthz"), Router::Access::Public,
               [](const Call &call) { replyJson(call, 200, QByteArrayLiteral("{\"status\":\"ok\"}")); });
    router.add("GET", QStringLiteral("/metrics"), Router::Access::Public, [this](const Call &call) {
        call.exchange->respond(
            200,
            {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/plain; version=0.0.4; charset=utf-8")},
             {QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store")}},
            m_renderMetrics());
    });
}

} // namespace clipdeck::server
