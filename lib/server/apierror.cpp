#include "server/apierror.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace clipdeck::server {

QByteArray errorJson(const QString &code, const QString &message)
{
    const QJsonObject error{{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), error}}).toJson(QJsonDocument::Compact);
}

QLatin1StringView codeForHttpStatus(int status)
{
    switch (status) {
    case 404: return codes::NotFound;
    case 405: return codes::MethodNotAllowed;
    case 408: return codes::RequestTimeout;
    case 413: return codes::PayloadTooLarge;
    case 414: return codes::UriTooLong;
    case 431: return codes::HeadersTooLarge;
    case 501: return codes::NotImplemented;
    case 503: return codes::Unavailable;
    case 505: return codes::VersionNotSupported;
    default: return status >= 500 ? codes::Internal : codes::BadRequest;
    }
}

} // namespace clipdeck::server
