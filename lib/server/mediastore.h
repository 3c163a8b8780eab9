#pragma once

// Uploaded media: files in <data-dir>/media named by a server-made id (an upload's name is kept
// as data, never used as a path), and their records in the server database (owner, name, size,
// SHA-256, probe). An upload streams to <id>.part, hashed as it arrives; only a probed, complete
// file is renamed into place and recorded, so a failed or abandoned upload leaves nothing.

#include "server/apierror.h"

#include <QByteArray>
#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <memory>
#include <optional>
#include <variant>

namespace clipdeck::server {

class Database;

struct MediaRecord
{
    QString id;
    QString owner;
    QString name;     // as uploaded (display only)
    QString file;     // file name in the media directory: "<id>" or "<id>.<ext>"
    qint64 size = 0;
    QByteArray sha256; // hex
    QByteArray probe;  // compact JSON (lib/media's probe, without the server's path)
    QDateTime created;
};

// {"id","name","size","sha256","createdAt","probe":{...}}
QByteArray mediaJson(const MediaRecord &record);

class Upload
{
public:
    ~Upload(); // removes the partial file unless the upload was committed
    Upload(const Upload &) = delete;
    Upload &operator=(const Upload &) = delete;

    const QString &id() const { return m_id; }
    const QString &name() const { return m_name; }
    qint64 size() const { return m_size; }
    QString partPath() const { return m_file.fileName(); }
    QString errorString() const { return m_error; }

    // Appends to the file and the hash. false: the file cannot be written (disk full, ...).
    bool write(QByteArrayView chunk);
    // All data is in: flushes and closes the file. false as for write().
    bool finish();
    QByteArray sha256Hex() const { return m_sha256; }

private:
    friend class MediaStore;
    Upload() = default;
    QString m_id;
    QString m_owner;
    QString m_name;
    QString m_finalFile;
    QFile m_file;
    QCryptographicHash m_hash{QCryptographicHash::Sha256};
    QByteArray m_sha256;
    qint64 m_size = 0;
    QString m_error;
    bool m_committed = false;
};

class MediaStore
{
public:
    MediaStore(Database &database, QString directory);

    // Creates the directory and removes .part files an earlier process left (it died mid-upload).
    bool open(QString *error);
    QString directory() const { return m_directory; }

    // A usable display name from what the client sent: the last path component (browsers send
    // "C:\fakepath\clip.mp4"), valid UTF-8, 1 to 255 bytes, no control characters.
    static std::optional<QString> cleanName(const QByteArray &raw, QString *why);

    std::unique_ptr<Upload> beginUpload(const QString &owner, const QString &name, QString *error);
    // Moves a finished, probed upload into place and records it.
    std::variant<MediaRecord, ApiError> commit(Upload &upload, QJsonObject probe);

    // Another user's media is not found, as missing media is.
    std::optional<MediaRecord> find(const QString &owner, const QString &id) const;
    QList<MediaRecord> list(const QString &owner) const;
    QString pathOf(const MediaRecord &record) const;
    // The media id of a path in the media directory (what the engine has as a job's input).
    std::optional<QString> idForPath(const QString &path) const;

private:
    Database &m_database;
    QString m_directory;
};

} // namespace clipdeck::server
