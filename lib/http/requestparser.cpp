#include "http/requestparser.h"

#include <algorithm>

namespace clipdeck::http {

using namespace Qt::StringLiterals;

namespace {

// RFC 9110 tchar
bool isTokenChar(char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
    }
}

bool isToken(QByteArrayView v)
{
    return !v.isEmpty() && std::all_of(v.begin(), v.end(), isTokenChar);
}

// field-value characters: HTAB, SP, VCHAR, obs-text
bool isFieldValueChar(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7F);
}

QByteArrayView trimmed(QByteArrayView v)
{
    while (!v.isEmpty() && (v.front() == ' ' || v.front() == '\t'))
        v = v.sliced(1);
    while (!v.isEmpty() && (v.back() == ' ' || v.back() == '\t'))
        v.chop(1);
    return v;
}

constexpr int MaxEmptyLinesBeforeRequest = 8;
// A chunk-size line with extensions; nothing legitimate comes close.
constexpr qsizetype MaxChunkLineBytes = 4096;

} // namespace

RequestParser::RequestParser(ParserLimits limits) : m_limits(limits), m_bodyLimit(limits.maxBodyBytes) { }

std::optional<qint64> RequestParser::contentLength() const
{
    if (m_chunked)
        return std::nullopt;
    return m_contentLength;
}

bool RequestParser::isMidRequest() const
{
    switch (m_state) {
    case State::Start: return !m_line.isEmpty() || m_emptyLinesSkipped > 0;
    case State::Done: return false;
    default: return true;
    }
}

bool RequestParser::isInBody() const
{
    switch (m_state) {
    case State::BodyStart:
    case State::Fixed:
    case State::ChunkSize:
    case State::ChunkData:
    case State::ChunkDataEnd:
    case State::Trailers:
    case State::BodyEnd: return true;
    default: return false;
    }
}

Request RequestParser::takeRequest()
{
    return std::exchange(m_request, Request());
}

RequestParser::Result RequestParser::fail(int status, const QString &message)
{
    m_state = State::Failed;
    m_errorStatus = status;
    m_errorMessage = message;
    m_line.clear();
    return {Step::Error, 0, {}};
}

void RequestParser::startNextMessage()
{
    m_state = State::Start;
    m_line.clear();
    m_request = Request();
    m_headerBytes = 0;
    m_emptyLinesSkipped = 0;
    m_chunked = false;
    m_contentLength = 0;
    m_bodyLimit = m_limits.maxBodyBytes;
    m_bodyReceived = 0;
    m_remaining = 0;
}

// Takes one line (without its CRLF or LF) starting at pos. budget: the most bytes the line may
// have, terminator included; past it the request fails with tooLongStatus.
RequestParser::LineResult RequestParser::takeLine(QByteArrayView input, qsizetype &pos, qsizetype budget,
                                                  int tooLongStatus, QLatin1StringView tooLong, QByteArrayView &line)
{
    const qsizetype nl = input.indexOf('\n', pos);
    const qsizetype available = (nl < 0 ? input.size() : nl + 1) - pos;
    if (m_line.size() + available > budget) {
        fail(tooLongStatus, QString(tooLong));
        return LineResult::Failed;
    }
    if (nl < 0) {
        m_line.append(input.sliced(pos));
        pos = input.size();
        return LineResult::Partial;
    }
    if (m_line.isEmpty()) {
        line = input.sliced(pos, nl - pos);
    } else {
        m_line.append(input.sliced(pos, nl - pos));
        line = m_line;
    }
    pos = nl + 1;
    if (line.endsWith('\r'))
        line.chop(1);
    if (line.contains('\r')) {
        fail(400, QStringLiteral("A bare CR in the request head."));
        return LineResult::Failed;
    }
    return LineResult::Complete;
}

bool RequestParser::parseRequestLine(QByteArrayView line)
{
    // request-line = method SP request-target SP HTTP-version, single spaces only.
    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) {
        fail(400, QStringLiteral("Malformed request line."));
        return false;
    }
    const QByteArrayView method = line.first(sp1);
    QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (!isToken(method)) {
        fail(400, QStringLiteral("Malformed request method."));
        return false;
    }
    if (version.size() != 8 || !version.startsWith("HTTP/") || version[6] != '.' || version[5] < '0' || version[5] > '9'
        || version[7] < '0' || version[7] > '9') {
        fail(400, QStringLiteral("Malformed HTTP version."));
        return false;
    }
    if (version[5] != '1') {
        fail(505, QStringLiteral("Only HTTP/1.0 and HTTP/1.1 are supported."));
        return false;
    }
    if (target.isEmpty() || !std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7F; })) {
        fail(400, QStringLiteral("Malformed request target."));
        return false;
    }
    if (target.startsWith("http://") || target.startsWith("https://")) {
        // absolute-form: the path starts after the authority.
        const qsizetype authority = target.indexOf("//") + 2;
        const qsizetype slash = target.indexOf('/', authority);
        const qsizetype question = target.indexOf('?', authority);
        if (slash >= 0 && (question < 0 || slash < question))
            target = target.sliced(slash);
        else
            target = question < 0 ? QByteArrayView("/") : QByteArrayView();
        if (target.isEmpty()) {
            fail(400, QStringLiteral("An absolute request target needs a path."));
            return false;
        }
    } else if (target != "*" && !target.startsWith('/')) {
        fail(400, QStringLiteral("Malformed request target."));
        return false;
    }
    if (target == "*" && method != "OPTIONS") {
        fail(400, QStringLiteral("The target * is only for OPTIONS."));
        return false;
    }

    Request &r = m_request;
    r.m_raw.reserve(line.size() + 256);
    r.m_method = {qint32(r.m_raw.size()), qint32(method.size())};
    r.m_raw.append(method);
    r.m_target = {qint32(r.m_raw.size()), qint32(target.size())};
    r.m_raw.append(target);
    r.m_versionMinor = version[7] == '0' ? 0 : 1;
    return true;
}

bool RequestParser::parseHeaderLine(QByteArrayView line, bool trailer)
{
    if (line.front() == ' ' || line.front() == '\t') {
        fail(400, QStringLiteral("Folded header lines (obs-fold) are not accepted."));
        return false;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0 || !isToken(line.first(colon))) {
        fail(400, QStringLiteral("Malformed header field."));
        return false;
    }
    const QByteArrayView value = trimmed(line.sliced(colon + 1));
    if (!std::all_of(value.begin(), value.end(), isFieldValueChar)) {
        fail(400, QStringLiteral("A header field value holds a control character."));
        return false;
    }
    if (trailer)
        return true; // trailers are checked and dropped: nothing here needs them
    Request &r = m_request;
    if (r.m_fields.size() >= m_limits.maxHeaderCount) {
        fail(431, QStringLiteral("The request has too many header fields."));
        return false;
    }
    Request::Field f;
    f.name = {qint32(r.m_raw.size()), qint32(colon)};
    r.m_raw.append(line.first(colon));
    f.value = {qint32(r.m_raw.size()), qint32(value.size())};
    r.m_raw.append(value);
    r.m_fields.append(f);
    return true;
}

bool RequestParser::finishHead()
{
    const Request &r = m_request;
    bool hasTransferEncoding = false;
    bool hasContentLength = false;
    int hosts = 0;
    QByteArray transferCodings;
    for (qsizetype i = 0; i < r.headerCount(); ++i) {
        const QByteArrayView name = r.headerName(i);
        if (equalsIgnoringCase(name, "host")) {
            ++hosts;
        } else if (equalsIgnoringCase(name, "transfer-encoding")) {
            hasTransferEncoding = true;
            if (!transferCodings.isEmpty())
                transferCodings.append(',');
            transferCodings.append(r.headerValue(i));
        } else if (equalsIgnoringCase(name, "content-length")) {
            // Several values (repeated fields or a list) are fine only when they all agree.
            const QByteArrayView value = r.headerValue(i);
            qsizetype start = 0;
            while (start <= value.size()) {
                qsizetype end = value.indexOf(',', start);
                if (end < 0)
                    end = value.size();
                const auto n = parseDecimal(trimmed(value.sliced(start, end - start)));
                if (!n || (hasContentLength && *n != m_contentLength)) {
                    fail(400, QStringLiteral("Invalid or conflicting Content-Length."));
                    return false;
                }
                m_contentLength = *n;
                hasContentLength = true;
                start = end + 1;
            }
        }
    }
    if (r.versionMinor() >= 1 && hosts != 1) {
        fail(400, hosts == 0 ? QStringLiteral("An HTTP/1.1 request needs a Host header.")
                             : QStringLiteral("More than one Host header."));
        return false;
    }
    if (hasTransferEncoding) {
        if (r.versionMinor() == 0) {
            fail(400, QStringLiteral("Transfer-Encoding in an HTTP/1.0 request."));
            return false;
        }
        if (hasContentLength) {
            fail(400, QStringLiteral("Both Content-Length and Transfer-Encoding."));
            return false;
        }
        QList<QByteArray> codings;
        for (const QByteArray &c : transferCodings.split(','))
            codings.append(trimmed(c).toByteArray().toLower());
        if (codings.isEmpty() || codings.last() != "chunked") {
            fail(400, QStringLiteral("The last transfer coding must be chunked."));
            return false;
        }
        if (codings.size() > 1) {
            fail(501, QStringLiteral("Transfer codings other than chunked are not supported."));
            return false;
        }
        m_chunked = true;
    }
    return true;
}

RequestParser::Result RequestParser::parse(QByteArrayView input)
{
    qsizetype pos = 0;
    for (;;) {
        switch (m_state) {
        case State::Failed: return {Step::Error, 0, {}};

        case State::Done: startNextMessage(); continue;

        case State::Start:
        case State::RequestLine: {
            if (pos == input.size())
                return {Step::NeedMore, pos, {}};
            m_state = State::RequestLine;
            QByteArrayView line;
            switch (takeLine(input, pos, m_limits.maxRequestLineBytes, 414, "The request line is too long."_L1, line)) {
            case LineResult::Failed: return {Step::Error, 0, {}};
            case LineResult::Partial: return {Step::NeedMore, pos, {}};
            case LineResult::Complete: break;
            }
            if (line.isEmpty()) {
                // RFC 9112 2.2: a server SHOULD ignore a few empty lines before a request.
                m_line.clear();
                if (++m_emptyLinesSkipped > MaxEmptyLinesBeforeRequest)
                    return fail(400, QStringLiteral("Empty lines instead of a request."));
                continue;
            }
            const bool ok = parseRequestLine(line);
            m_line.clear();
            if (!ok)
                return {Step::Error, 0, {}};
            m_state = State::HeaderFields;
            continue;
        }

        case State::HeaderFields:
        case State::Trailers: {
            if (pos == input.size())
                return {Step::NeedMore, pos, {}};
            const bool trailer = m_state == State::Trailers;
            QByteArrayView line;
            const qsizetype before = m_line.size();
            const qsizetype start = pos;
            switch (takeLine(input, pos, m_limits.maxHeaderBytes - m_headerBytes, 431,
                             "The request's header fields are too large."_L1, line)) {
            case LineResult::Failed: return {Step::Error, 0, {}};
            case LineResult::Partial: return {Step::NeedMore, pos, {}};
            case LineResult::Complete: break;
            }
            m_headerBytes += before + (pos - start);
            if (line.isEmpty()) {
                m_line.clear();
                if (trailer) {
                    m_state = State::Done;
                    return {Step::End, pos, {}};
                }
                if (!finishHead())
                    return {Step::Error, 0, {}};
                m_state = State::BodyStart;
                m_headerBytes = 0; // trailers get a budget of their own
                return {Step::Head, pos, {}};
            }
            const bool ok = parseHeaderLine(line, trailer);
            m_line.clear();
            if (!ok)
                return {Step::Error, 0, {}};
            continue;
        }

        case State::BodyStart:
            if (m_chunked) {
                m_state = State::ChunkSize;
                continue;
            }
            if (m_contentLength > m_bodyLimit)
                return fail(413, QStringLiteral("The request body is larger than %1 bytes.").arg(m_bodyLimit));
            if (m_contentLength == 0) {
                m_state = State::Done;
                return {Step::End, pos, {}};
            }
            m_remaining = m_contentLength;
            m_state = State::Fixed;
            continue;

        case State::Fixed:
        case State::ChunkData: {
            if (pos == input.size())
                return {Step::NeedMore, pos, {}};
            const qsizetype n = qsizetype(std::min<qint64>(m_remaining, input.size() - pos));
            const QByteArrayView body = input.sliced(pos, n);
            pos += n;
            m_remaining -= n;
            m_bodyReceived += n;
            // The End of a fixed-length body comes with the next call (consuming nothing), so
            // the caller always sees Head, Body..., End.
            if (m_remaining == 0)
                m_state = m_state == State::Fixed ? State::BodyEnd : State::ChunkDataEnd;
            return {Step::Body, pos, body};
        }

        case State::BodyEnd: m_state = State::Done; return {Step::End, pos, {}};

        case State::ChunkSize: {
            if (pos == input.size())
                return {Step::NeedMore, pos, {}};
            QByteArrayView line;
            switch (takeLine(input, pos, MaxChunkLineBytes, 400, "A chunk-size line is too long."_L1, line)) {
            case LineResult::Failed: return {Step::Error, 0, {}};
            case LineResult::Partial: return {Step::NeedMore, pos, {}};
            case LineResult::Complete: break;
            }
            // chunk-size [ BWS ";" chunk-ext ]
            qsizetype digits = 0;
            qint64 size = 0;
            while (digits < line.size()) {
                const char c = line[digits];
                int v;
                if (c >= '0' && c <= '9')
                    v = c - '0';
                else if (c >= 'a' && c <= 'f')
                    v = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                    v = c - 'A' + 10;
                else
                    break;
                if (digits >= 15) {
                    m_line.clear();
                    return fail(400, QStringLiteral("A chunk size is too large."));
                }
                size = size * 16 + v;
                ++digits;
            }
            const QByteArrayView rest = trimmed(line.sliced(digits));
            const bool valid = digits > 0 && (rest.isEmpty() || rest.front() == ';');
            m_line.clear();
            if (!valid)
                return fail(400, QStringLiteral("Malformed chunk size."));
            if (size > m_bodyLimit - m_bodyReceived)
                return fail(413, QStringLiteral("The request body is larger than %1 bytes.").arg(m_bodyLimit));
            if (size == 0) {
                m_state = State::Trailers;
                continue;
            }
            m_remaining = size;
            m_state = State::ChunkData;
            continue;
        }

        case State::ChunkDataEnd: {
            if (pos == input.size())
                return {Step::NeedMore, pos, {}};
            QByteArrayView line;
            switch (takeLine(input, pos, 2, 400, "Chunk data longer than its size."_L1, line)) {
            case LineResult::Failed: return {Step::Error, 0, {}};
            case LineResult::Partial: return {Step::NeedMore, pos, {}};
            case LineResult::Complete: break;
            }
            const bool empty = line.isEmpty();
            m_line.clear();
            if (!empty)
                return fail(400, QStringLiteral("Chunk data longer than its size."));
            m_state = State::ChunkSize;
            continue;
        }
        }
    }
}

std::optional<qint64> parseDecimal(QByteArrayView v)
{
    if (v.isEmpty() || v.size() > 18)
        return std::nullopt;
    qint64 n = 0;
    for (char c : v) {
        if (c < '0' || c > '9')
            return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

} // namespace clipdeck::http
