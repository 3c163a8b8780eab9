#pragma once

// CORS for configured origins, so a web page on another origin can call the API and watch job
// streams with the browser's EventSource. An origin is allowed when it is in the list exactly
// (scheme://host[:port]) or the list holds "*". Allowed origins are echoed back (with
// Vary: Origin) and may send credentials (the clipdeck_token cookie with withCredentials);
// "*" alone answers "Access-Control-Allow-Origin: *" to origins not listed, without credentials.

#include "http/request.h"

#include <QStringList>

namespace clipdeck::server {

class CorsPolicy
{
public:
    explicit CorsPolicy(QStringList origins = {});

    bool isEnabled() const { return !m_origins.isEmpty() || m_any; }
    // Whether a request from this origin may be answered with CORS headers.
    bool allows(QByteArrayView origin) const;

    // Headers for an actual (non-preflight) response to this request; none without an Origin
    // or for an origin not allowed.
    http::Headers responseHeaders(const http::Request &request) const;
    // A preflight (OPTIONS with Access-Control-Request-Method): the headers of the 204 answer,
    // for an allowed origin.
    http::Headers preflightHeaders(const http::Request &request) const;

    static bool isPreflight(const http::Request &request);

private:
    QList<QByteArray> m_origins;
    bool m_any = false;
};

} // namespace clipdeck::server
