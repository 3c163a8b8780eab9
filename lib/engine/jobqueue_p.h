#pragma once

// Internal to the engine: the jobs waiting to run, in two pools (heavy encodes, light jobs)
// that have separate concurrency limits. Within a pool: higher priority first, then first come
// first served. Pure data structure; the engine decides when a slot is free.

#include <QHash>
#include <QString>

#include <optional>
#include <set>

namespace clipdeck::engine {

enum class Pool { Light = 0, Heavy = 1 };

class JobQueue
{
public:
    // order: a number that grows with every (re)submission; the FIFO tie-break.
    void push(const QString &id, int priority, quint64 order, Pool pool);
    bool remove(const QString &id);
    bool contains(const QString &id) const { return m_index.contains(id); }
    std::optional<QString> takeNext(Pool pool);
    std::optional<QString> peekNext(Pool pool) const;
    qsizetype size(Pool pool) const { return qsizetype(m_pools[int(pool)].size()); }
    qsizetype size() const { return m_index.size(); }

private:
    struct Key
    {
        int priority;
        quint64 order;
        QString id;
        bool operator<(const Key &other) const
        {
            if (priority != other.priority)
                return priority > other.priority;
            if (order != other.order)
                return order < other.order;
            return id < other.id;
        }
    };
    std::set<Key> m_pools[2];
    QHash<QString, std::pair<Pool, Key>> m_index;
};

} // namespace clipdeck::engine
