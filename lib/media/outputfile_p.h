#pragma once

// Internal to lib/media. A file an operation produces is written under a temporary name in its
// destination folder and renamed into place only on success: failure and cancel leave nothing
// behind, and nothing existing is ever overwritten.

#include "media/ffmpeg_p.h"

#include <QString>

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
    OutputFile() = default;
    QString m_temporary;
    QString m_final;
    bool m_committed = false;
};

// Writes `bytes` as the whole content of `path` (created if missing). POSIX calls rather than
// QFile, because errno is what tells a full disk (disk_full) from a forbidden folder
// (output_unwritable).
std::optional<Error> writeWholeFile(const QString &path, const QByteArray &bytes);

} // namespace clipdeck::media
