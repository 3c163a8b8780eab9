#pragma once

#include <QString>

namespace clipdeck::sse {

// One dispatched event, as the WHATWG processing model defines it.
struct Event
{
    QString type = QStringLiteral("message"); // "message" when the stream named none
    QString data;                             // data lines joined with LF, last LF removed
    QString lastEventId;                      // the last event ID buffer when dispatched

    friend bool operator==(const Event &, const Event &) = default;
};

} // namespace clipdeck::sse
