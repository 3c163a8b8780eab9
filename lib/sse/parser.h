#pragma once

#include "sse/event.h"

#include <QByteArrayView>
#include <QString>

#include <functional>
#include <memory>

namespace clipdeck::sse {

// Incremental, byte-oriented parser for the text/event-stream format (WHATWG HTML,
// "Server-sent events", interpreting an event stream). Feed it the bytes as they arrive, in
// any chunking: the result is the same, and the work is linear in the input.
//
// Callbacks run inside feed(). They may call reset(), endOfStream() (either drops the rest of
// the chunk being fed), setCallbacks() (effective after the running callback returns),
// setLastEventId(), setMaxEventSize(), or destroy the parser; they must not call feed().
// Not thread-safe: use one parser from one thread at a time.
class Parser
{
public:
    static constexpr qsizetype DefaultMaxEventSize = 16 * 1024 * 1024;

    struct Callbacks
    {
        std::function<void(const Event &)> event;
        // optional: a line starting with ':'; text is the rest, minus one leading space
        std::function<void(QStringView text)> comment;
        std::function<void(int milliseconds)> retry; // optional: a valid retry field
    };

    explicit Parser(Callbacks callbacks = {});
    ~Parser();
    Parser(Parser &&) noexcept;
    Parser &operator=(Parser &&) noexcept;

    void setCallbacks(Callbacks callbacks);

    // Largest event (its data buffer, or one line) accepted before the stream is refused.
    // At least 1.
    void setMaxEventSize(qsizetype bytes);
    qsizetype maxEventSize() const;

    // Parses a chunk. Returns false, and ignores all further input, once the stream broke a
    // limit; errorString() then says why.
    bool feed(QByteArrayView chunk);

    // The connection ended: an unterminated event is discarded (its id is not committed) and
    // the next bytes start a new stream (a leading BOM is stripped again). The last event ID
    // survives, as a reconnecting EventSource needs it. A limit error is cleared too: the
    // next stream starts clean.
    void endOfStream();

    // Forget everything, including the last event ID and any error (the callbacks and the
    // maximum event size stay).
    void reset();

    // The last event ID as of the last blank line (dispatched event or not), never one from an
    // event still being received.
    QString lastEventId() const;
    void setLastEventId(const QString &id);

    bool hasError() const;
    QString errorString() const;

private:
    struct State;
    std::unique_ptr<State> d;
};

} // namespace clipdeck::sse
