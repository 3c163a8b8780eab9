#include "server/auth.h"

namespace clipdeck::server {

AuthResult Authenticator::authenticate(const http::Request &request, bool allowStreamCredentials) const
{
    AuthResult result;
    auto tryToken = [&](QByteArrayView token) {
        if (token.isEmpty())
            return false;
        result.presented = true;
        result.user = m_tokens.userFor(token);
        return true;
    };

    const QByteArrayView authorization = request.header("authorization");
    if (!authorization.isEmpty()) {
        // credentials = auth-scheme 1*SP token68; the scheme is case-insensitive.
        result.presented = true;
        if (authorization.size() > 7 && http::equalsIgnoringCase(authorization.first(7), "bearer ")) {
            QByteArrayView token = authorization.sliced(7);
            while (token.startsWith(' '))
                token = token.sliced(1);
            tryToken(token);
        }
        return result;
    }
    if (!allowStreamCredentials)
        return result;
    if (const auto q = request.queryValue("access_token"); q && tryToken(*q))
        return result;
    if (const auto c = request.cookie("clipdeck_token"); c && tryToken(*c))
        return result;
    return result;
}

} // namespace clipdeck::server
