// libFuzzer target for the EventSource transport's HTTP/1.1 response parser
// (lib/sse/httpresponseparser_p.h).
//
// Input: two control bytes, then the bytes a server sent. The first chooses the head limit
// (small limits reach the refusal paths) and whether the request was HEAD, the second how the
// bytes are cut into reads. Invariants, checked on every input (a broken one aborts, which
// libFuzzer reports as a crash):
//   - feeding the bytes whole and cut into pieces gives the same transcript: the same head
//     (status, reason, every field, framing), the same body bytes, the same end or error;
//   - a step never consumes more than it was given, NeedMore consumes everything, a body view is
//     non-empty and lies inside the bytes the step consumed; End and Error are sticky and take
//     nothing more;
//   - the head never passes the limit: headBytes() <= maxHeadSize() always, and a refused head
//     was refused with exactly the limit consumed;
//   - Head comes once, before any Body; a Content-Length body is never longer than announced;
//     no field name is empty or holds whitespace, ':', CR, LF or NUL, and no value holds CR, LF
//     or NUL.
// Memory stays bounded by the limit: AddressSanitizer and libFuzzer's -rss_limit_mb watch that.

#include "sse/httpresponseparser_p.h"

#include <QByteArray>
#include <QList>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace clipdeck::sse;
using Step = HttpResponseParser::Step;

namespace {

[[noreturn]] void broken(const char *invariant, int line)
{
    std::fprintf(stderr, "fuzz_http_response: invariant broken (line %d): %s\n", line, invariant);
    std::abort();
}

#define FUZZ_CHECK(condition) \
    do { \
        if (!(condition)) \
            broken(#condition, __LINE__); \
    } while (false)

struct Transcript
{
    QByteArray head; // status, reason, fields, framing
    QByteArray body;
    int end = 0; // 0 still open, 1 End, 2 Error
    int error = 0;
    QString errorString;

    friend bool operator==(const Transcript &, const Transcript &) = default;
};

void checkField(const QByteArray &name, const QByteArray &value)
{
    FUZZ_CHECK(!name.isEmpty());
    for (const char c : name)
        FUZZ_CHECK(c != ' ' && c != '\t' && c != ':' && c != '\r' && c != '\n' && c != '\0');
    for (const char c : value)
        FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
}

// chunkSeed 0 feeds the bytes whole.
Transcript parse(QByteArrayView bytes, qsizetype maxHead, bool requestIsHead, uint32_t chunkSeed)
{
    Transcript t;
    HttpResponseParser parser(maxHead);
    parser.setRequestMethodIsHead(requestIsHead);
    qint64 announced = -1;

    auto handle = [&](const HttpResponseParser::Result &r, QByteArrayView given) {
        FUZZ_CHECK(r.consumed >= 0 && r.consumed <= given.size());
        FUZZ_CHECK(parser.headBytes() <= parser.maxHeadSize());
        switch (r.step) {
        case Step::NeedMore: FUZZ_CHECK(r.consumed == given.size()); break;
        case Step::Head:
            FUZZ_CHECK(t.head.isEmpty() && t.body.isEmpty());
            FUZZ_CHECK(parser.isHeadComplete());
            FUZZ_CHECK(parser.status() >= 200 && parser.status() <= 999);
            t.head = QByteArray::number(parser.status()) + ' ' + parser.reason() + '\n';
            for (const auto &[name, value] : parser.headers()) {
                checkField(name, value);
                t.head += name + ": " + value + '\n';
            }
            t.head += QByteArray::number(int(parser.framing()));
            if (parser.framing() == HttpResponseParser::Framing::ContentLength)
                announced = parser.header("Content-Length").split(',').first().trimmed().toLongLong();
            break;
        case Step::Body:
            FUZZ_CHECK(!t.head.isEmpty());
            FUZZ_CHECK(!r.body.isEmpty());
            FUZZ_CHECK(r.body.data() >= given.data() && r.body.data() + r.body.size() <= given.data() + r.consumed);
            t.body += r.body.toByteArray();
            FUZZ_CHECK(announced < 0 || t.body.size() <= announced);
            break;
        case Step::End:
            t.end = 1;
            FUZZ_CHECK(!parser.hasError());
            FUZZ_CHECK(announced < 0 || t.body.size() == announced);
            break;
        case Step::Error:
            t.end = 2;
            FUZZ_CHECK(parser.hasError());
            t.error = int(parser.error());
            t.errorString = parser.errorString();
            if (parser.error() == HttpResponseParser::Error::HeadTooLarge && !parser.isHeadComplete())
                FUZZ_CHECK(parser.headBytes() == parser.maxHeadSize());
            break;
        }
        return r.step;
    };

    auto feed = [&](QByteArrayView piece) {
        // A copy, so a pointer kept into a piece after parse() shows up under ASan.
        const QByteArray copy = piece.toByteArray();
        QByteArrayView rest = copy;
        while (t.end == 0) {
            const auto r = parser.parse(rest);
            const Step step = handle(r, rest);
            rest = rest.sliced(r.consumed);
            if (step == Step::NeedMore)
                break;
        }
        if (t.end != 0) {
            const auto again = parser.parse(copy);
            FUZZ_CHECK(again.consumed == 0 && (again.step == Step::End || again.step == Step::Error));
        }
    };

    if (chunkSeed == 0) {
        feed(bytes);
    } else {
        // A small xorshift generator: piece sizes from 1 to 1 + (chunkSeed & 63).
        uint32_t state = chunkSeed * 2654435761u + 1;
        qsizetype at = 0;
        while (at < bytes.size() && t.end == 0) {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            const qsizetype size = qMin<qsizetype>(1 + state % (1 + (chunkSeed & 63)), bytes.size() - at);
            feed(bytes.sliced(at, size));
            at += size;
        }
    }
    if (t.end == 0) {
        const auto r = parser.endOfInput();
        FUZZ_CHECK(r.step == Step::End || r.step == Step::Error);
        handle(r, {});
    }
    return t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t limitControl = data[0];
    const uint8_t chunkControl = data[1];
    const QByteArrayView bytes(data + 2, qsizetype(size - 2));
    const qsizetype maxHead =
        (limitControl & 0x80) ? HttpResponseParser::DefaultMaxHeadSize : 1 + qsizetype(limitControl & 0x3F) * 8;
    const bool requestIsHead = (limitControl & 0x40) != 0;

    const Transcript whole = parse(bytes, maxHead, requestIsHead, 0);
    FUZZ_CHECK(parse(bytes, maxHead, requestIsHead, 1u + chunkControl) == whole);
    FUZZ_CHECK(parse(bytes, maxHead, requestIsHead, (uint32_t(chunkControl) << 8) | 1u) == whole); // 1-2 bytes
    return 0;
}
