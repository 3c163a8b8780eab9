#include "sse/encoder.h"

#include <algorithm>

namespace clipdeck::sse {

namespace {

bool isSingleLine(QByteArrayView value)
{
    return std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// "name: value", or a bare "name:" for an empty value. The space is always written before a
// value, because a parser strips exactly one: a value that itself starts with a space keeps it.
void appendLine(QByteArray &out, QByteArrayView name, QByteArrayView value)
{
    out.append(name);
    out.append(':');
    if (!value.isEmpty()) {
        out.append(' ');
        out.append(value);
    }
    out.append('\n');
}

// One line per line of text, split on CR, LF and CRLF; text without a line break (even an
// empty one) is one line. A parser joins the lines back with LF.
void appendLines(QByteArray &out, QByteArrayView name, QByteArrayView text)
{
    const char *const begin = text.data();
    const char *const end = begin + text.size();
    const char *start = begin;
    for (const char *p = begin; p != end; ++p) {
        if (*p != '\r' && *p != '\n')
            continue;
        appendLine(out, name, QByteArrayView(start, p - start));
        if (*p == '\r' && p + 1 != end && p[1] == '\n')
            ++p;
        start = p + 1;
    }
    appendLine(out, name, QByteArrayView(start, end - start));
}

void reserveFor(QByteArray &out, qsizetype extra)
{
    // Exact reserve() calls on a buffer that collects many events would copy it each time.
    if (out.capacity() - out.size() < extra)
        out.reserve(std::max(out.size() + extra, 2 * out.capacity()));
}

} // namespace

bool appendEvent(QByteArray &out, const OutgoingEvent &event)
{
    if ((event.id && !isSingleLine(*event.id)) || !isSingleLine(event.type))
        return false;
    if (event.retryMs && *event.retryMs < 0)
        return false;

    reserveFor(out, event.data.size() + (event.id ? event.id->size() : 0) + event.type.size() + 48);
    if (event.id)
        appendLine(out, "id", *event.id);
    if (!event.type.isEmpty())
        appendLine(out, "event", event.type);
    if (event.retryMs)
        appendLine(out, "retry", QByteArray::number(*event.retryMs));
    // Empty data still gets its one "data:" line, so clients dispatch an event whose data is
    // empty; without any data line they would dispatch nothing.
    appendLines(out, "data", event.data);
    out.append('\n');
    return true;
}

void appendComment(QByteArray &out, QByteArrayView text)
{
    appendLines(out, QByteArrayView(), text);
}

void appendRetry(QByteArray &out, int milliseconds)
{
    if (milliseconds < 0)
        return;
    appendLine(out, "retry", QByteArray::number(milliseconds));
    out.append('\n');
}

} // namespace clipdeck::sse
