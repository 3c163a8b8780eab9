#include "http/readiness_p.h"

#include "http/connection_p.h"

#include <QLoggingCategory>
#include <QSocketNotifier>

#include <cerrno>
#include <cstring>

#ifdef Q_OS_LINUX
#include <sys/epoll.h>
#include <unistd.h>
#endif

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace clipdeck::http {

namespace {

quint64 makeKey(int fd, quint32 generation)
{
    return quint64(generation) << 32 | quint32(fd);
}

#ifdef Q_OS_LINUX

// Events taken from the kernel per activation of the notifier. Bounded so that a flood of ready
// sockets cannot keep timers and posted events (publishes reach streams that way) waiting: the
// epoll descriptor stays readable while events are pending, so Qt comes back for the rest on its
// next round, after those. 256 is far more than a round has at 1000 publishes/s.
constexpr int BatchSize = 256;

class EpollReadiness final : public Readiness
{
public:
    explicit EpollReadiness(int epoll) : m_epoll(epoll), m_notifier(qintptr(epoll), QSocketNotifier::Read)
    {
        QObject::connect(&m_notifier, &QSocketNotifier::activated, &m_notifier, [this] { drain(); });
    }

    ~EpollReadiness() override
    {
        m_notifier.setEnabled(false); // before its descriptor goes
        ::close(m_epoll);
    }

private:
    bool watch(int fd, quint64 key, quint8 previous, quint8 interest) override
    {
        // Level-triggered: a socket is reported on every round while it is ready, so a connection
        // may leave input unread (it reads a bounded amount per round) without losing track of it.
        // A socket with no interest at all leaves the set, as a disabled notifier would: epoll
        // reports hang-ups and errors whatever the mask, and nobody would take them.
        epoll_event event{};
        event.events = (interest & Read ? EPOLLIN : 0u) | (interest & Write ? EPOLLOUT : 0u);
        event.data.u64 = key;
        const int op = previous == 0 ? EPOLL_CTL_ADD : interest == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
        if (::epoll_ctl(m_epoll, op, fd, &event) == 0)
            return true;
        qCWarning(lcHttp, "epoll_ctl(%d) on descriptor %d failed: %s", op, fd, std::strerror(errno));
        return false;
    }

    void drain()
    {
        epoll_event events[BatchSize];
        int n;
        do {
            n = ::epoll_wait(m_epoll, events, BatchSize, 0);
        } while (n < 0 && errno == EINTR);
        for (int i = 0; i < n; ++i) {
            const quint32 e = events[i].events;
            deliver(events[i].data.u64, quint8((e & EPOLLIN ? Readable : 0) | (e & EPOLLOUT ? Writable : 0)
                                               | (e & (EPOLLERR | EPOLLHUP) ? Failed : 0)));
        }
    }

    int m_epoll;
    QSocketNotifier m_notifier;
};

#endif

// The portable way, as lib/http did before the epoll set: a notifier per socket and interest.
// Notifiers are kept by descriptor and reused by the next connection on it, never deleted while
// the server runs (deleting one inside its own activation would not be safe); a disabled one is
// taken off Qt's pending list, so it cannot fire for the next connection on its descriptor.
class NotifierReadiness final : public Readiness
{
private:
    struct Notifiers
    {
        std::unique_ptr<QSocketNotifier> read, write;
        quint64 key = 0;
    };

    bool watch(int fd, quint64 key, quint8, quint8 interest) override
    {
        if (size_t(fd) >= m_byFd.size())
            m_byFd.resize(size_t(fd) + 1);
        m_byFd[size_t(fd)].key = key;
        enable(m_byFd[size_t(fd)].read, fd, QSocketNotifier::Read, interest & Read);
        enable(m_byFd[size_t(fd)].write, fd, QSocketNotifier::Write, interest & Write);
        return true;
    }

    void enable(std::unique_ptr<QSocketNotifier> &notifier, int fd, QSocketNotifier::Type type, bool on)
    {
        if (!notifier) {
            if (!on)
                return;
            notifier = std::make_unique<QSocketNotifier>(qintptr(fd), type);
            const quint8 event = type == QSocketNotifier::Read ? Readable : Writable;
            QObject::connect(notifier.get(), &QSocketNotifier::activated, notifier.get(),
                             [this, fd, event] { deliver(m_byFd[size_t(fd)].key, event); });
        }
        notifier->setEnabled(on);
    }

    std::vector<Notifiers> m_byFd;
};

} // namespace

std::unique_ptr<Readiness> Readiness::create()
{
#ifdef Q_OS_LINUX
    if (qEnvironmentVariable("CLIPDECK_HTTP_READINESS") != QLatin1String("notifiers")) {
        const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll >= 0)
            return std::make_unique<EpollReadiness>(epoll);
        qCWarning(lcHttp, "epoll_create1 failed (%s): one notifier per connection instead", std::strerror(errno));
    }
#endif
    return std::make_unique<NotifierReadiness>();
}

Readiness::~Readiness() = default;

Readiness::Slot *Readiness::slot(int fd)
{
    return fd >= 0 && size_t(fd) < m_slots.size() ? &m_slots[size_t(fd)] : nullptr;
}

bool Readiness::add(int fd, Connection *connection)
{
    Q_ASSERT(fd >= 0 && connection);
    if (size_t(fd) >= m_slots.size())
        m_slots.resize(size_t(fd) + 1);
    Slot &s = m_slots[size_t(fd)];
    Q_ASSERT(!s.connection); // remove() comes before close(), so before the descriptor's reuse
    s = Slot{connection, m_nextGeneration++, 0};
    return setInterest(fd, Read, true);
}

bool Readiness::setInterest(int fd, Interest interest, bool on)
{
    Slot *s = slot(fd);
    if (!s || !s->connection)
        return true;
    const quint8 wanted = on ? quint8(s->interest | interest) : quint8(s->interest & ~interest);
    if (wanted == s->interest)
        return true;
    if (!watch(fd, makeKey(fd, s->generation), s->interest, wanted))
        return false;
    s->interest = wanted;
    return true;
}

void Readiness::remove(int fd)
{
    Slot *s = slot(fd);
    if (!s || !s->connection)
        return;
    if (s->interest != 0)
        watch(fd, makeKey(fd, s->generation), s->interest, 0);
    s->connection = nullptr;
    s->interest = 0;
}

void Readiness::deliver(quint64 key, quint8 events)
{
    const int fd = int(quint32(key));
    const quint32 generation = quint32(key >> 32);
    // Looked up afresh before each call: the read may close the connection (then the slot is
    // empty), and a nested event loop in a handler could even have given the descriptor to a
    // new connection (then the generation differs). m_slots may grow meanwhile: no reference
    // into it is kept across a call.
    const auto current = [&]() -> Slot * {
        Slot *s = slot(fd);
        return s && s->connection && s->generation == generation ? s : nullptr;
    };
    if (Slot *s = current(); s && (s->interest & Read) && (events & (Readable | Failed)))
        s->connection->onReadable();
    if (Slot *s = current(); s && (s->interest & Write) && (events & (Writable | Failed)))
        s->connection->onWritable();
}

} // namespace clipdeck::http
