#include "server/range.h"

#include "http/requestparser.h"

#include <QByteArray>

#include <algorithm>
#include <optional>

namespace clipdeck::server {

std::variant<WholeFile, ByteRange, Unsatisfiable> parseRange(QByteArrayView header, qint64 size)
{
    const QByteArray h = header.toByteArray().trimmed();
    if (!h.startsWith("bytes="))
        return WholeFile{};
    const QByteArray spec = h.mid(6).trimmed();
    if (spec.contains(','))
        return WholeFile{}; // several ranges: answered with the whole file, as allowed
    const qsizetype dash = spec.indexOf('-');
    if (dash < 0)
        return WholeFile{};
    const QByteArrayView left = QByteArrayView(spec).first(dash);
    const QByteArrayView right = QByteArrayView(spec).sliced(dash + 1);
    if (left.isEmpty()) {
        // suffix: the last N bytes
        const auto n = http::parseDecimal(right);
        if (!n)
            return WholeFile{};
        if (*n == 0 || size == 0)
            return Unsatisfiable{};
        return ByteRange{std::max<qint64>(0, size - *n), size - 1};
    }
    const auto first = http::parseDecimal(left);
    if (!first)
        return WholeFile{};
    qint64 last = size - 1;
    if (!right.isEmpty()) {
        const auto l = http::parseDecimal(right);
        if (!l || *l < *first)
            return WholeFile{};
        last = std::min(*l, size - 1);
    }
    if (*first >= size)
        return Unsatisfiable{};
    return ByteRange{*first, last};
}

} // namespace clipdeck::server
