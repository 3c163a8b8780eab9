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

using namespace Qt::StringLiterals;

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

// Characters kept out of stored file names: control characters, line and paragraph separators,
// and invisible format characters (a right-to-left override makes "clip<RLO>gpj.exe" look like
// "clipexe.jpg"), except the joiners that words and emoji sequences need.
bool unfitForFileName(char32_t c)
{
    if (c == 0x200C || c == 0x200D)
        return false;
    if (QChar::isSurrogate(c) || c > QChar::LastValidCodePoint)
        return true;
    switch (QChar::category(c)) {
    case QChar::Other_Control:
    case QChar::Other_Format:
    case QChar::Separator_Line:
    case QChar::Separator_Paragraph: return true;
    default: return false;
    }
}

QString trimmedForFileName(QString text)
{
    // Leading dots would hide the file (and the engine's output names start with the base);
    // trailing dots and spaces are what some file systems drop silently.
    qsizetype begin = 0;
    while (begin < text.size() && (text.at(begin) == u'.' || text.at(begin).isSpace()))
        ++begin;
    qsizetype end = text.size();
    while (end > begin && (text.at(end - 1) == u'.' || text.at(end - 1).isSpace()))
        --end;
    return text.mid(begin, end - begin);
}

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

MediaStore::MediaStore(Database &database, QString directory) : m_database(database), m_directory(std::move(directory))
{ }

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

QString MediaStore::safeFileName(const QString &name)
{
    // The split QFileInfo::completeBaseName()/suffix() make, so that the engine's base name of
    // the stored file is exactly the safe base.
    static const QRegularExpression extension(u"^[A-Za-z0-9]{1,10}$"_s);
    QString base = name;
    QString suffix;
    const qsizetype dot = name.lastIndexOf(u'.');
    if (dot > 0) {
        base = name.left(dot);
        const QString candidate = name.mid(dot + 1);
        // Only a short alphanumeric extension is kept (a hint FFmpeg's probing uses for formats
        // without a signature); another one is dropped, as the engine's base name drops it.
        if (extension.match(candidate).hasMatch()) {
            suffix = candidate.toLower();
        } else {
            // Without an extension, a dot in the base would end it early: inner dots become '_'.
            // Leading and trailing ones go first, as they do from any base ("..." leaves nothing,
            // so "media", not "__").
            base = trimmedForFileName(base).replace(u'.', u'_');
        }
    }

    QString safe;
    qsizetype bytes = 0;
    for (const char32_t c : QStringView(base).toUcs4()) {
        if (unfitForFileName(c))
            continue;
        const char32_t kept = (c == u'/' || c == u'\\') ? char32_t(u'_') : c;
        const qsizetype size = kept < 0x80 ? 1 : kept < 0x800 ? 2 : kept < 0x10000 ? 3 : 4;
        if (bytes + size > MaxBaseBytes)
            break; // whole characters only: never half of a UTF-8 sequence
        bytes += size;
        safe += QStringView(QChar::fromUcs4(kept));
    }
    safe = trimmedForFileName(safe);
    if (safe.isEmpty())
        safe = u"media"_s;
    return suffix.isEmpty() ? safe : safe + u'.' + suffix;
}

QString MediaStore::withoutServerPath(QString message, const QString &path, const QString &displayName) const
{
    // Longest first: the absolute path, the path as the server gave it, then the bare file name
    // (FFmpeg's messages name only that).
    const QFileInfo info(path);
    for (const QString &server : {info.absoluteFilePath(), path}) {
        if (!server.isEmpty() && server != displayName)
            message.replace(server, displayName);
    }
    // The bare name only where it stands alone: a short stored name ("a" for the upload "..a")
    // must not be replaced inside the words of the message.
    const QString file = info.fileName();
    if (!file.isEmpty() && file != displayName) {
        const QRegularExpression alone(u"(?<![\\p{L}\\p{N}])"_s + QRegularExpression::escape(file)
                                           + u"(?![\\p{L}\\p{N}])"_s,
                                       QRegularExpression::UseUnicodePropertiesOption);
        QString replaced;
        qsizetype from = 0;
        for (auto it = alone.globalMatch(message); it.hasNext();) {
            const auto match = it.next();
            replaced += QStringView(message).sliced(from, match.capturedStart() - from);
            replaced += displayName; // as is: never read as a pattern's back-reference
            from = match.capturedEnd();
        }
        replaced += QStringView(message).sliced(from);
        message = replaced;
    }
    // Whatever else of the media folder is left (never expected): its location is not the
    // client's business.
    for (const QString &folder : {QFileInfo(m_directory).absoluteFilePath(), m_directory}) {
        if (!folder.isEmpty())
            message.replace(folder, u"media"_s);
    }
    return message;
}

std::unique_ptr<Upload> MediaStore::beginUpload(const QString &owner, const QString &name, QString *error)
{
    std::unique_ptr<Upload> upload(new Upload);
    upload->m_id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    upload->m_owner = owner;
    upload->m_name = name;
    // A folder per media, so the file itself can carry the upload's name (outputs are named
    // after it) without two uploads of one name ever meeting.
    upload->m_finalFile = upload->m_id + u'/' + safeFileName(name);
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
    const QString folder = QFileInfo(finalPath).absolutePath();
    if (!QDir().mkpath(folder) || !QFile::rename(upload.partPath(), finalPath)) {
        QDir().rmdir(folder); // only if empty: never more than this upload made
        return ApiError(500, codes::Internal, QStringLiteral("The upload could not be moved into place."));
    }
    QSqlQuery q(m_database.handle());
    q.prepare(QStringLiteral(
        "INSERT INTO media (id, owner, name, file, size, sha256, probe, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
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
        QDir().rmdir(folder);
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
    const QString media = QFileInfo(m_directory).absoluteFilePath();
    const QString parent = info.absolutePath();
    if (parent == media) {
        // Stored by earlier versions: media/<id>[.<ext>]
        const QString file = info.fileName();
        const qsizetype dot = file.indexOf(u'.');
        return dot < 0 ? file : file.left(dot);
    }
    const QFileInfo folder(parent);
    if (folder.absolutePath() == media)
        return folder.fileName(); // media/<id>/<name>
    return std::nullopt;
}

std::optional<MediaRecord> MediaStore::recordForPath(const QString &path) const
{
    const auto id = idForPath(path);
    if (!id)
        return std::nullopt;
    QSqlQuery q(m_database.handle());
    q.prepare(selectColumns + u" WHERE id = ?"_s);
    q.addBindValue(*id);
    if (!q.exec() || !q.next())
        return std::nullopt;
    MediaRecord record = fromQuery(q);
    // The id alone could match a stray file next to the media's own (never expected).
    if (QFileInfo(pathOf(record)).absoluteFilePath() != QFileInfo(path).absoluteFilePath())
        return std::nullopt;
    return record;
}

std::optional<ApiError> MediaStore::remove(const MediaRecord &record)
{
    // The record first: once it is gone nothing refers to the file, so a file that cannot be
    // removed is litter at worst, never a record without its file.
    QSqlQuery q(m_database.handle());
    q.prepare(u"DELETE FROM media WHERE id = ? AND owner = ?"_s);
    q.addBindValue(record.id);
    q.addBindValue(record.owner);
    if (!q.exec())
        return ApiError(500, codes::Internal, u"The media could not be removed: %1"_s.arg(q.lastError().text()));
    const QString path = pathOf(record);
    if (!QFile::remove(path) && QFileInfo::exists(path))
        qWarning("media %s: its file could not be removed", qPrintable(record.id));
    // The media's own folder (not in the layout of earlier versions); rmdir: only if empty.
    if (record.file.startsWith(record.id + u'/'))
        QDir(m_directory).rmdir(record.id);
    return std::nullopt;
}

} // namespace clipdeck::server
