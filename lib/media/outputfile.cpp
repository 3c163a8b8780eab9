#include "media/outputfile_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStringList>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace clipdeck::media {

namespace {

// Past this many stems the folder is surely not going to free one up.
constexpr int MaxStemNumber = 10000;

std::optional<Error> ensureFolder(const QString &dir)
{
    if (!QFileInfo(dir).isDir() && !QDir().mkpath(dir))
        return Error{errors::OutputUnwritable, QStringLiteral("The output folder %1 cannot be created.").arg(dir)};
    return std::nullopt;
}

// Names come from input file names: keep them from climbing out of the folder.
QString safeBaseName(const QString &baseName)
{
    QString safe = baseName;
    safe.replace(u'/', u'_');
    if (safe.isEmpty() || safe.startsWith(u'.'))
        safe.prepend(u"output");
    return safe;
}

QString stemFor(const QString &base, int number)
{
    return number == 1 ? base : QStringLiteral("%1-%2").arg(base).arg(number);
}

Error noFreeName(const QString &base, const QString &dir)
{
    return Error{errors::OutputUnwritable, QStringLiteral("No free output name for %1 in %2.").arg(base, dir)};
}

} // namespace

ff::Expected<std::optional<OutputFile>> OutputFile::tryReserve(const QString &dir, const QString &stem,
                                                               const QString &suffix)
{
    const QString finalPath = QDir(dir).absoluteFilePath(stem + suffix);
    if (QFileInfo::exists(finalPath))
        return std::optional<OutputFile>();
    const QString extension = QFileInfo(finalPath).suffix();
    const QString tempPath = QDir(dir).absoluteFilePath(
        QStringLiteral(".%1%2.partial.%3").arg(stem, suffix.chopped(extension.size() + 1), extension));
    const int fd = ::open(QFile::encodeName(tempPath).constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            return std::optional<OutputFile>(); // another job holds this name
        return ff::writeError(AVERROR(errno), QStringLiteral("the output folder %1").arg(dir));
    }
    ::close(fd);
    OutputFile file;
    file.m_temporary = tempPath;
    file.m_final = finalPath;
    return std::optional<OutputFile>(std::move(file));
}

ff::Expected<OutputFile> OutputFile::reserve(const QString &dir, const QString &baseName, const QString &suffix)
{
    if (auto e = ensureFolder(dir))
        return *e;
    const QString base = safeBaseName(baseName);
    for (int n = 1; n < MaxStemNumber; ++n) {
        auto reserved = tryReserve(dir, stemFor(base, n), suffix);
        if (auto *e = ff::errorOf(reserved))
            return *e;
        if (auto &file = std::get<std::optional<OutputFile>>(reserved))
            return std::move(*file);
    }
    return noFreeName(base, dir);
}

OutputSet::OutputSet(const QString &dir, const QString &baseName) : m_dir(dir), m_baseName(safeBaseName(baseName)) { }

QString OutputSet::stem() const
{
    return stemFor(m_baseName, m_number);
}

ff::Expected<int> OutputSet::reserve(const QString &suffix, const QString &role, const QString &mimeType)
{
    if (m_files.empty()) {
        if (auto e = ensureFolder(m_dir))
            return *e;
    }
    while (true) {
        auto reserved = OutputFile::tryReserve(m_dir, stem(), suffix);
        if (auto *e = ff::errorOf(reserved))
            return *e;
        if (auto &file = std::get<std::optional<OutputFile>>(reserved)) {
            m_files.push_back(Pending{std::move(*file), suffix, role, mimeType});
            return int(m_files.size() - 1);
        }
        if (auto e = moveToNextStem())
            return *e;
    }
}

// The current stem is taken for a new suffix (an existing file, or a race with another job):
// reserve all of the set's suffixes again under the first later stem where they are all free,
// carry over what was written, and release the old names.
std::optional<Error> OutputSet::moveToNextStem()
{
    for (int n = m_number + 1; n < MaxStemNumber; ++n) {
        std::vector<OutputFile> moved;
        for (const Pending &p : m_files) {
            auto reserved = OutputFile::tryReserve(m_dir, stemFor(m_baseName, n), p.suffix);
            if (auto *e = ff::errorOf(reserved))
                return *e;
            auto &file = std::get<std::optional<OutputFile>>(reserved);
            if (!file)
                break; // taken too: the ones reserved so far are released on the way out
            moved.push_back(std::move(*file));
        }
        if (moved.size() != m_files.size())
            continue;
        for (size_t i = 0; i < moved.size(); ++i) {
            OutputFile &old = m_files[i].file;
            // Onto our own fresh reservation: rename(2) replaces it atomically, and no other
            // job's file can be in the way.
            if (::rename(QFile::encodeName(old.m_temporary).constData(),
                         QFile::encodeName(moved[i].m_temporary).constData())
                != 0)
                return ff::writeError(AVERROR(errno), QStringLiteral("the output folder %1").arg(m_dir));
            old.m_temporary.clear(); // nothing left there to remove
            old = std::move(moved[i]);
        }
        m_number = n;
        return std::nullopt;
    }
    return noFreeName(m_baseName, m_dir);
}

ff::Expected<QList<Output>> OutputSet::commit()
{
    QStringList committed;
    for (auto p = m_files.rbegin(); p != m_files.rend(); ++p) {
        if (auto e = p->file.commit()) {
            for (const QString &path : std::as_const(committed))
                QFile::remove(path);
            return *e;
        }
        committed.append(p->file.finalPath());
    }
    QList<Output> outputs;
    for (const Pending &p : m_files)
        outputs.append(p.file.output(p.role, p.mimeType));
    return outputs;
}

OutputFile::OutputFile(OutputFile &&other) noexcept
    : m_temporary(std::exchange(other.m_temporary, {})), m_final(std::exchange(other.m_final, {})),
      m_committed(std::exchange(other.m_committed, false))
{ }

OutputFile &OutputFile::operator=(OutputFile &&other) noexcept
{
    if (this != &other) {
        if (!m_committed && !m_temporary.isEmpty())
            QFile::remove(m_temporary);
        m_temporary = std::exchange(other.m_temporary, {});
        m_final = std::exchange(other.m_final, {});
        m_committed = std::exchange(other.m_committed, false);
    }
    return *this;
}

OutputFile::~OutputFile()
{
    if (!m_committed && !m_temporary.isEmpty())
        QFile::remove(m_temporary);
}

std::optional<Error> OutputFile::commit()
{
    // rename(2), not QFile::rename: atomic, and the final name was checked free at reservation.
    if (::rename(QFile::encodeName(m_temporary).constData(), QFile::encodeName(m_final).constData()) != 0)
        return ff::writeError(AVERROR(errno), m_final);
    m_committed = true;
    return std::nullopt;
}

Output OutputFile::output(const QString &role, const QString &mimeType) const
{
    return Output{m_final, role, QFileInfo(m_final).size(), mimeType};
}

std::optional<Error> writeWholeFile(const QString &path, const QByteArray &bytes)
{
    const QString name = QFileInfo(path).fileName();
    const int fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ff::writeError(AVERROR(errno), name);
    qsizetype written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.constData() + written, size_t(bytes.size() - written));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int error = n < 0 ? errno : ENOSPC;
            ::close(fd);
            return ff::writeError(AVERROR(error), name);
        }
        written += n;
    }
    if (::close(fd) != 0)
        return ff::writeError(AVERROR(errno), name);
    return std::nullopt;
}

} // namespace clipdeck::media
