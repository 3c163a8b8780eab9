// libFuzzer target for clipdeck::http::RequestParser (lib/http).
//
// Input: two control bytes, then the bytes a client sent. The first chooses the limits (small
// ones reach the 413/414/431 paths) and a per-request body limit, the second how the bytes are
// cut into reads. Invariants, checked on every input (a broken one aborts, which libFuzzer
// reports as a crash):
//   - feeding the bytes whole and cut into pieces gives the same transcript: the same heads
//     (method, target, version, every header), the same body bytes per request, the same error;
//   - a step never consumes more than it was given, a body view lies inside the input, an
//     error consumes nothing and is sticky;
//   - no request's body is longer than its limit; a request line and a header section never
//     pass their limits; header names are tokens and no name or value holds CR, LF or NUL;
//   - Head, then Body..., then End, in that order, for every request.
// Memory stays bounded by the limits: AddressSanitizer and libFuzzer's -rss_limit_mb watch that.

#include "http/requestparser.h"

#include <QByteArray>
#include <QList>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace clipdeck::http;

namespace {

[[noreturn]] void broken(const char *invariant, int line)
{
    std::fprintf(stderr, "fuzz_http_request: invariant broken (line %d): %s\n", line, invariant);
    std::abort();
}

#define FUZZ_CHECK(condition) \
    do { \
        if (!(condition)) \
            broken(#condition, __LINE__); \
    } while (false)

struct Transcript
{
    QList<QByteArray> heads;
    QList<QByteArray> bodies;
    int errorStatus = 0;

    friend bool operator==(const Transcript &, const Transcript &) = default;
};

bool isTokenChar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

QByteArray checkedHead(const Request &r, const ParserLimits &limits)
{
    QByteArray s =
        r.method().toByteArray() + ' ' + r.target().toByteArray() + ' ' + QByteArray::number(r.versionMinor());
    FUZZ_CHECK(!r.method().isEmpty());
    FUZZ_CHECK(r.target().size() < limits.maxRequestLineBytes);
    FUZZ_CHECK(r.versionMinor() == 0 || r.versionMinor() == 1);
    FUZZ_CHECK(r.headerCount() <= limits.maxHeaderCount);
    qsizetype headerBytes = 0;
    for (qsizetype i = 0; i < r.headerCount(); ++i) {
        const QByteArrayView name = r.headerName(i);
        const QByteArrayView value = r.headerValue(i);
        FUZZ_CHECK(!name.isEmpty());
        for (char c : name)
            FUZZ_CHECK(isTokenChar(c));
        for (char c : value)
            FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
        headerBytes += name.size() + value.size();
        s += '|' + name.toByteArray() + '=' + value.toByteArray();
    }
    FUZZ_CHECK(headerBytes <= limits.maxHeaderBytes);
    return s;
}

// chunkSeed 0 feeds everything at once.
Transcript parse(QByteArrayView stream, const ParserLimits &limits, qint64 bodyLimit, uint32_t chunkSeed)
{
    Transcript t;
    RequestParser parser(limits);
    QByteArray pending;
    QByteArray body;
    bool inRequest = false;
    bool failed = false;
    uint32_t state = chunkSeed * 2654435761u + 1;
    qsizetype at = 0;
    while (!failed) {
        if (at < stream.size()) {
            qsizetype size = stream.size() - at;
            if (chunkSeed != 0) {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                size = qMin<qsizetype>(1 + state % (1 + (chunkSeed & 63)), size);
            }
            pending += stream.sliced(at, size).toByteArray();
            at += size;
        }
        qsizetype used = 0;
        for (;;) {
            // A copy, so a view kept into an earlier input after parse() shows up under ASan.
            const QByteArray input = pending.mid(used);
            const auto r = parser.parse(input);
            FUZZ_CHECK(r.consumed >= 0 && r.consumed <= input.size());
            used += r.consumed;
            if (r.step == RequestParser::Step::NeedMore) {
                FUZZ_CHECK(r.consumed == input.size());
                break;
            }
            if (r.step == RequestParser::Step::Error) {
                FUZZ_CHECK(r.consumed == 0);
                FUZZ_CHECK(parser.hasError());
                FUZZ_CHECK(parser.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").step == RequestParser::Step::Error);
                const int status = parser.errorStatus();
                FUZZ_CHECK(status == 400 || status == 413 || status == 414 || status == 431 || status == 501
                           || status == 505);
                t.errorStatus = status;
                failed = true;
                break;
            }
            if (r.step == RequestParser::Step::Head) {
                FUZZ_CHECK(!inRequest);
                inRequest = true;
                t.heads.append(checkedHead(parser.takeRequest(), limits));
                parser.setBodyLimit(bodyLimit);
            } else if (r.step == RequestParser::Step::Body) {
                FUZZ_CHECK(inRequest);
                FUZZ_CHECK(!r.body.isEmpty());
                FUZZ_CHECK(r.body.data() >= input.constData()
                           && r.body.data() + r.body.size() <= input.constData() + input.size());
                body += r.body.toByteArray();
                FUZZ_CHECK(body.size() <= bodyLimit);
            } else {
                FUZZ_CHECK(inRequest);
                inRequest = false;
                t.bodies.append(body);
                body.clear();
            }
        }
        pending.remove(0, used);
        if (at >= stream.size())
            break;
    }
    return t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t limitControl = bytes[0];
    const uint8_t chunkControl = bytes[1];
    const QByteArrayView stream(bytes + 2, qsizetype(size - 2));
    ParserLimits limits;
    qint64 bodyLimit = limits.maxBodyBytes;
    if (limitControl & 0x80) {
        limits.maxRequestLineBytes = 16 + (limitControl & 0x0F) * 8;
        limits.maxHeaderBytes = 8 + ((limitControl >> 4) & 0x07) * 24;
        limits.maxHeaderCount = 1 + (limitControl & 0x03);
        bodyLimit = limitControl & 0x1F;
    }
    const Transcript whole = parse(stream, limits, bodyLimit, 0);
    FUZZ_CHECK(parse(stream, limits, bodyLimit, 1u + chunkControl) == whole);
    FUZZ_CHECK(parse(stream, limits, bodyLimit, (uint32_t(chunkControl) << 8) | 1u) == whole); // 1-2 bytes
    return 0;
}
