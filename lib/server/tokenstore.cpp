#include "server/tokenstore.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSaveFile>

#include <algorithm>

namespace clipdeck::server {

namespace {

QByteArray digest(QByteArrayView token)
{
    return QCryptographicHash::hash(token, QCryptographicHash::Sha256);
}

// What a Bearer token may hold (RFC 6750 b64token), so any token from the file can be sent.
bool validToken(QByteArrayView t)
{
    return t.size() >= 16 && std::all_of(t.begin(), t.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                      || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
           });
}

bool validUser(QByteArrayView u)
{
    return !u.isEmpty() && u.size() <= 64 && std::all_of(u.begin(), u.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
               || c == '_' || c == '@';
    });
}

} // namespace

bool TokenStore::load(const QString &path)
{
    m_users.clear();
    m_error.clear();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        m_error = QStringLiteral("cannot read the token file %1: %2").arg(path, file.errorString());
        return false;
    }
    int lineNumber = 0;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        ++lineNumber;
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const QList<QByteArray> parts = line.simplified().split(' ');
        // Never quote the line: it holds a token.
        if (parts.size() != 2) {
            m_error = QStringLiteral("%1:%2: expected 'TOKEN USER'").arg(path).arg(lineNumber);
            return false;
        }
        if (!validToken(parts.at(0))) {
            m_error = QStringLiteral("%1:%2: a token needs at least 16 characters of A-Z a-z 0-9 - . _ ~ + / =")
                          .arg(path)
                          .arg(lineNumber);
            return false;
        }
        if (!validUser(parts.at(1))) {
            m_error = QStringLiteral("%1:%2: a user name is 1 to 64 characters of A-Z a-z 0-9 - . _ @")
                          .arg(path)
                          .arg(lineNumber);
            return false;
        }
        const QByteArray key = digest(parts.at(0));
        if (m_users.contains(key) && m_users.value(key) != QString::fromLatin1(parts.at(1))) {
            m_error = QStringLiteral("%1:%2: this token is already given to another user").arg(path).arg(lineNumber);
            return false;
        }
        m_users.insert(key, QString::fromLatin1(parts.at(1)));
    }
    return true;
}

std::optional<QString> TokenStore::userFor(QByteArrayView token) const
{
    if (token.isEmpty())
        return std::nullopt;
    const auto it = m_users.constFind(digest(token));
    if (it == m_users.constEnd())
        return std::nullopt;
    return *it;
}

QByteArray TokenStore::generateToken()
{
    QByteArray raw(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), raw.size() / 4);
    return raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray TokenStore::createFile(const QString &path, const QString &user)
{
    m_error.clear();
    QDir().mkpath(QFileInfo(path).absolutePath());
    const QByteArray token = generateToken();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        m_error = QStringLiteral("cannot create the token file %1: %2").arg(path, file.errorString());
        return {};
    }
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write("# clipdeck-server access tokens: one 'TOKEN USER' per line. Send a token as\n"
               "# 'Authorization: Bearer TOKEN' (or, on event streams, ?access_token=TOKEN).\n");
    file.write(token + ' ' + user.toLatin1() + '\n');
    if (!file.commit()) {
        m_error = QStringLiteral("cannot write the token file %1: %2").arg(path, file.errorString());
        return {};
    }
    m_users.insert(digest(token), user);
    return token;
}

} // namespace clipdeck::server
