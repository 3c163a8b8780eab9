#pragma once

// Holds a file as a running job holds its partial output (lib/media/outputfile_p.h): open, with an
// exclusive flock, until destroyed. A partial file nobody holds is a dead job's, and the
// operations take its name; tests that mean "another job is writing this" hold it with this.

#include <QFile>
#include <QString>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace fixtures {

class LivePartial
{
public:
    explicit LivePartial(const QString &path)
    {
        m_fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
        if (m_fd >= 0 && ::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
            ::close(m_fd);
            m_fd = -1;
        }
    }
    ~LivePartial()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    LivePartial(const LivePartial &) = delete;
    LivePartial &operator=(const LivePartial &) = delete;

    bool isHeld() const { return m_fd >= 0; }
    // The writer is gone (its lock with it): from now on the file is a dead job's.
    void release()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }

private:
    int m_fd = -1;
};

} // namespace fixtures
