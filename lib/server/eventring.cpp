#include "server/eventring.h"

namespace clipdeck::server {

qint64 EventRing::append(quint64 key, const QByteArray &bytes, int capacity)
{
    qint64 delta = bytes.size();
    m_entries.append({key, bytes});
    while (m_entries.size() > qMax(1, capacity)) {
        m_coveredFrom = m_entries.first().key;
        delta -= m_entries.first().bytes.size();
        m_entries.removeFirst(); // O(1) in Qt 6: the list just moves its start
    }
    m_bytes += delta;
    return delta;
}

std::optional<QList<QByteArray>> EventRing::after(quint64 key) const
{
    if (key < m_coveredFrom)
        return std::nullopt;
    QList<QByteArray> out;
    // Keys increase: find the first one above `key` from the back (clients are usually behind
    // by a few events).
    qsizetype i = m_entries.size();
    while (i > 0 && m_entries.at(i - 1).key > key)
        --i;
    out.reserve(m_entries.size() - i);
    for (; i < m_entries.size(); ++i)
        out.append(m_entries.at(i).bytes);
    return out;
}

qint64 EventRing::clear()
{
    const qint64 freed = m_bytes;
    if (!m_entries.isEmpty())
        m_coveredFrom = m_entries.last().key;
    m_entries.clear();
    m_entries.squeeze();
    m_bytes = 0;
    return freed;
}

std::optional<quint64> EventRing::lastKey() const
{
    if (m_entries.isEmpty())
        return std::nullopt;
    return m_entries.last().key;
}

} // namespace clipdeck::server
