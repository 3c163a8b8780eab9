#include "media/outputfile_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace clipdeck::media {

ff::Expected<OutputFile> OutputFile::reserve(const QString &dir, const QString &baseName, const QString &suffix)
{
    const QFileInfo dirInfo(dir);
    if (!dirInfo.isDir() && !QDir().mkpath(dir))
        return Error{errors::OutputUnwritable, QStringLiteral("The output folder %1 cannot be created.").arg(dir)};
    // Names come from input file names: keep them from climbing out of the folder.
    QString safeBase = baseName;
    safeBase.replace(u'/', u'_');
    if (safeBase.isEmpty() || safeBase.startsWith(u'.'))
        safeBase.prepend(u"output");

    for (int n = 1; n < 10000; ++n) {
        const QString stem = n == 1 ? safeBase : QStringLiteral("%1-%2").arg(safeBase).arg(n);
        const QString finalPath = QDir(dir).absoluteFilePath(stem + suffix);
        const QString extension = QFileInfo(finalPath).suffix();
        const QString tempPath = QDir(dir).absoluteFilePath(
            QStringLiteral(".%1%2.partial.%3").arg(stem, suffix.chopped(extension.size() + 1), extension));
        if (QFileInfo::exists(finalPath))
            continue;
        const QByteArray encoded = QFile::encodeName(tempPath);
        const int fd = ::open(encoded.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            if (errno == EEXIST)
                continue; // another job holds this name
            return ff::writeError(AVERROR(errno), QStringLiteral("the output folder %1").arg(dir));
        }
        ::close(fd);
        OutputFile file;
        file.m_temporary = tempPath;
        file.m_final = finalPath;
        return file;
    }
    return Error{errors::OutputUnwritable, QStringLiteral("No free output name for %1 in %2.").arg(safeBase, dir)};
}

OutputFile::OutputFile(OutputFile &&other) noexcept
    : m_temporary(std::exchange(other.m_temporary, {}))
    , m_final(std::exchange(other.m_final, {}))
    , m_committed(std::exchange(other.m_committed, false))
{
}

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
