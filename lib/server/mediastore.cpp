#include "server/mediastore.h"

#include "server/database.h"
#include "jobs/jobjson.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>
#include <QVariant>

namespace clipdeck::server {

namespace {

MediaRecord fromQuery(const QSqlQuery &q)
{
    MediaRecord r;
    r.id = q.value(0).toString();
    r.owner = q.value(1).toString();
    r.name = q.value(2).toString();
    r.file = q.value(3).toString();
    r.size = q.value(4).toLongLong();
    r.sha256 = q.value(5).toString().toLatin1();
    r.probe = q.value(6).toString().toUtf8();
    r.created = QDateTime::fromString(q.value(7).toString(), Qt::ISODateWithMs);
    return r;
}

const QString selectColumns = QStringLiteral("SELECT id, owner, name, file, size, sha256, probe, created FROM media");

} // namespace

QByteArray mediaJson(const MediaRecord &r)
{
    QJsonObject o{{QStringLiteral("id"), r.id},
                  {QStringLiteral("name"), r.name},
                  {QStringLiteral("size"), double(r.size)},
                  {QStringLiteral("sha256"), QString::fromLatin1(r.sha256)},
                  {QStringLiteral("createdAt"), QString::fromLatin1(jobs::formatUtcTime(r.created))},
                  {QStringLiteral("probe"), QJsonDocument::fromJson(r.probe).object()}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

Upload::~Upload()
{
    if (!m_committed) {
        m_file.close();
        if (!m_file.fileName().isEmpty())
            QFile::remove(m_file.fileName());
    }
}

bool Upload::write(QByteArrayView chunk)
{
    if (m_file.write(chunk.data(), chunk.size()) != chunk.size()) {
        m_error = m_file.errorString();
        return false;
    }
    m_hash.addData(chunk);
    m_size += chunk.size();
    return true;
}

bool Upload::finish()
{
    if (!m_file.flush()) {
        m_error = m_file.errorString();
        return false;
    }
    m_file.close();
    m_sha256 = m_hash.result().toHex();
    return true;
}

MediaStore::MediaStore(Database &database, QString directory) : m_database(database), m_directory(std::move(directory)) {}

bool MediaStore::open(QString *error)
{
    if (!QDir().mkpath(m_directory)) {
        *error = QStringLiteral("cannot create the media folder %1").arg(m_directory);
        return false;
    }
    QDirIterator it(m_directory, {QStringLiteral("*.part")}, QDir::Files);
    while (it.hasNext())
        QFile::remove(it.next());
    return true;
}

std::optional<QString> MediaStore::cleanName(const QByteArray &raw, QString *why)
{
    QByteArray name = raw;
    const qsizetype slash = std::max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
    if (slash >= 0)
        name = name.mid(slash + 1);
    name = name.trimmed();
    if (name.isEmpty() || name == "." || name == "..") {
        *why = QStringLiteral("The upload needs a file name (X-Filename header or ?name=).");
        return std::nullopt;
    }
    if (name.size() > 255) {
        *why = QStringLiteral("The file name is longer than 255 bytes.");
        return std::nullopt;
    }
    const QString text = QString::fromUtf8(name);
    if (text.contains(QChar::ReplacementCharacter) || text.toUtf8() != name) {
        *why = QStringLiteral("The file name is not valid UTF-8.");
        return std::nullopt;
    }
    for (const QChar c : text) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7F) {
            *why = QStringLiteral("The file name holds a control character.");
            return std::nullopt;
        }
    }
    return text;
}

std::unique_ptr<Upload> MediaStore::beginUpload(const QString &owner, const QString &name, QString *error)
{
    std::unique_ptr<Upload> upload(new Upload);
    upload->m_id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    upload->m_owner = owner;
    upload->m_name = name;
    // The one thing taken from the name: a short alphanumeric extension, a hint FFmpeg's format
    // probing uses for formats without a signature (raw streams).
    static const QRegularExpression extension(QStringLiteral("^[A-Za-z0-9]{1,10}$"));
    const QString suffix = QFileInfo(name).suffix();
    upload->m_finalFile = extension.match(suffix).hasMatch() ? upload->m_id + u'.' + suffix.toLower() : upload->m_id;
    upload->m_file.setFileName(m_directory + u'/' + upload->m_id + QStringLiteral(".part"));
    if (!upload->m_file.open(QIODevice::WriteOnly | QIODevice::NewOnly)) {
        *error = QStringLiteral("cannot create %1: %2").arg(upload->m_file.fileName(), upload->m_file.errorString());
        upload->m_file.setFileName(QString()); // not ours to remove
        return nullptr;
    }
    return upload;
}

std::variant<MediaRecord, ApiError> MediaStore::commit(Upload &upload, QJsonObject probe)
{
    probe.remove(QStringLiteral("path")); // the server's path is nobody's business
    MediaRecord r;
    r.id = upload.m_id;
    r.owner = upload.m_owner;
    r.name = upload.m_name;
    r.file = upload.m_finalFile;
    r.size = upload.m_size;
    r.sha256 = upload.m_sha256;
    r.probe = QJsonDocument(probe).toJson(QJsonDocument::Compact);
    r.created = QDateTime::currentDateTimeUtc();

    const QString finalPath = m_directory + u'/' + r.file;
    if (!QFile::rename(upload.partPath(), finalPath))
        return ApiError(500, codes::Internal, QStringLiteral("The upload could not be moved into place."));
    QSqlQuery q(m_database.handle());
    q.prepare(QStringLiteral("INSERT INTO media (id, owner, name, file, size, sha256, probe, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(r.id);
    q.addBindValue(r.owner);
    q.addBindValue(r.name);
    q.addBindValue(r.file);
    q.addBindValue(r.size);
    q.addBindValue(QString::fromLatin1(r.sha256));
    q.addBindValue(QString::fromUtf8(r.probe));
    q.addBindValue(r.created.toString(Qt::ISODateWithMs));
    if (!q.exec()) {
        const QString detail = q.lastError().text();
        QFile::remove(finalPath);
        return ApiError(500, codes::Internal, QStringLiteral("The upload could not be recorded: %1").arg(detail));
    }
    upload.m_committed = true;
    return r;
}

std::optional<MediaRecord> MediaStore::find(const QString &owner, const QString &id) const
{
    QSqlQuery q(m_database.handle());
    q.prepare(selectColumns + QStringLiteral(" WHERE id = ? AND owner = ?"));
    q.addBindValue(id);
    q.addBindValue(owner);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return fromQuery(q);
}

QList<MediaRecord> MediaStore::list(const QString &owner) const
{
    QList<MediaRecord> all;
    QSqlQuery q(m_database.handle());
    q.prepare(selectColumns + QStringLiteral(" WHERE owner = ? ORDER BY created, id"));
    q.addBindValue(owner);
    if (q.exec()) {
        while (q.next())
            all.append(fromQuery(q));
    }
    return all;
}

QString MediaStore::pathOf(const MediaRecord &record) const
{
    return m_directory + u'/' + record.file;
}

std::optional<QString> MediaStore::idForPath(const QString &path) const
{
    const QFileInfo info(path);
    if (info.absolutePath() != QFileInfo(m_directory).absoluteFilePath())
        return std::nullopt;
    const QString file = info.fileName();
    const qsizetype dot = file.indexOf(u'.');
    return dot < 0 ? file : file.left(dot);
}

} // namespace clipdeck::server
