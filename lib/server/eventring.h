#pragma once

// A bounded history of encoded events, for Last-Event-ID replay. Keys increase (a job's seq, or
// the server-wide cursor of a user's events; gaps are fine). The ring knows how far back it is
// complete: every event with a key above coveredFrom() is in it, so a client that saw key K can
// be given exactly what it missed when K >= coveredFrom(), and must start over otherwise.

#include <QByteArray>
#include <QList>

#include <optional>

namespace clipdeck::server {

class EventRing
{
public:
    // coveredFrom: the key before the first event this ring will see.
    explicit EventRing(quint64 coveredFrom = 0) : m_coveredFrom(coveredFrom) { }

    // Appends, dropping the oldest events past `capacity`; returns the change in bytes held.
    qint64 append(quint64 key, const QByteArray &bytes, int capacity);
    // The events after `key`, oldest first; nullopt when the ring does not reach back to it.
    std::optional<QList<QByteArray>> after(quint64 key) const;
    // Drops everything (the ring then covers nothing before its last key); returns bytes freed.
    qint64 clear();

    bool isEmpty() const { return m_entries.isEmpty(); }
    qsizetype size() const { return m_entries.size(); }
    quint64 coveredFrom() const { return m_coveredFrom; }
    std::optional<quint64> lastKey() const;
    qint64 bytes() const { return m_bytes; }

private:
    struct Entry
    {
        quint64 key;
        QByteArray bytes;
    };
    QList<Entry> m_entries;
    quint64 m_coveredFrom;
    qint64 m_bytes = 0;
};

} // namespace clipdeck::server
