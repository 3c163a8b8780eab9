#include "http/deadlinewheel.h"

#include <algorithm>

namespace clipdeck::http {

namespace {

void makeEmpty(auto &sentinel)
{
    sentinel.prev = sentinel.next = &sentinel;
}

} // namespace

DeadlineWheel::DeadlineWheel(qint64 granularityMs, int slots)
    : m_granularity(std::max<qint64>(1, granularityMs)), m_slotCount(std::max(2, slots)),
      m_slots(std::make_unique<Link[]>(size_t(m_slotCount)))
{
    for (int i = 0; i < m_slotCount; ++i)
        makeEmpty(m_slots[i]);
    makeEmpty(m_pending);
}

DeadlineWheel::~DeadlineWheel()
{
    // Entries may outlive the wheel (their owners go later): leave none pointing into it.
    auto release = [](Link &list) {
        while (list.next != &list)
            unlink(list.next);
    };
    for (int i = 0; i < m_slotCount; ++i)
        release(m_slots[i]);
    release(m_pending);
}

void DeadlineWheel::unlink(Link *link)
{
    if (!link->next)
        return;
    link->prev->next = link->next;
    link->next->prev = link->prev;
    link->prev = link->next = nullptr;
}

void DeadlineWheel::append(Link &list, Link *link)
{
    link->prev = list.prev;
    link->next = &list;
    list.prev->next = link;
    list.prev = link;
}

void DeadlineWheel::spliceAll(Link &from, Link &to)
{
    if (from.next == &from)
        return;
    from.next->prev = to.prev;
    to.prev->next = from.next;
    from.prev->next = &to;
    to.prev = from.prev;
    makeEmpty(from);
}

// The first tick at or after the deadline (so an entry is never looked at before it is due),
// but always a future one, and never more than a turn of the wheel ahead.
qint64 DeadlineWheel::tickFor(qint64 deadline) const
{
    const qint64 tick = (deadline + m_granularity - 1) / m_granularity;
    return std::clamp(tick, m_tick + 1, m_tick + m_slotCount);
}

void DeadlineWheel::link(Entry &entry, qint64 tick)
{
    entry.m_tick = tick;
    append(m_slots[tick % m_slotCount], &entry);
}

void DeadlineWheel::arm(Entry &entry, qint64 deadline)
{
    if (deadline <= 0) {
        // Unlinked now rather than dropped when its slot comes: a wave of connections that all
        // stop having a deadline at once (8000 streams started after their request heads) would
        // otherwise come back as one long pass over dead entries.
        remove(entry);
        return;
    }
    const qint64 tick = tickFor(deadline);
    if (entry.next) {
        if (entry.m_tick <= tick) {
            // Filed under a tick no later than the new deadline's: it will be looked at in time
            // and put back then. The hot path: a store.
            entry.m_deadline = deadline;
            return;
        }
        unlink(&entry);
    }
    entry.m_deadline = deadline;
    link(entry, tick);
}

void DeadlineWheel::remove(Entry &entry)
{
    unlink(&entry);
    entry.m_deadline = 0;
}

DeadlineWheel::Entry *DeadlineWheel::takeExpired(qint64 now)
{
    const qint64 target = now / m_granularity; // the last tick that has fully begun
    for (;;) {
        while (m_pending.next != &m_pending) {
            auto *entry = static_cast<Entry *>(m_pending.next);
            unlink(entry);
            if (entry->m_deadline > now) {
                link(*entry, tickFor(entry->m_deadline)); // moved later since: file it again
                continue;
            }
            entry->m_deadline = 0;
            return entry;
        }
        if (target <= m_tick)
            return nullptr;
        if (target - m_tick >= m_slotCount) {
            // A whole turn (or more) has passed since the last call: every slot is due.
            for (int i = 0; i < m_slotCount; ++i)
                spliceAll(m_slots[i], m_pending);
            m_tick = target;
        } else {
            ++m_tick;
            spliceAll(m_slots[m_tick % m_slotCount], m_pending);
        }
    }
}

bool DeadlineWheel::isEmpty() const
{
    if (m_pending.next != &m_pending)
        return false;
    for (int i = 0; i < m_slotCount; ++i) {
        if (m_slots[i].next != &m_slots[i])
            return false;
    }
    return true;
}

} // namespace clipdeck::http
