#include "media/outputio_p.h"

#include <QFile>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace clipdeck::media {

// Large enough that the muxer's small writes coalesce into few system calls.
static constexpr int BufferSize = 256 * 1024;

ff::Expected<std::unique_ptr<OutputIO>> OutputIO::open(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return ff::writeError(AVERROR(errno), path);
    std::unique_ptr<OutputIO> io(new OutputIO);
    io->m_fd = fd;
    auto *buffer = static_cast<unsigned char *>(av_malloc(BufferSize));
    io->m_io =
        buffer ? avio_alloc_context(buffer, BufferSize, 1, io.get(), nullptr, &OutputIO::writePacket, &OutputIO::seek)
               : nullptr;
    if (!io->m_io) {
        av_free(buffer);
        return Error{errors::Internal, QStringLiteral("Out of memory opening %1.").arg(path)};
    }
    return io;
}

OutputIO::~OutputIO()
{
    if (m_io) {
        av_freep(&m_io->buffer);
        avio_context_free(&m_io);
    }
    if (m_fd >= 0)
        ::close(m_fd);
}

void OutputIO::setWriteHook(std::function<bool(qint64)> hook)
{
    m_hook = std::move(hook);
    m_hookBytes = 0;
}

int OutputIO::writePacket(void *opaque,
#if LIBAVFORMAT_VERSION_MAJOR < 61
                          uint8_t *buffer,
#else
                          const uint8_t *buffer,
#endif
                          int size)
{
    auto *self = static_cast<OutputIO *>(opaque);
    int done = 0;
    while (done < size) {
        const ssize_t n = ::write(self->m_fd, buffer + done, size_t(size - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : EIO;
            if (!self->m_errno)
                self->m_errno = err;
            return AVERROR(err);
        }
        done += int(n);
    }
    self->m_position += size;
    self->m_size = std::max(self->m_size, self->m_position);
    if (self->m_hook) {
        self->m_hookBytes += size;
        if (!self->m_hook(self->m_hookBytes)) {
            self->m_hookRefused = true;
            return AVERROR_EXIT;
        }
    }
    return size;
}

int64_t OutputIO::seek(void *opaque, int64_t offset, int whence)
{
    auto *self = static_cast<OutputIO *>(opaque);
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE)
        return self->m_size;
    const off_t at = ::lseek(self->m_fd, off_t(offset), whence);
    if (at < 0) {
        if (!self->m_errno)
            self->m_errno = errno;
        return AVERROR(errno);
    }
    self->m_position = at;
    return at;
}

int OutputIO::close()
{
    int err = 0;
    if (m_io) {
        avio_flush(m_io);
        if (m_io->error < 0 && !m_errno)
            err = AVUNERROR(m_io->error);
    }
    if (m_fd >= 0) {
        if (::close(m_fd) != 0 && !err)
            err = errno;
        m_fd = -1;
    }
    return m_errno ? m_errno : err;
}

} // namespace clipdeck::media
