#pragma once

// Internal to lib/media. A file an operation produces is written under a temporary name in its
// destination folder and renamed into place only on success: failure and cancel leave nothing
// behind, and nothing existing is ever overwritten.
//
// The temporary ("partial") file is also what holds the final name against other jobs, here and
// in other processes: it is created exclusively, and locked (flock) for as long as its writer
// owns it. A process that dies (kill -9, a crash, a power cut) cannot remove its partial files,
// but the kernel drops its locks: an unlocked partial file is stale. A stale partial holds no
// name (the next reservation of it removes it and takes the name) and removeStalePartials
// (operation.h) clears them away. One descriptor per partial file stays open until commit.

#include "media/ffmpeg_p.h"

#include <QList>
#include <QString>

#include <vector>

namespace clipdeck::media {

class OutputFile
{
public:
    // Reserves `dir/baseName + suffix` (suffix includes the extension, e.g. ".contact.jpg"), or
    // `baseName-2 + suffix`, `-3` ... when that name is taken. The reservation is an exclusively
    // created temporary file, so two jobs never pick the same name.
    static ff::Expected<OutputFile> reserve(const QString &dir, const QString &baseName, const QString &suffix);

    OutputFile(OutputFile &&other) noexcept;
    OutputFile &operator=(OutputFile &&other) noexcept;
    OutputFile(const OutputFile &) = delete;
    OutputFile &operator=(const OutputFile &) = delete;
    ~OutputFile(); // removes the temporary file unless committed

    QString temporaryPath() const { return m_temporary; } // write here (keeps the extension)
    QString finalPath() const { return m_final; }

    // Renames the temporary file into place. Errors: output_unwritable.
    std::optional<Error> commit();

    // The committed file as an operation output.
    Output output(const QString &role, const QString &mimeType) const;

private:
    friend class OutputSet;
    OutputFile() = default;
    // Reserves exactly `dir/stem + suffix`: nullopt when that name exists or another live job
    // holds it. A stale partial file of that name is removed and the name taken.
    static ff::Expected<std::optional<OutputFile>> tryReserve(const QString &dir, const QString &stem,
                                                              const QString &suffix);
    void release(); // removes the temporary file (unless committed) and drops the lock
    QString m_temporary;
    QString m_final;
    int m_lock = -1; // open on the temporary file, holding its flock while it is ours
    bool m_committed = false;
};

// The outputs of one operation that makes several (thumbnails + contact sheet + poster, a scene
// list + its pictures). They share ONE stem, `clip.*` or `clip-2.*`, never a mix: the names are
// how a user (and the scene list, which names its pictures) tells one job's files from another's,
// and reserving each file on its own would give `clip.thumb-01.jpg` beside `clip-2.contact.jpg`
// when only `clip.contact.jpg` existed. Committed all or nothing.
class OutputSet
{
public:
    OutputSet(const QString &dir, const QString &baseName);

    // Reserves `stem + suffix` and returns its index in the set. The stem is `baseName`, or
    // `baseName-2`, `-3` ... the first for which none of the set's names exists nor is held by
    // another job; when a later suffix is taken under the current stem, every reservation moves
    // (with what was already written to it, by rename) to the next stem where all are free. So
    // file(i)'s paths may change with each reserve(): take the temporary path right before
    // writing, and final names only once the last reserve() has returned. Errors:
    // output_unwritable, disk_full.
    ff::Expected<int> reserve(const QString &suffix, const QString &role, const QString &mimeType);

    const OutputFile &file(int index) const { return m_files[size_t(index)].file; }

    // Renames every output into place, the first reserved last: an operation reserves the file
    // that names the others (the scene list) first, so it appears only once they are all there.
    // On a failure the ones already committed are removed again. Outputs in reservation order.
    ff::Expected<QList<Output>> commit();

private:
    std::optional<Error> moveToNextStem();
    QString stem() const;

    struct Pending
    {
        OutputFile file;
        QString suffix, role, mimeType;
    };
    QString m_dir;
    QString m_baseName;
    int m_number = 1; // the stem: baseName, or baseName-<number> from 2 on
    std::vector<Pending> m_files;
};

// Writes `bytes` as the whole content of `path` (created if missing). POSIX calls rather than
// QFile, because errno is what tells a full disk (disk_full) from a forbidden folder
// (output_unwritable).
std::optional<Error> writeWholeFile(const QString &path, const QByteArray &bytes);

} // namespace clipdeck::media
