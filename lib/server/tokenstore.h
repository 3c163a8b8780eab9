#pragma once

// Access tokens: a file of "TOKEN USER" lines ('#' comments and blank lines ignored). Tokens are
// kept only as SHA-256 digests in memory and looked up by digest, so neither their text nor the
// time a comparison takes says anything about a valid token.

#include <QByteArray>
#include <QHash>
#include <QString>

#include <optional>

namespace clipdeck::server {

class TokenStore
{
public:
    // Reads the file. Returns false with errorString() naming the line for a malformed one.
    bool load(const QString &path);
    QString errorString() const { return m_error; }

    // The user a token belongs to.
    std::optional<QString> userFor(QByteArrayView token) const;
    int size() const { return int(m_users.size()); }

    // Writes a new file (owner read/write only) with one fresh random token for `user`; returns
    // the token. Fails (empty, errorString()) when the file cannot be written.
    QByteArray createFile(const QString &path, const QString &user);

    // A new random token: 32 bytes from the system's CSPRNG, base64url without padding.
    static QByteArray generateToken();

private:
    QHash<QByteArray, QString> m_users; // SHA-256(token) -> user
    QString m_error;
};

} // namespace clipdeck::server
