#pragma once

// Deadlines of many objects (connections, streams) checked at the cost of what expires, not of
// how many there are: a hashed timing wheel. Used by http::Server (request, idle, send and
// linger deadlines) and server::StreamHub (heartbeats, idle streams).
//
// Why: the alternative, a timer walking every object every fraction of a second, cost ~0.5 ms
// per walk with 8000 connections, and a publish arriving meanwhile waited for it
// (docs/benchmarks.md, issue #4). nginx keeps timers in a tree, libuv in a heap; a wheel does the
// same job with O(1) arm and remove and no allocation (the links live in the entry), which
// matters because a deadline moves on every read of a request.
//
// How: time is cut into ticks of `granularity` ms; slot (tick mod slots) holds the entries to
// look at when that tick is reached, in an intrusive list. An entry is linked into the slot of
// the first tick at or after its deadline (at most `slots` ticks ahead: a farther deadline is
// looked at once per turn of the wheel and put back). Moving a deadline LATER does not move the
// entry — that is the common case (every read or write pushes a timeout out), so it costs a
// store; when the slot comes round, the entry's real deadline is checked and the entry goes back
// into the wheel if it is not due yet. Only a deadline moved EARLIER than the slot it is in is
// relinked. Disarming unlinks the entry (O(1)).
//
// Nothing here reads a clock: callers pass their own millisecond time, which must not go
// backwards (tests drive it by hand). An expired entry comes out at most one granularity (plus
// the caller's timer lateness) after its deadline, never before it.

#include <QtGlobal>

#include <memory>

namespace clipdeck::http {

class DeadlineWheel
{
    struct Link
    {
        Link *prev = nullptr;
        Link *next = nullptr;
    };

public:
    // Derive from this (the wheel hands back Entry *; static_cast to the derived type). An entry
    // is in at most one wheel; it unlinks itself when destroyed, so a dead object is never
    // handed back.
    class Entry : private Link
    {
    public:
        Entry() = default;
        Entry(const Entry &) = delete;
        Entry &operator=(const Entry &) = delete;
        ~Entry() { DeadlineWheel::unlink(this); }

        // What the last arm() asked for; 0: none (disarmed, or handed back as expired).
        qint64 deadline() const { return m_deadline; }

    private:
        friend class DeadlineWheel;
        qint64 m_deadline = 0;
        qint64 m_tick = 0; // the tick whose slot holds the entry, while linked
    };

    explicit DeadlineWheel(qint64 granularityMs, int slots = 512);
    ~DeadlineWheel();
    DeadlineWheel(const DeadlineWheel &) = delete;
    DeadlineWheel &operator=(const DeadlineWheel &) = delete;

    // The entry expires at `deadline` (ms on the caller's clock, > 0); 0 disarms it (as
    // remove()). O(1), no allocation; a later deadline than the one the entry is filed under
    // costs a store only.
    void arm(Entry &entry, qint64 deadline);
    // Out of the wheel; nothing if it is not in it.
    void remove(Entry &entry);

    // The next entry whose deadline is at or before `now`, or nullptr when there is none left.
    // Call it until it returns nullptr. An entry comes out once per arm(): it is out of the wheel
    // and disarmed when handed back, and the caller may re-arm it, arm or remove others (entries
    // still waiting in this pass too) and destroy it.
    Entry *takeExpired(qint64 now);

    // No entry is armed (some may be filed under an earlier deadline than their real one): a
    // caller's timer may stop. O(slots).
    bool isEmpty() const;
    qint64 granularity() const { return m_granularity; }

private:
    static void unlink(Link *link);
    static void append(Link &list, Link *link);
    static void spliceAll(Link &from, Link &to);
    qint64 tickFor(qint64 deadline) const;
    void link(Entry &entry, qint64 tick);

    qint64 m_granularity;
    int m_slotCount;
    std::unique_ptr<Link[]> m_slots; // circular lists with a sentinel each
    Link m_pending;                  // taken out of their slots, being looked at by takeExpired()
    qint64 m_tick = 0;               // the last tick whose slot was taken
};

} // namespace clipdeck::http
