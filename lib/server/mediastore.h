#pragma once

// Uploaded media: files in <data-dir>/media, each in a folder named by a server-made id, and their
// records in the server database (owner, name, size, SHA-256, probe). The file inside the folder
// is named after the upload (safeFileName(): sanitised, never a path) because the engine names a
// job's outputs after its input's base name: "My Clip.mov" gives "My Clip.contact.jpg". Media
// stored by earlier versions as <id>[.<ext>] directly in the media folder keep working (the
// record holds the file's path relative to the media folder, whichever the layout).
//
// An upload streams to <id>.part, hashed as it arrives; only a probed, complete file is moved
// into place and recorded, so a failed or abandoned upload leaves nothing.

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
    QString name; // as uploaded (display only)
    QString file; // relative to the media directory: "<id>/<safe name>[.<ext>]", or (stored by
                  // earlier versions) "<id>" or "<id>.<ext>"
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
    // The file name an upload named `name` is stored under (in its own folder): the name's base
    // without path separators, control or bidi-override characters, leading dots or spaces, at
    // most MaxBaseBytes of UTF-8 ("media" when nothing is left), then a short alphanumeric
    // extension of the name, lower-cased, if it has one.
    static QString safeFileName(const QString &name);
    static constexpr qsizetype MaxBaseBytes = 120;
    // `message` (from FFmpeg or the engine, about the file at `path`) with that server path and
    // the file's own name replaced by `displayName`, and what else it holds of the media
    // folder's path taken out.
    QString withoutServerPath(QString message, const QString &path, const QString &displayName) const;

    std::unique_ptr<Upload> beginUpload(const QString &owner, const QString &name, QString *error);
    // Moves a finished, probed upload into place and records it.
    std::variant<MediaRecord, ApiError> commit(Upload &upload, QJsonObject probe);

    // Another user's media is not found, as missing media is.
    std::optional<MediaRecord> find(const QString &owner, const QString &id) const;
    QList<MediaRecord> list(const QString &owner) const;
    QString pathOf(const MediaRecord &record) const;
    // The media id of a path in the media directory (what the engine has as a job's input), in
    // either layout.
    std::optional<QString> idForPath(const QString &path) const;
    // The record of a path in the media directory, whoever owns it: for the server's own use
    // (naming the media in messages to its owner), never to decide who may see what.
    std::optional<MediaRecord> recordForPath(const QString &path) const;
    // Removes the record, then the file (and its folder). Checking ownership and use by jobs is
    // the caller's business.
    std::optional<ApiError> remove(const MediaRecord &record);

private:
    Database &m_database;
    QString m_directory;
};

} // namespace clipdeck::server
