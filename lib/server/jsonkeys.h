#pragma once

// A check QJsonDocument does not make: JSON (RFC 8259) leaves an object whose names repeat
// unpredictable, and QJsonDocument silently keeps the last value. A request body with a key
// given twice ({"count":2,"count":8}) is refused instead: the client meant one of them, and the
// server must not pick.

#include <QByteArrayView>
#include <QStringList>

#include <optional>

namespace clipdeck::server {

// The first name that repeats within one object of `json`, as the path of object names that
// lead to it ({"params":{"a":1,"a":2}} gives ["params", "a"]; arrays add nothing to the path).
// Names are compared as decoded ("a" and "\u0061" are the same name). Meant for text
// QJsonDocument has accepted; on anything else it stops without reading past the end.
std::optional<QStringList> repeatedKey(QByteArrayView json);

} // namespace clipdeck::server
