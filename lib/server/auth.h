#pragma once

// Who is calling: a Bearer token in the Authorization header on every /api route. A browser's
// EventSource cannot send headers, so on stream routes the token is also taken from the
// `access_token` query parameter or the `clipdeck_token` cookie. Tokens are never logged (the
// server logs no query strings, and no header values).

#include "http/request.h"
#include "server/tokenstore.h"

#include <QString>

#include <optional>

namespace clipdeck::server {

struct AuthResult
{
    std::optional<QString> user; // set when a valid token was presented
    bool presented = false;      // some token was sent (for error="invalid_token")
};

class Authenticator
{
public:
    explicit Authenticator(const TokenStore &tokens) : m_tokens(tokens) { }

    // allowStreamCredentials: also the access_token query parameter and the clipdeck_token
    // cookie (stream routes only). The header wins when several are present.
    AuthResult authenticate(const http::Request &request, bool allowStreamCredentials) const;

private:
    const TokenStore &m_tokens;
};

} // namespace clipdeck::server
