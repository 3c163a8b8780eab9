#pragma once

// Every error the API answers: an HTTP status, a stable machine-readable code and a message for
// people, as JSON {"error":{"code":"...","message":"..."}} (docs/protocol.md, "HTTP API").

#include <QByteArray>
#include <QLatin1StringView>
#include <QString>

namespace clipdeck::server {

// Codes of the server's own (job and media codes from lib/jobs and lib/media pass through).
namespace codes {
inline constexpr QLatin1StringView BadRequest{"bad_request"};              // 400: malformed HTTP
inline constexpr QLatin1StringView InvalidJson{"invalid_json"};            // 400: body is not a JSON object
inline constexpr QLatin1StringView InvalidRequest{"invalid_request"};      // 400: a field missing or of the wrong type
inline constexpr QLatin1StringView InvalidName{"invalid_name"};            // 400: upload name missing or unusable
inline constexpr QLatin1StringView InvalidStatus{"invalid_status"};        // 400: ?status= names no status
inline constexpr QLatin1StringView Unauthorized{"unauthorized"};           // 401
inline constexpr QLatin1StringView OriginNotAllowed{"origin_not_allowed"}; // 403: CORS preflight from elsewhere
inline constexpr QLatin1StringView NotFound{"not_found"};                  // 404 (also: another user's)
inline constexpr QLatin1StringView OutputNotFound{"output_not_found"};     // 404
inline constexpr QLatin1StringView MethodNotAllowed{"method_not_allowed"}; // 405
inline constexpr QLatin1StringView RequestTimeout{"request_timeout"};      // 408
inline constexpr QLatin1StringView InvalidState{"invalid_state"};          // 409
inline constexpr QLatin1StringView PayloadTooLarge{"payload_too_large"};   // 413
inline constexpr QLatin1StringView UriTooLong{"uri_too_long"};             // 414
inline constexpr QLatin1StringView RangeNotSatisfiable{"range_not_satisfiable"};      // 416
inline constexpr QLatin1StringView UnknownMedia{"unknown_media"};                     // 422
inline constexpr QLatin1StringView TooManyStreams{"too_many_streams"};                // 429
inline constexpr QLatin1StringView HeadersTooLarge{"headers_too_large"};              // 431
inline constexpr QLatin1StringView Internal{"internal"};                              // 500
inline constexpr QLatin1StringView NotImplemented{"not_implemented"};                 // 501
inline constexpr QLatin1StringView Unavailable{"unavailable"};                        // 503
inline constexpr QLatin1StringView VersionNotSupported{"http_version_not_supported"}; // 505
inline constexpr QLatin1StringView StorageFull{"storage_full"};                       // 507
} // namespace codes

struct ApiError
{
    int status = 500;
    QString code;
    QString message;

    ApiError() = default;
    ApiError(int s, QLatin1StringView c, QString m) : status(s), code(c), message(std::move(m)) { }
    ApiError(int s, QString c, QString m) : status(s), code(std::move(c)), message(std::move(m)) { }
};

// {"error":{"code":"...","message":"..."}}
QByteArray errorJson(const QString &code, const QString &message);
inline QByteArray errorJson(const ApiError &e)
{
    return errorJson(e.code, e.message);
}

// The code for an error the HTTP layer answers itself (400, 408, 413, 414, 431, 501, 503, 505).
QLatin1StringView codeForHttpStatus(int status);

} // namespace clipdeck::server
