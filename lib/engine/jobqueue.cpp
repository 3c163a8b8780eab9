#include "engine/jobqueue_p.h"

namespace clipdeck::engine {

void JobQueue::push(const QString &id, int priority, quint64 order, Pool pool)
{
    remove(id);
    Key key{priority, order, id};
    m_pools[int(pool)].insert(key);
    m_index.insert(id, {pool, std::move(key)});
}

bool JobQueue::remove(const QString &id)
{
    const auto it = m_index.constFind(id);
    if (it == m_index.constEnd())
        return false;
    m_pools[int(it->first)].erase(it->second);
    m_index.erase(it);
    return true;
}

std::optional<QString> JobQueue::peekNext(Pool pool) const
{
    const auto &set = m_pools[int(pool)];
    if (set.empty())
        return std::nullopt;
    return set.begin()->id;
}

std::optional<QString> JobQueue::takeNext(Pool pool)
{
    auto &set = m_pools[int(pool)];
    if (set.empty())
        return std::nullopt;
    QString id = set.begin()->id;
    set.erase(set.begin());
    m_index.remove(id);
    return id;
}

} // namespace clipdeck::engine
