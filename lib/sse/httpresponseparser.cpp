#include "sse/httpresponseparser_p.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace clipdeck::sse {

namespace {

// RFC 9110 tchar
bool isTokenChar(char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView v)
{
    return !v.isEmpty() && std::all_of(v.begin(), v.end(), isTokenChar);
}

QByteArrayView trimmed(QByteArrayView v)
{
    while (!v.isEmpty() && (v.front() == ' ' || v.front() == '\t'))
        v = v.sliced(1);
    while (!v.isEmpty() && (v.back() == ' ' || v.back() == '\t'))
        v.chop(1);
    return v;
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// Content-Length: ASCII digits only, at most 18 so it cannot overflow.
std::optional<qint64> parseDecimal(QByteArrayView text)
{
    if (text.isEmpty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), isDigit))
        return std::nullopt;
    qint64 value = 0;
    for (const char c : text)
        value = value * 10 + (c - '0');
    return value;
}

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// A chunk-size line with extensions; nothing legitimate comes close.
constexpr qsizetype MaxChunkLineBytes = 4096;
// At most 15 hex digits: the size stays below 2^60.
constexpr qsizetype MaxChunkSizeDigits = 15;

} // namespace

HttpResponseParser::HttpResponseParser(qsizetype maxHeadSize) : m_maxHeadSize(std::max<qsizetype>(maxHeadSize, 1)) { }

QByteArray HttpResponseParser::header(QByteArrayView name) const
{
    QByteArray joined;
    bool found = false;
    for (const auto &[fieldName, value] : m_headers) {
        if (fieldName.compare(name, Qt::CaseInsensitive) != 0)
            continue;
        if (found)
            joined += ", ";
        joined += value;
        found = true;
    }
    return joined;
}

HttpResponseParser::Result HttpResponseParser::fail(Error error, const QString &message, qsizetype consumed)
{
    m_state = State::Failed;
    m_error = error;
    m_errorString = message;
    m_line = QByteArray(); // release the memory, not just the contents
    return {Step::Error, consumed, {}};
}

// Takes bytes up to and including the next LF into the current line, at most `allowed` more of
// them (the LF included). Each byte is scanned once and copied at most once, so a line arriving
// byte by byte costs no more than one arriving whole.
HttpResponseParser::LineResult HttpResponseParser::takeLine(QByteArrayView input, qsizetype &pos, qsizetype allowed,
                                                            QByteArrayView &line)
{
    allowed = std::max<qsizetype>(allowed, 0);
    const qsizetype available = input.size() - pos;
    const qsizetype scan = std::min(available, allowed);
    const char *start = input.data() + pos;
    const void *lf = scan > 0 ? std::memchr(start, '\n', size_t(scan)) : nullptr;
    if (!lf) {
        m_line.append(start, scan);
        pos += scan;
        // A byte beyond what is allowed is here and the line has not ended: too long.
        return available > allowed ? LineResult::TooLong : LineResult::Partial;
    }
    const qsizetype length = static_cast<const char *>(lf) - start; // without the LF
    if (m_line.isEmpty()) {
        line = QByteArrayView(start, length);
    } else {
        m_line.append(start, length);
        line = m_line;
    }
    pos += length + 1;
    if (line.endsWith('\r'))
        line.chop(1);
    return LineResult::Complete;
}

HttpResponseParser::Result HttpResponseParser::parse(QByteArrayView input)
{
    qsizetype pos = 0;
    for (;;) {
        switch (m_state) {
        case State::StatusLine:
        case State::HeaderFields:
        case State::ChunkSize:
        case State::ChunkDataEnd:
        case State::Trailers: {
            if (pos == input.size())
                return {Step::NeedMore, pos, {}};
            const bool inHead = m_state == State::StatusLine || m_state == State::HeaderFields;
            const qsizetype allowed = inHead                           ? m_maxHeadSize - m_headBytes
                                      : m_state == State::Trailers     ? m_maxHeadSize - m_trailerBytes
                                      : m_state == State::ChunkDataEnd ? 2 - m_line.size()
                                                                       : MaxChunkLineBytes - m_line.size();
            const qsizetype before = pos;
            QByteArrayView line;
            const LineResult taken = takeLine(input, pos, allowed, line);
            if (inHead)
                m_headBytes += pos - before;
            else if (m_state == State::Trailers)
                m_trailerBytes += pos - before;
            if (taken == LineResult::TooLong) {
                switch (m_state) {
                case State::ChunkSize:
                    return fail(Error::Malformed,
                                QStringLiteral("malformed HTTP response: a chunk-size line longer than %1 bytes")
                                    .arg(MaxChunkLineBytes),
                                pos);
                case State::ChunkDataEnd:
                    return fail(Error::Malformed,
                                QStringLiteral("malformed HTTP response: a chunk longer than its size"), pos);
                case State::Trailers:
                    return fail(Error::HeadTooLarge,
                                QStringLiteral("the response trailers are larger than the limit of %1 bytes")
                                    .arg(m_maxHeadSize),
                                pos);
                default:
                    return fail(
                        Error::HeadTooLarge,
                        QStringLiteral("the response head is larger than the limit of %1 bytes").arg(m_maxHeadSize),
                        pos);
                }
            }
            if (taken == LineResult::Partial)
                return {Step::NeedMore, pos, {}};
            const Step step = onLine(line);
            if (m_state != State::Failed)
                m_line.clear();
            if (step != Step::NeedMore)
                return {step, pos, {}};
            break;
        }
        case State::Body:
            if (m_framing == Framing::ContentLength && m_remaining == 0) {
                m_state = State::Done;
                return {Step::End, pos, {}};
            }
            Q_FALLTHROUGH();
        case State::ChunkData: {
            if (pos == input.size())
                return {Step::NeedMore, pos, {}};
            qsizetype take = input.size() - pos;
            if (m_framing != Framing::UntilClose) {
                take = qsizetype(std::min<qint64>(m_remaining, take));
                m_remaining -= take;
                if (m_remaining == 0 && m_state == State::ChunkData)
                    m_state = State::ChunkDataEnd;
            }
            const QByteArrayView body = input.sliced(pos, take);
            return {Step::Body, pos + take, body};
        }
        case State::Done: return {Step::End, pos, {}};
        case State::Failed: return {Step::Error, pos, {}};
        }
    }
}

HttpResponseParser::Step HttpResponseParser::onLine(QByteArrayView line)
{
    switch (m_state) {
    case State::StatusLine:
    case State::HeaderFields:
        if (line.contains('\0') || line.contains('\r')) {
            fail(Error::Malformed, QStringLiteral("malformed HTTP response: a NUL or a bare CR in the head"));
            return Step::Error;
        }
        if (m_state == State::StatusLine) {
            if (!parseStatusLine(line))
                return Step::Error;
            m_state = State::HeaderFields;
            return Step::NeedMore;
        }
        if (!line.isEmpty())
            return parseHeaderLine(line) ? Step::NeedMore : Step::Error;
        if (m_status == 101) {
            fail(Error::Unsupported,
                 QStringLiteral("the server switched protocols (HTTP 101), which was not asked for"));
            return Step::Error;
        }
        if (m_status < 200) {
            // An interim response (100 Continue, 103 Early Hints): the real one follows. Its bytes
            // count against the head limit all the same.
            m_headers.clear();
            m_reason.clear();
            m_status = 0;
            m_state = State::StatusLine;
            return Step::NeedMore;
        }
        m_headComplete = true;
        return finishHead() ? Step::Head : Step::Error;
    case State::ChunkSize: return parseChunkSize(line) ? Step::NeedMore : Step::Error;
    case State::ChunkDataEnd:
        if (!line.isEmpty()) {
            fail(Error::Malformed, QStringLiteral("malformed HTTP response: a chunk longer than its size"));
            return Step::Error;
        }
        m_state = State::ChunkSize;
        return Step::NeedMore;
    case State::Trailers:
        // Trailer fields are read past and dropped: nothing in a stream needs them.
        if (!line.isEmpty())
            return Step::NeedMore;
        m_state = State::Done;
        return Step::End;
    default: return Step::NeedMore;
    }
}

bool HttpResponseParser::parseStatusLine(QByteArrayView line)
{
    // HTTP-version SP 3DIGIT [SP reason-phrase]; servers leave the reason out altogether too.
    if (line.size() < 12 || !line.startsWith("HTTP/1.") || !isDigit(line.at(7)) || line.at(8) != ' '
        || !isDigit(line.at(9)) || !isDigit(line.at(10)) || !isDigit(line.at(11))
        || (line.size() > 12 && line.at(12) != ' ')) {
        fail(Error::Malformed, QStringLiteral("malformed HTTP response: not an HTTP/1.x status line"));
        return false;
    }
    m_status = (line.at(9) - '0') * 100 + (line.at(10) - '0') * 10 + (line.at(11) - '0');
    if (m_status < 100) {
        fail(Error::Malformed, QStringLiteral("malformed HTTP response: status %1").arg(m_status));
        return false;
    }
    m_reason = line.size() > 13 ? line.sliced(13).toByteArray() : QByteArray();
    return true;
}

bool HttpResponseParser::parseHeaderLine(QByteArrayView line)
{
    if (line.front() == ' ' || line.front() == '\t') {
        // obs-fold: a user agent replaces it with a space (RFC 9112, section 5.2).
        if (m_headers.isEmpty()) {
            fail(Error::Malformed, QStringLiteral("malformed HTTP response: a continuation line without a field"));
            return false;
        }
        QByteArray &value = m_headers.last().second;
        const QByteArrayView more = trimmed(line);
        if (!more.isEmpty()) {
            if (!value.isEmpty())
                value += ' ';
            value += more;
        }
        return true;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0 || !isToken(line.first(colon))) {
        fail(Error::Malformed, QStringLiteral("malformed HTTP response: a header line that is not \"name: value\""));
        return false;
    }
    m_headers.append({line.first(colon).toByteArray(), trimmed(line.sliced(colon + 1)).toByteArray()});
    return true;
}

bool HttpResponseParser::parseChunkSize(QByteArrayView line)
{
    // chunk-size [ BWS ";" chunk-ext ]; extensions are ignored.
    qsizetype digits = 0;
    qint64 size = 0;
    while (digits < line.size() && digits < MaxChunkSizeDigits + 1 && hexDigit(line.at(digits)) >= 0) {
        size = size * 16 + hexDigit(line.at(digits));
        ++digits;
    }
    const QByteArrayView rest = trimmed(line.sliced(digits));
    if (digits == 0 || digits > MaxChunkSizeDigits || (!rest.isEmpty() && !rest.startsWith(';'))) {
        fail(Error::Malformed, QStringLiteral("malformed HTTP response: invalid chunk size"));
        return false;
    }
    m_remaining = size;
    m_state = size == 0 ? State::Trailers : State::ChunkData;
    return true;
}

bool HttpResponseParser::finishHead()
{
    const auto has = [this](QByteArrayView name) {
        return std::any_of(m_headers.cbegin(), m_headers.cend(),
                           [name](const auto &h) { return h.first.compare(name, Qt::CaseInsensitive) == 0; });
    };
    if (m_requestIsHead || m_status == 204 || m_status == 304) {
        m_framing = Framing::NoBody;
        m_state = State::Done;
        return true;
    }
    const bool hasContentLength = has("Content-Length");
    if (has("Transfer-Encoding")) {
        // A response framed two ways is read differently by different parsers (RFC 9112, 6.3).
        if (hasContentLength) {
            fail(Error::Malformed,
                 QStringLiteral("malformed HTTP response: both Content-Length and Transfer-Encoding"));
            return false;
        }
        const QList<QByteArray> codings = header("Transfer-Encoding").split(',');
        for (const QByteArray &coding : codings) {
            const QByteArrayView c = trimmed(coding);
            if (c.compare("chunked", Qt::CaseInsensitive) != 0) {
                fail(Error::Unsupported, QStringLiteral("unsupported transfer coding \"%1\" (only chunked is)")
                                             .arg(QString::fromLatin1(c.toByteArray())));
                return false;
            }
        }
        if (codings.size() != 1) {
            fail(Error::Malformed, QStringLiteral("malformed HTTP response: chunked applied more than once"));
            return false;
        }
        m_framing = Framing::Chunked;
        m_state = State::ChunkSize;
        return true;
    }
    if (hasContentLength) {
        std::optional<qint64> length;
        for (const QByteArray &part : header("Content-Length").split(',')) {
            const auto value = parseDecimal(trimmed(part));
            if (!value || (length && *length != *value)) {
                fail(Error::Malformed, QStringLiteral("malformed HTTP response: invalid Content-Length"));
                return false;
            }
            length = value;
        }
        m_framing = Framing::ContentLength;
        m_remaining = *length;
        m_state = State::Body;
        return true;
    }
    m_framing = Framing::UntilClose;
    m_state = State::Body;
    return true;
}

HttpResponseParser::Result HttpResponseParser::endOfInput()
{
    switch (m_state) {
    case State::Done: return {Step::End, 0, {}};
    case State::Failed: return {Step::Error, 0, {}};
    case State::Body:
        if (m_framing == Framing::UntilClose) {
            m_state = State::Done;
            return {Step::End, 0, {}};
        }
        break;
    case State::StatusLine:
    case State::HeaderFields:
        return fail(Error::Truncated, hasStarted()
                                          ? QStringLiteral("the connection closed in the middle of the response head")
                                          : QStringLiteral("the connection closed without a response"));
    default: break;
    }
    return fail(Error::Truncated, QStringLiteral("the connection closed before the end of the response body"));
}

} // namespace clipdeck::sse
