#include "media/outputfile_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStringList>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>

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

// Each partial file keeps a descriptor (its lock) until commit: a scene list with a thousand
// pictures holds a thousand. Processes start with a soft limit of 1024 and a far higher hard
// one; raise the soft limit to it once, as servers do.
void raiseDescriptorLimit()
{
    static std::once_flag once;
    std::call_once(once, [] {
        rlimit limit{};
        if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
            limit.rlim_cur = limit.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &limit);
        }
    });
}

// Whether `path` still names the file open as `fd`.
bool namesFile(const QByteArray &path, int fd)
{
    struct stat open = {}, named = {};
    return ::fstat(fd, &open) == 0 && ::lstat(path.constData(), &named) == 0 && open.st_dev == named.st_dev
           && open.st_ino == named.st_ino;
}

enum class Partial {
    Live,    // its writer holds the lock (or it is not ours to judge: unreadable, a link)
    Removed, // it was stale, and is gone now
    Changed, // gone or replaced while we looked: look again
};

// Removes the partial file at path if it is stale. The lock is taken before the unlink, and the
// name checked to still be the locked file: a writer that reserves the name at the same moment
// either has its lock first (the file is live) or finds its file gone and reserves again.
Partial removeIfStale(const QString &path)
{
    const QByteArray native = QFile::encodeName(path);
    const int fd = ::open(native.constData(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? Partial::Changed : Partial::Live;
    Partial result = Partial::Live;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        if (!namesFile(native, fd))
            result = Partial::Changed;
        else if (::unlink(native.constData()) == 0)
            result = Partial::Removed;
    }
    ::close(fd);
    return result;
}

// rename(2) that never replaces: the final name was free when it was reserved, but a file may
// have appeared under it since (the user's own, say), and that file must not be lost. errno is
// EEXIST when it is there.
int renameNoReplace(const QByteArray &from, const QByteArray &to)
{
#ifdef RENAME_NOREPLACE
    if (::renameat2(AT_FDCWD, from.constData(), AT_FDCWD, to.constData(), RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    // A file system without it: link(2) refuses an existing name just as atomically.
    if (::link(from.constData(), to.constData()) == 0) {
        ::unlink(from.constData());
        return 0;
    }
    if (errno == EEXIST)
        return -1;
    // Nor hard links (FAT, say): look, then rename; only a file made in between is replaced.
    struct stat existing = {};
    if (::lstat(to.constData(), &existing) == 0) {
        errno = EEXIST;
        return -1;
    }
    return ::rename(from.constData(), to.constData());
}

// The partial files of outputs named from base: `.<base>[-<n>]<suffix without extension>.partial.<ext>`.
QRegularExpression partialNamePattern(const QString &base)
{
    return QRegularExpression(
        QStringLiteral("^\\.%1(-[0-9]+)?\\.(.*\\.)?partial\\.[^.]+$").arg(QRegularExpression::escape(base)));
}

} // namespace

QStringList removeStalePartials(const QString &dir, const QStringList &baseNames)
{
    QStringList removed;
    QList<QRegularExpression> patterns;
    for (const QString &base : baseNames)
        patterns.append(partialNamePattern(safeBaseName(base)));
    const QDir folder(dir);
    const QStringList names = folder.entryList(QDir::Files | QDir::Hidden | QDir::System, QDir::Name);
    for (const QString &name : names) {
        if (!name.contains(QLatin1StringView(".partial."))
            || std::none_of(patterns.cbegin(), patterns.cend(),
                            [&](const QRegularExpression &p) { return p.match(name).hasMatch(); }))
            continue;
        const QString path = folder.absoluteFilePath(name);
        if (removeIfStale(path) == Partial::Removed)
            removed.append(path);
    }
    return removed;
}

ff::Expected<std::optional<OutputFile>> OutputFile::tryReserve(const QString &dir, const QString &stem,
                                                               const QString &suffix)
{
    const QString finalPath = QDir(dir).absoluteFilePath(stem + suffix);
    if (QFileInfo::exists(finalPath))
        return std::optional<OutputFile>();
    const QString extension = QFileInfo(finalPath).suffix();
    const QString tempPath = QDir(dir).absoluteFilePath(
        QStringLiteral(".%1%2.partial.%3").arg(stem, suffix.chopped(extension.size() + 1), extension));
    const QByteArray native = QFile::encodeName(tempPath);
    raiseDescriptorLimit();
    // Each round that does not settle lost a race over a stale file of this name; a few are
    // plenty, and after them the name counts as taken.
    for (int round = 0; round < 4; ++round) {
        const int fd = ::open(native.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            if (errno != EEXIST)
                return ff::writeError(AVERROR(errno), QStringLiteral("the output folder %1").arg(dir));
            if (removeIfStale(tempPath) == Partial::Live)
                return std::optional<OutputFile>(); // another job holds this name
            continue;                               // a dead writer's file, gone now: take the name
        }
        // Until the lock is ours someone clearing stale files may take this one for dead: then
        // it is gone or going, and we start again.
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || !namesFile(native, fd)) {
            ::close(fd);
            continue;
        }
        OutputFile file;
        file.m_temporary = tempPath;
        file.m_final = finalPath;
        file.m_lock = fd;
        return std::optional<OutputFile>(std::move(file));
    }
    return std::optional<OutputFile>();
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
            // The name now holds the old file, locked by the old descriptor: keep that one (the
            // fresh reservation's file is gone, and its descriptor is dropped with `old`).
            std::swap(old.m_lock, moved[i].m_lock);
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
      m_lock(std::exchange(other.m_lock, -1)), m_committed(std::exchange(other.m_committed, false))
{ }

OutputFile &OutputFile::operator=(OutputFile &&other) noexcept
{
    if (this != &other) {
        release();
        m_temporary = std::exchange(other.m_temporary, {});
        m_final = std::exchange(other.m_final, {});
        m_lock = std::exchange(other.m_lock, -1);
        m_committed = std::exchange(other.m_committed, false);
    }
    return *this;
}

OutputFile::~OutputFile()
{
    release();
}

void OutputFile::release()
{
    // Removed before the lock goes, so that it is never there unlocked.
    if (!m_committed && !m_temporary.isEmpty())
        QFile::remove(m_temporary);
    if (m_lock >= 0)
        ::close(m_lock);
    m_lock = -1;
}

std::optional<Error> OutputFile::commit()
{
    // Atomic, and never over a file that appeared under the final name while the job ran.
    if (renameNoReplace(QFile::encodeName(m_temporary), QFile::encodeName(m_final)) != 0) {
        if (errno == EEXIST) {
            return Error{errors::OutputExists,
                         QStringLiteral("A file named %1 appeared in the output folder while the job ran; it was left "
                                        "as it is. Run the job again to write its output under another name.")
                             .arg(QFileInfo(m_final).fileName())};
        }
        return ff::writeError(AVERROR(errno), m_final);
    }
    m_committed = true;
    if (m_lock >= 0)
        ::close(m_lock); // the partial name is gone: nothing left to hold
    m_lock = -1;
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
