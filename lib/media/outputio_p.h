#pragma once

// Internal to lib/media: the AVIOContext a muxer writes its file through. It does what FFmpeg's
// own file protocol does, plus two things the transcoder needs: it keeps the errno of a failed
// write (ENOSPC is disk_full, EACCES is output_unwritable — FFmpeg's return codes lose that
// once a muxer wraps them), and it counts bytes, calling a hook on every write once the caller
// asks for it. That is how the +faststart rewrite in av_write_trailer — which moves the whole
// file up to make room for the index — reports progress and can be canceled, instead of
// sitting "stuck at 99%".

#include "media/ffmpeg_p.h"

extern "C" {
#include <libavformat/avio.h>
}

#include <functional>
#include <memory>

namespace clipdeck::media {

class OutputIO
{
public:
    // Opens an existing (reserved) file for writing, truncating it.
    static ff::Expected<std::unique_ptr<OutputIO>> open(const QString &path);
    ~OutputIO();
    OutputIO(const OutputIO &) = delete;
    OutputIO &operator=(const OutputIO &) = delete;

    AVIOContext *context() const { return m_io; }

    // Called after every write with the bytes written since setWriteHook(); returning false
    // fails the write (and so the muxer call in progress) with AVERROR_EXIT.
    void setWriteHook(std::function<bool(qint64 bytesSinceHook)> hook);

    qint64 size() const { return m_size; }      // bytes in the file so far
    int failedErrno() const { return m_errno; } // errno of the first failed write or seek, or 0
    bool hookRefused() const { return m_hookRefused; }

    // Flushes and closes the file. 0, or the errno (close(2) can report a deferred write error).
    int close();

private:
    OutputIO() = default;
    static int writePacket(void *opaque,
#if LIBAVFORMAT_VERSION_MAJOR < 61
                           uint8_t *buffer,
#else
                           const uint8_t *buffer,
#endif
                           int size);
    static int64_t seek(void *opaque, int64_t offset, int whence);

    int m_fd = -1;
    AVIOContext *m_io = nullptr;
    qint64 m_position = 0;
    qint64 m_size = 0;
    int m_errno = 0;
    bool m_hookRefused = false;
    qint64 m_hookBytes = 0;
    std::function<bool(qint64)> m_hook;
};

} // namespace clipdeck::media
