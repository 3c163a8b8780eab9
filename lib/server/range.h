#pragma once

// The Range header of a download (RFC 9110 14.2): a single byte range. Anything else a server
// may ignore (several ranges, other units, a malformed header) means the whole file.

#include <QByteArrayView>

#include <variant>

namespace clipdeck::server {

struct ByteRange
{
    qint64 first = 0; // inclusive
    qint64 last = 0;  // inclusive
    qint64 length() const { return last - first + 1; }
};
struct WholeFile
{ };
struct Unsatisfiable
{ }; // 416

std::variant<WholeFile, ByteRange, Unsatisfiable> parseRange(QByteArrayView header, qint64 size);

} // namespace clipdeck::server
