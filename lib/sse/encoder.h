#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

namespace clipdeck::sse {

// What a server writes for one event. Fields left empty (std::nullopt) are not written;
// an id present but empty resets the client's last event ID.
struct OutgoingEvent
{
    QByteArrayView data;                 // UTF-8; split on CR, LF and CRLF into data lines
    std::optional<QByteArrayView> id;    // must not contain CR, LF or NUL
    QByteArrayView type;                 // empty means the default "message"; no CR, LF, NUL
    std::optional<int> retryMs;          // reconnection time hint, >= 0
};

// Appends the event in wire format to out, ending with the blank line that dispatches it.
// Returns false and appends nothing when the id or type contains CR, LF or NUL.
bool appendEvent(QByteArray &out, const OutgoingEvent &event);

// Appends a comment (one ':' line per line of text): heartbeats and notes a client ignores.
void appendComment(QByteArray &out, QByteArrayView text);

// Appends a lone "retry:" field terminated by a blank line (dispatches nothing).
void appendRetry(QByteArray &out, int milliseconds);

} // namespace clipdeck::sse
