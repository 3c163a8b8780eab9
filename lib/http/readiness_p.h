#pragma once

// Which connection sockets can be read or written now: one watcher per Server, internal to
// lib/http.
//
// Why not a QSocketNotifier per connection: with Qt's UNIX event dispatcher (the server runs
// with QT_NO_GLIB) every wake-up of the event loop rebuilds a pollfd array of ALL notifiers and
// ppoll()s it, so with 8000 idle streams each wake-up cost ~1.7 ms of kernel poll work, whatever
// was ready (docs/benchmarks.md, issue #4). On Linux the sockets are in one epoll set instead,
// and Qt watches only the epoll descriptor (one notifier; an epoll descriptor is readable while
// it has events pending): a wake-up costs what is ready, not what is open. Elsewhere (or with
// CLIPDECK_HTTP_READINESS=notifiers in the environment, for testing) a notifier per socket and
// interest does the same job.
//
// Connections are looked up by descriptor and a generation that changes with every add(): an
// event that was collected for a connection closed since (earlier in the same batch, say) finds
// another generation, or nobody, and is dropped; no pointer to a connection is ever stored with
// the kernel or in a pending event.

#include <QtGlobal>

#include <memory>
#include <vector>

namespace clipdeck::http {

class Connection;

class Readiness
{
public:
    enum Interest : quint8 { Read = 1, Write = 2 };

    // epoll on Linux, else one QSocketNotifier per socket and interest.
    static std::unique_ptr<Readiness> create();
    virtual ~Readiness();

    // Starts watching fd for connection, for reading, until remove(fd), which must come before
    // the descriptor is closed. The connection hears of its socket through onReadable() and
    // onWritable(), from the event loop. False (and a warning) when the system refuses.
    [[nodiscard]] bool add(int fd, Connection *connection);
    // Turns one interest on or off; costs a system call only when the set of interests changes
    // (on Linux: epoll_ctl). False (and a warning) when the system refuses.
    [[nodiscard]] bool setInterest(int fd, Interest interest, bool on);
    // Safe at any time, in the middle of delivering a batch of events too.
    void remove(int fd);

protected:
    Readiness() = default;
    // The events of one socket, reported by the subclass: calls the connection if it is still the
    // one `key` was collected for and still wants them. An error or hang-up goes to whichever
    // of its handlers is enabled: that read or write then finds out and closes the connection.
    enum Event : quint8 { Readable = 1, Writable = 2, Failed = 4 };
    void deliver(quint64 key, quint8 events);
    // The subclass makes the system watch fd for `interest` (a mask of Interest; 0: not at
    // all), `previous` being what it watched before. `key` goes back to deliver() with events.
    virtual bool watch(int fd, quint64 key, quint8 previous, quint8 interest) = 0;

private:
    struct Slot
    {
        Connection *connection = nullptr;
        quint32 generation = 0;
        quint8 interest = 0;
    };
    Slot *slot(int fd);
    std::vector<Slot> m_slots; // by descriptor: they are small and dense
    quint32 m_nextGeneration = 1;
};

} // namespace clipdeck::http
