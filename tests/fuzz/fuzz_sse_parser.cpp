// libFuzzer target for clipdeck::sse::Parser (and, through the round trip, the encoder).
//
// Input: two control bytes, then the stream. The first chooses the maximum event size (small
// limits reach the error paths), the second how the stream is cut into chunks. Invariants,
// checked on every input (a broken one aborts, which libFuzzer reports as a crash):
//   - feeding the stream whole and cut into chunks gives the same events, comments, retry
//     values, error state and final last event ID;
//   - once feed() has refused input it refuses all further input, and hasError() agrees;
//   - no event's data is larger than the limit, no type is empty, no id contains NUL;
//   - every dispatched event survives encode -> parse unchanged.
// Memory stays bounded by the limit: AddressSanitizer and libFuzzer's -rss_limit_mb watch that.

#include "sse/encoder.h"
#include "sse/parser.h"

#include <QByteArray>
#include <QList>
#include <QStringList>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace clipdeck::sse;

namespace {

[[noreturn]] void broken(const char *invariant, int line)
{
    std::fprintf(stderr, "fuzz_sse_parser: invariant broken (line %d): %s\n", line, invariant);
    std::abort();
}

#define FUZZ_CHECK(condition) \
    do { \
        if (!(condition)) \
            broken(#condition, __LINE__); \
    } while (false)

struct Transcript
{
    QList<Event> events;
    QStringList comments;
    QList<int> retries;
    bool failed = false;
    QString lastEventId;

    friend bool operator==(const Transcript &, const Transcript &) = default;
};

// chunkSeed 0 feeds the stream whole.
Transcript parse(QByteArrayView stream, qsizetype maxEventSize, uint32_t chunkSeed)
{
    Transcript t;
    Parser parser({[&](const Event &e) {
                       FUZZ_CHECK(e.data.size() <= maxEventSize);
                       FUZZ_CHECK(!e.type.isEmpty());
                       FUZZ_CHECK(!e.lastEventId.contains(QChar(0)));
                       t.events.append(e);
                   },
                   [&](QStringView text) { t.comments.append(text.toString()); },
                   [&](int ms) {
                       FUZZ_CHECK(ms >= 0);
                       t.retries.append(ms);
                   }});
    parser.setMaxEventSize(maxEventSize);

    auto feed = [&](QByteArrayView chunk) {
        // A copy, so a pointer kept into a chunk after feed() shows up under ASan.
        const QByteArray copy = chunk.toByteArray();
        const bool accepted = parser.feed(copy);
        FUZZ_CHECK(!(accepted && t.failed));
        t.failed = t.failed || !accepted;
        FUZZ_CHECK(parser.hasError() == t.failed);
    };
    if (chunkSeed == 0) {
        feed(stream);
    } else {
        // A small xorshift generator: chunk sizes from 1 to 1 + (chunkSeed & 63), so byte by
        // byte and split sequences are both common.
        uint32_t state = chunkSeed * 2654435761u + 1;
        qsizetype at = 0;
        while (at < stream.size()) {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            const qsizetype size = qMin<qsizetype>(1 + state % (1 + (chunkSeed & 63)), stream.size() - at);
            feed(stream.sliced(at, size));
            at += size;
        }
    }
    parser.endOfStream();
    FUZZ_CHECK(!parser.hasError());
    t.lastEventId = parser.lastEventId();
    return t;
}

void checkRoundTrip(const QList<Event> &events)
{
    QByteArray wire;
    QList<Event> expected;
    for (const Event &e : events) {
        const QByteArray data = e.data.toUtf8();
        const QByteArray id = e.lastEventId.toUtf8();
        const QByteArray type = e.type.toUtf8();
        const bool accepted = appendEvent(wire, {data, QByteArrayView(id), type, std::nullopt});
        // A parsed type may contain NUL, which the encoder refuses; nothing else is refused.
        FUZZ_CHECK(accepted == !e.type.contains(QChar(0)));
        if (accepted)
            expected.append(e);
    }
    QList<Event> parsed;
    Parser parser({[&](const Event &e) { parsed.append(e); }, {}, {}});
    // Re-encoding a replacement character takes 3 bytes where the invalid input had 1.
    parser.setMaxEventSize(qsizetype(1) << 40);
    FUZZ_CHECK(parser.feed(wire));
    parser.endOfStream();
    FUZZ_CHECK(parsed == expected);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t limitControl = bytes[0];
    const uint8_t chunkControl = bytes[1];
    const QByteArrayView stream(bytes + 2, qsizetype(size - 2));
    const qsizetype maxEventSize =
        (limitControl & 0x80) ? Parser::DefaultMaxEventSize : 1 + qsizetype(limitControl) * 4;

    const Transcript whole = parse(stream, maxEventSize, 0);
    FUZZ_CHECK(parse(stream, maxEventSize, 1u + chunkControl) == whole);
    FUZZ_CHECK(parse(stream, maxEventSize, (uint32_t(chunkControl) << 8) | 1u) == whole); // 1-2 bytes
    checkRoundTrip(whole.events);
    return 0;
}
