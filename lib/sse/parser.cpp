#include "sse/parser.h"

#include <QtGlobal>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define CLIPDECK_SSE_HAVE_SSE2 1
#endif
// AVX2 is not in the x86-64 baseline: compiled for it separately and chosen at run time.
#if defined(CLIPDECK_SSE_HAVE_SSE2) && (defined(__GNUC__) || defined(__clang__)) \
    && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define CLIPDECK_SSE_HAVE_AVX2_DISPATCH 1
#endif

namespace clipdeck::sse {

namespace {

constexpr unsigned char Bom[3] = {0xEF, 0xBB, 0xBF};
constexpr int BomSettled = 3;

// Buffers that grew past this for one huge event are given back afterwards rather than kept
// for the life of the connection.
constexpr size_t RetainedCapacity = 1 << 20;

// Widening of ASCII runs, the bulk of any event stream. Each widener copies the leading ASCII
// bytes of s (at most n) to o as UTF-16 and returns how many there were. It may write past
// that, up to n units: the caller's output has room for n.
qsizetype widenAsciiScalar(const unsigned char *s, qsizetype n, char16_t *o)
{
    qsizetype i = 0;
#ifdef CLIPDECK_SSE_HAVE_SSE2
    const __m128i zero = _mm_setzero_si128();
    for (; n - i >= 16; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(s + i));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(o + i), _mm_unpacklo_epi8(v, zero));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(o + i + 8), _mm_unpackhi_epi8(v, zero));
        if (const unsigned mask = unsigned(_mm_movemask_epi8(v)))
            return i + std::countr_zero(mask);
    }
#endif
    for (; i < n && s[i] < 0x80; ++i)
        o[i] = s[i];
    return i;
}

#ifdef CLIPDECK_SSE_HAVE_AVX2_DISPATCH
__attribute__((target("avx2"))) qsizetype widenAsciiAvx2(const unsigned char *s, qsizetype n, char16_t *o)
{
    qsizetype i = 0;
    for (; n - i >= 32; i += 32) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(s + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(o + i), _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v)));
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(o + i + 16),
                            _mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1)));
        if (const unsigned mask = unsigned(_mm256_movemask_epi8(v)))
            return i + std::countr_zero(mask);
    }
    return i + widenAsciiScalar(s + i, n - i, o + i);
}
#endif

using AsciiWidener = qsizetype (*)(const unsigned char *, qsizetype, char16_t *);

AsciiWidener asciiWidener()
{
#ifdef CLIPDECK_SSE_HAVE_AVX2_DISPATCH
    static const AsciiWidener best = [] {
        __builtin_cpu_init(); // we may run before the runtime initialised it (static constructors)
        return __builtin_cpu_supports("avx2") ? widenAsciiAvx2 : widenAsciiScalar;
    }();
    return best;
#else
    return widenAsciiScalar;
#endif
}

// The WHATWG Encoding standard's UTF-8 decoder, not QString::fromUtf8: Qt strips a leading
// BOM (the stream strips only one, at its very start; U+FEFF inside a value is data) and
// replaces each byte of a truncated sequence, where the standard replaces the maximal subpart
// once ("\xE2\x82x" is U+FFFD x, not U+FFFD U+FFFD x). Decoding field by field equals decoding
// the whole stream first, because every byte the parser splits on is ASCII, and an ASCII byte
// always ends a pending sequence.
//
// Decodes into out, reusing its storage when nobody else holds it: a consumer that does not keep
// the previous event's strings gets the next event without a single allocation. A shared
// out is detached (by resize() or data()), so a string the consumer kept never changes.
void decodeUtf8(QString &out, const char *bytes, qsizetype size)
{
    if (size == 0) {
        out = QString();
        return;
    }
    // UTF-16 never needs more code units than UTF-8 has bytes. A fresh buffer is allocated at
    // exactly that size (resize() would round a growing buffer up to a power of two), and a
    // much larger one is not kept for a small string.
    if (out.capacity() < size || out.capacity() > 2 * size + 4096)
        out = QString(size, Qt::Uninitialized);
    else if (out.size() != size)
        out.resize(size);
    const AsciiWidener widenAscii = asciiWidener();
    char16_t *const begin = reinterpret_cast<char16_t *>(out.data());
    char16_t *o = begin;
    const auto *s = reinterpret_cast<const unsigned char *>(bytes);
    const unsigned char *const end = s + size;
    while (s < end) {
        const unsigned char b = *s;
        if (b < 0x80) {
            // o never runs ahead of s, so the widener has room for all of end - s.
            const qsizetype ascii = widenAscii(s, end - s, o);
            s += ascii;
            o += ascii;
            continue;
        }

        ++s;
        char32_t cp;
        int needed;
        unsigned char lower = 0x80;
        unsigned char upper = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) {
            needed = 1;
            cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            needed = 2;
            cp = b & 0x0F;
            if (b == 0xE0)
                lower = 0xA0; // overlong
            else if (b == 0xED)
                upper = 0x9F; // surrogates
        } else if (b >= 0xF0 && b <= 0xF4) {
            needed = 3;
            cp = b & 0x07;
            if (b == 0xF0)
                lower = 0x90; // overlong
            else if (b == 0xF4)
                upper = 0x8F; // above U+10FFFF
        } else {
            *o++ = u'\uFFFD';
            continue;
        }
        for (; needed > 0; --needed) {
            // A byte out of range ends the sequence and is decoded again on its own.
            if (s == end || *s < lower || *s > upper)
                break;
            cp = (cp << 6) | (*s & 0x3F);
            ++s;
            lower = 0x80;
            upper = 0xBF;
        }
        if (needed > 0) {
            *o++ = u'\uFFFD';
        } else if (cp < 0x10000) {
            *o++ = char16_t(cp);
        } else {
            *o++ = QChar::highSurrogate(cp);
            *o++ = QChar::lowSurrogate(cp);
        }
    }
    if (o - begin != size)
        out.truncate(o - begin);
}

// The first CR or LF in [from, end), or end. One pass for both terminators.
const char *findLineEndScalar(const char *from, const char *end)
{
#ifdef CLIPDECK_SSE_HAVE_SSE2
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    for (; end - from >= 16; from += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(from));
        if (const unsigned mask =
                unsigned(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)))))
            return from + std::countr_zero(mask);
    }
#endif
    while (from != end && *from != '\n' && *from != '\r')
        ++from;
    return from;
}

#ifdef CLIPDECK_SSE_HAVE_AVX2_DISPATCH
__attribute__((target("avx2"))) const char *findLineEndAvx2(const char *from, const char *end)
{
    const __m256i lf = _mm256_set1_epi8('\n');
    const __m256i cr = _mm256_set1_epi8('\r');
    for (; end - from >= 32; from += 32) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(from));
        if (const unsigned mask =
                unsigned(_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(v, lf), _mm256_cmpeq_epi8(v, cr)))))
            return from + std::countr_zero(mask);
    }
    return findLineEndScalar(from, end);
}
#endif

using LineEndFinder = const char *(*)(const char *, const char *);

LineEndFinder longLineEndFinder()
{
#ifdef CLIPDECK_SSE_HAVE_AVX2_DISPATCH
    static const LineEndFinder best = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") ? findLineEndAvx2 : findLineEndScalar;
    }();
    return best;
#else
    return findLineEndScalar;
#endif
}

// Most lines are short (ids, blank lines): their end is found inline in the first sixteen
// bytes, and only a longer line pays for a call to the widest scanner the CPU has.
inline const char *findLineEnd(const char *from, const char *end)
{
#ifdef CLIPDECK_SSE_HAVE_SSE2
    if (end - from >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(from));
        if (const unsigned mask = unsigned(_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))))))
            return from + std::countr_zero(mask);
        return longLineEndFinder()(from + 16, end);
    }
#endif
    return findLineEndScalar(from, end);
}

// A byte buffer grown with realloc(): a line or data buffer that reaches megabytes is then
// moved by the kernel (mremap) instead of being copied at every doubling, as std::string and
// QByteArray would.
class ByteBuffer
{
public:
    ByteBuffer() = default;
    ByteBuffer(const ByteBuffer &) = delete;
    ByteBuffer &operator=(const ByteBuffer &) = delete;
    ~ByteBuffer() { std::free(m_data); }

    char *data() const { return m_data; }
    size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    void clear() { m_size = 0; }

    void append(const char *bytes, size_t count)
    {
        if (count == 0) // memcpy() must not see the null pointers of an empty buffer or range
            return;
        if (count > m_capacity - m_size)
            grow(m_size + count);
        std::memcpy(m_data + m_size, bytes, count);
        m_size += count;
    }
    void assign(const char *bytes, size_t count)
    {
        m_size = 0;
        append(bytes, count);
    }
    void push_back(char c)
    {
        if (m_size == m_capacity)
            grow(m_size + 1);
        m_data[m_size++] = c;
    }
    void swap(ByteBuffer &other) noexcept
    {
        std::swap(m_data, other.m_data);
        std::swap(m_size, other.m_size);
        std::swap(m_capacity, other.m_capacity);
    }
    // Empties the buffer, giving its memory back when one huge event made it grow.
    void clearAndTrim()
    {
        m_size = 0;
        if (m_capacity > RetainedCapacity)
            release();
    }
    void release()
    {
        std::free(m_data);
        m_data = nullptr;
        m_size = m_capacity = 0;
    }

private:
    void grow(size_t needed)
    {
        const size_t capacity = std::max({needed, 2 * m_capacity, size_t(256)});
        void *grown = std::realloc(m_data, capacity);
        if (!grown)
            throw std::bad_alloc();
        m_data = static_cast<char *>(grown);
        m_capacity = capacity;
    }

    char *m_data = nullptr;
    size_t m_size = 0;
    size_t m_capacity = 0;
};

} // namespace

struct Parser::State
{
    Callbacks callbacks;
    std::optional<Callbacks> pendingCallbacks; // set from inside a callback, applied after it
    qsizetype maxEventSize = DefaultMaxEventSize;

    // A line that began in an earlier chunk; complete lines inside a chunk are never copied.
    ByteBuffer line;

    // The data buffer: data lines, each followed by LF. dataSkip leading bytes are not data:
    // a long data line is adopted together with its "data:" prefix instead of being copied.
    ByteBuffer data;
    size_t dataSkip = 0;
    // The usual event has one data line that sits whole in the chunk being fed: it is decoded
    // straight from there, and copied into data only if the chunk ends first.
    const char *dataView = nullptr;
    qsizetype dataViewSize = 0;

    std::string type; // the event type buffer
    std::string id;   // the last event ID buffer
    // The event handed to callbacks is reused (see decodeUtf8) and doubles as the decoded
    // state: event.lastEventId is the last event ID string, event.type decodes eventTypeBytes
    // (empty for "message"), so an unchanged id or type costs nothing.
    Event event;
    std::string committedIdBytes;
    std::string eventTypeBytes;
    // The event must not change under a running callback: a last event ID set from one waits
    // here until it returns.
    std::optional<QString> deferredId;
    const QString messageType = QStringLiteral("message");
    QString comment; // reused like event

    int bom = 0;         // bytes of a leading BOM matched so far, or BomSettled
    bool skipLF = false; // the last chunk ended in CR: a leading LF completes a CRLF
    bool failed = false;
    QString errorString;

    // Reentrancy: a callback may reset, end the stream, replace the callbacks or destroy the
    // parser. Any of those bumps generation, which stops the loop over the current chunk; a
    // destroyed parser leaves its State orphaned for the running feed() to delete.
    bool feeding = false;
    bool orphaned = false;
    quint64 generation = 0;

    bool hasData() const { return dataView || !data.empty(); }

    template <typename Callback, typename... Args>
    bool invoke(const Callback &callback, Args &&...args)
    {
        const quint64 before = generation;
        callback(std::forward<Args>(args)...);
        applyDeferred();
        return generation == before;
    }

    void applyDeferred()
    {
        if (deferredId) {
            event.lastEventId = std::move(*deferredId);
            deferredId.reset();
        }
        if (pendingCallbacks) {
            callbacks = std::move(*pendingCallbacks);
            pendingCallbacks.reset();
        }
    }

    void setCommittedId(const QString &value)
    {
        if (feeding)
            deferredId = value;
        else
            event.lastEventId = value;
        const QByteArray bytes = value.toUtf8();
        committedIdBytes.assign(bytes.constData(), size_t(bytes.size()));
        id = committedIdBytes;
    }

    QString committedId() const { return deferredId ? *deferredId : event.lastEventId; }

    bool fail(QString message)
    {
        failed = true;
        errorString = std::move(message);
        line.release();
        data.release();
        dataSkip = 0;
        dataView = nullptr;
        return false;
    }

    bool lineTooLong()
    {
        return fail(
            QStringLiteral("event stream line longer than the maximum event size (%1 bytes)").arg(maxEventSize));
    }

    void materializeDataView()
    {
        if (!dataView)
            return;
        data.assign(dataView, size_t(dataViewSize));
        data.push_back('\n');
        dataView = nullptr;
    }

    void clearEvent()
    {
        dataView = nullptr;
        if (!data.empty()) {
            dataSkip = 0;
            data.clearAndTrim();
        }
        type.clear();
    }

    void newStream()
    {
        line.clearAndTrim();
        clearEvent();
        // The buffer restarts from the committed ID: an ID seen in a discarded partial event
        // never reaches Last-Event-ID. (The spec gives each stream a fresh, empty buffer;
        // browsers seed it with the source's last event ID, or a reconnected stream that sends
        // no id: would forget the resume point at its first event. We do as browsers do.)
        id = committedIdBytes;
        bom = 0;
        skipLF = false;
        failed = false;
        errorString.clear();
        ++generation;
    }

    // Returns false when the rest of the chunk must not be parsed (error or reentrant change).
    bool dispatch()
    {
        // Committed at every blank line, even one that dispatches nothing.
        if (id != committedIdBytes) {
            committedIdBytes = id;
            decodeUtf8(event.lastEventId, id.data(), qsizetype(id.size()));
        }
        if (!hasData()) {
            type.clear();
            return true;
        }
        if (!callbacks.event) {
            clearEvent();
            return true;
        }
        if (type != eventTypeBytes) {
            eventTypeBytes = type;
            if (type.empty())
                event.type = messageType;
            else
                decodeUtf8(event.type, type.data(), qsizetype(type.size()));
        }
        if (dataView)
            decodeUtf8(event.data, dataView, dataViewSize);
        else // minus the LF that follows the last line
            decodeUtf8(event.data, data.data() + dataSkip, qsizetype(data.size() - dataSkip) - 1);
        clearEvent();
        const bool go = invoke(callbacks.event, std::as_const(event));
        if (size_t(event.data.capacity()) > RetainedCapacity)
            event.data = QString();
        return go;
    }

    bool appendData(const char *value, qsizetype size, bool inChunk)
    {
        if (!hasData()) {
            if (inChunk) {
                dataView = value;
                dataViewSize = size;
            } else {
                // The value is the tail of the line buffer: adopt that buffer whole.
                dataSkip = size_t(value - line.data());
                data.swap(line);
                data.push_back('\n');
            }
            return true;
        }
        materializeDataView();
        // Already buffered (with one LF per line) plus this line is the joined data's size.
        if (qsizetype(data.size() - dataSkip) + size > maxEventSize) {
            return fail(QStringLiteral("event data larger than the maximum event size (%1 bytes)").arg(maxEventSize));
        }
        data.append(value, size_t(size));
        data.push_back('\n');
        return true;
    }

    bool processField(const char *name, qsizetype nameSize, const char *value, qsizetype size, bool inChunk)
    {
        switch (nameSize) {
        case 2:
            // An id containing NUL is ignored as a whole.
            if (std::memcmp(name, "id", 2) == 0 && !std::memchr(value, 0, size_t(size)))
                id.assign(value, size_t(size));
            break;
        case 4:
            if (std::memcmp(name, "data", 4) == 0)
                return appendData(value, size, inChunk);
            break;
        case 5:
            if (std::memcmp(name, "event", 5) == 0) {
                type.assign(value, size_t(size));
            } else if (std::memcmp(name, "retry", 5) == 0 && size > 0) {
                qint64 ms = 0;
                for (qsizetype i = 0; i < size; ++i) {
                    const unsigned digit = unsigned(value[i]) - '0';
                    if (digit > 9)
                        return true;
                    // Saturate: a hint beyond INT_MAX ms (24 days) means "a very long time".
                    ms = std::min<qint64>(ms * 10 + digit, INT_MAX);
                }
                if (callbacks.retry)
                    return invoke(callbacks.retry, int(ms));
            }
            break;
        default: break;
        }
        return true;
    }

    // One line without its terminator. inChunk: it lies in the caller's chunk, not in `line`.
    bool processLine(const char *text, qsizetype size, bool inChunk)
    {
        if (size == 0)
            return dispatch();
        if (size > maxEventSize)
            return lineTooLong();
        // The common line first: "data:" with an optional space.
        if (size >= 5 && std::memcmp(text, "data:", 5) == 0) {
            const qsizetype skip = (size > 5 && text[5] == ' ') ? 6 : 5;
            return appendData(text + skip, size - skip, inChunk);
        }
        if (size >= 3 && text[0] == 'i' && text[1] == 'd' && text[2] == ':') {
            const qsizetype skip = (size > 3 && text[3] == ' ') ? 4 : 3;
            return processField(text, 2, text + skip, size - skip, inChunk);
        }
        const auto *colon = static_cast<const char *>(std::memchr(text, ':', size_t(size)));
        if (colon == text) {
            if (callbacks.comment) {
                const qsizetype skip = (size > 1 && text[1] == ' ') ? 2 : 1;
                decodeUtf8(comment, text + skip, size - skip);
                return invoke(callbacks.comment, QStringView(comment));
            }
            return true;
        }
        if (!colon) // a bare field name: the value is empty
            return processField(text, size, text + size, 0, inChunk);
        const char *value = colon + 1;
        const char *const end = text + size;
        if (value < end && *value == ' ')
            ++value;
        return processField(text, colon - text, value, end - value, inChunk);
    }

    // The chunk after BOM and split-CRLF handling; p < end.
    void parse(const char *p, const char *const end)
    {
        if (!line.empty()) {
            const char *const eol = findLineEnd(p, end);
            if (qsizetype(line.size()) + (eol - p) > maxEventSize) {
                lineTooLong();
                return;
            }
            line.append(p, size_t(eol - p));
            if (eol == end)
                return;
            const bool go = processLine(line.data(), qsizetype(line.size()), false);
            line.clearAndTrim();
            if (!go)
                return;
            p = eol + 1;
            if (*eol == '\r') {
                if (p == end) {
                    skipLF = true;
                    return;
                }
                if (*p == '\n')
                    ++p;
            }
        }

        // Each search starts after the last terminator: every byte is looked at once.
        while (p != end) {
            const char *const eol = findLineEnd(p, end);
            if (eol == end)
                break;
            if (!processLine(p, eol - p, true))
                return;
            p = eol + 1;
            if (*eol == '\r') {
                if (p == end) {
                    skipLF = true;
                    break;
                }
                if (*p == '\n')
                    ++p;
            }
        }

        if (p != end) {
            if (end - p > maxEventSize) {
                lineTooLong();
                return;
            }
            line.assign(p, size_t(end - p));
        }
        materializeDataView();
    }
};

Parser::Parser(Callbacks callbacks) : d(std::make_unique<State>())
{
    d->callbacks = std::move(callbacks);
}

Parser::~Parser()
{
    if (d && d->feeding) {
        // Destroyed from one of its callbacks: the running feed() deletes the state.
        d->orphaned = true;
        ++d->generation;
        (void)d.release();
    }
}

Parser::Parser(Parser &&other) noexcept = default;

Parser &Parser::operator=(Parser &&other) noexcept
{
    if (this != &other) {
        if (d && d->feeding) {
            d->orphaned = true;
            ++d->generation;
            (void)d.release();
        }
        d = std::move(other.d);
    }
    return *this;
}

void Parser::setCallbacks(Callbacks callbacks)
{
    // Replacing the std::function that is running would destroy it under its own feet.
    if (d->feeding)
        d->pendingCallbacks = std::move(callbacks);
    else
        d->callbacks = std::move(callbacks);
}

void Parser::setMaxEventSize(qsizetype bytes)
{
    d->maxEventSize = std::max<qsizetype>(bytes, 1);
}

qsizetype Parser::maxEventSize() const
{
    return d->maxEventSize;
}

bool Parser::feed(QByteArrayView chunk)
{
    State &s = *d;
    if (s.failed)
        return false;
    if (s.feeding) {
        qWarning("clipdeck::sse::Parser::feed() called from one of the parser's own callbacks; "
                 "the chunk is ignored");
        return false;
    }
    const char *p = chunk.data();
    const char *const end = p + chunk.size();
    if (p == end)
        return true;

    if (s.bom != BomSettled) {
        while (s.bom != BomSettled && p != end) {
            if (static_cast<unsigned char>(*p) == Bom[s.bom]) {
                ++p;
                if (++s.bom == BomSettled)
                    break;
            } else {
                // Not a BOM after all: the bytes matched so far start the first line.
                s.line.append(reinterpret_cast<const char *>(Bom), size_t(s.bom));
                s.bom = BomSettled;
            }
        }
        if (p == end)
            return true;
    }
    if (s.skipLF) {
        s.skipLF = false;
        if (*p == '\n' && ++p == end)
            return true;
    }

    s.feeding = true;
    s.parse(p, end);
    s.feeding = false;
    s.applyDeferred();
    if (s.orphaned) {
        delete &s;
        return true;
    }
    return !s.failed;
}

// Per the spec, the last event ID buffer is set when an id line is processed, but the source's
// last event ID (what lastEventId() returns and what a reconnect sends) is committed only at a
// blank line. The partial event discarded here therefore never commits its id.
void Parser::endOfStream()
{
    d->newStream();
}

void Parser::reset()
{
    d->newStream();
    d->setCommittedId(QString());
}

QString Parser::lastEventId() const
{
    return d->committedId();
}

void Parser::setLastEventId(const QString &id)
{
    d->setCommittedId(id);
}

bool Parser::hasError() const
{
    return d->failed;
}

QString Parser::errorString() const
{
    return d->errorString;
}

} // namespace clipdeck::sse
