#pragma once

// GET /healthz and GET /metrics (Prometheus text). Both without a token: they say nothing about
// any user's media or jobs, only counts; bind to loopback (the default) or put them behind a
// proxy to keep them private.

#include <functional>

#include <QByteArray>

namespace clipdeck::server {

class Router;

class SystemRoutes
{
public:
    explicit SystemRoutes(std::function<QByteArray()> renderMetrics) : m_renderMetrics(std::move(renderMetrics)) { }
    void install(Router &router);

private:
    std::function<QByteArray()> m_renderMetrics;
};

} // namespace clipdeck::server
