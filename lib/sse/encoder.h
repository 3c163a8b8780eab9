#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

namespace clipdeck::sse {

// What a server writes for one event. Fields left empty (std::nullopt) are not written;
// an id present but empty resets the client's last event ID.
struct OutgoingEvent
{
    QByteArrayView data;              // UTF-8; split on CR, LF and CRLF into data lines
    std::optional<QByteArrayView> id; // must not contain CR, LF or NUL
    QByteArrayView type;              // empty means the default "message"; no CR, LF, NUL
    std::optional<int> retryMs;       // reconnection time hint, >= 0
};

// Appends the event in wire format to out, ending with the blank line that dispatches it.
// Returns false and appends nothing when the id or type contains CR, LF or NUL (or when
// retryMs is negative, which the wire format cannot carry).
// Empty data is written as one "data:" line, so clients do dispatch an event with empty data.
// A client parses back exactly these fields, except that CR and CRLF in data come back as LF.
bool appendEvent(QByteArray &out, const OutgoingEvent &event);

// Appends a comment (one ':' line per line of text): heartbeats and notes a client ignores.
// A Parser reports each line back, the text without the one space written after ':'.
void appendComment(QByteArray &out, QByteArrayView text);

// Appends a lone "retry:" field terminated by a blank line (dispatches nothing). Negative
// values append nothing.
void appendRetry(QByteArray &out, int milliseconds);

} // namespace clipdeck::sse
