#pragma once

// Internal to lib/sse: the incremental HTTP/1.1 response parser (RFC 9112) of the EventSource's
// own transport (httpstream_p.h). Pull-style like lib/http's RequestParser: the caller hands it
// the bytes it has and it says what the next thing is and how many bytes that took. Body bytes
// come back as views into the caller's input, de-chunked, never copied.
//
// The whole response head — interim 1xx heads included — is capped (maxHeadSize): the byte that
// would go past it is an error at once, so a hostile head costs at most that much memory. Every
// input byte is looked at a bounded number of times, whatever the chunking: the work is linear
// in the input.
//
// Lenient where clients have always been (a bare LF ends a line, a missing reason phrase,
// obs-fold is unfolded into a space), strict where a response would otherwise be framed wrongly:
// Content-Length together with Transfer-Encoding, differing Content-Lengths, transfer codings
// other than chunked, whitespace before a field's colon, NUL or a bare CR inside a line.

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <utility>

namespace clipdeck::sse {

class HttpResponseParser
{
public:
    static constexpr qsizetype DefaultMaxHeadSize = 64 * 1024;

    enum class Step {
        NeedMore, // every byte given was consumed; call again with more (or endOfInput())
        Head,     // the final (non-1xx) response head is complete: status(), headers()
        Body,     // body bytes in Result::body (a view into the input)
        End,      // the response is complete; later input is not looked at
        Error,    // error(), errorString(); sticky
    };
    struct Result
    {
        Step step = Step::NeedMore;
        qsizetype consumed = 0; // bytes of the input used by this step
        QByteArrayView body;    // Step::Body only
    };
    enum class Error {
        None,
        HeadTooLarge, // the head went past maxHeadSize
        Malformed,    // not HTTP/1.x, or framed in a way that cannot be read unambiguously
        Unsupported,  // valid HTTP the stream cannot use: 101, a transfer coding other than chunked
        Truncated,    // the input ended before the response did (endOfInput())
    };
    enum class Framing { NoBody, ContentLength, Chunked, UntilClose };

    explicit HttpResponseParser(qsizetype maxHeadSize = DefaultMaxHeadSize);

    // A response to HEAD has a head only. Set before the first parse().
    void setRequestMethodIsHead(bool head) { m_requestIsHead = head; }

    Result parse(QByteArrayView input);
    // The input ended (the connection closed): End when that ends the response (a close-delimited
    // body, or a response already complete), Error Truncated otherwise.
    Result endOfInput();

    // After Head.
    int status() const { return m_status; }
    QByteArray reason() const { return m_reason; }
    const QList<std::pair<QByteArray, QByteArray>> &headers() const { return m_headers; }
    // Every field of that name (case-insensitive), joined with ", " as RFC 9110 allows; empty
    // when absent.
    QByteArray header(QByteArrayView name) const;
    Framing framing() const { return m_framing; }

    // Bytes of response head consumed so far (all interim heads included).
    qsizetype headBytes() const { return m_headBytes; }
    qsizetype maxHeadSize() const { return m_maxHeadSize; }
    bool isHeadComplete() const { return m_headComplete; }
    // Whether any byte of a response has arrived yet.
    bool hasStarted() const { return m_headBytes > 0 || !m_line.isEmpty(); }

    bool hasError() const { return m_state == State::Failed; }
    Error error() const { return m_error; }
    QString errorString() const { return m_errorString; }

private:
    enum class State { StatusLine, HeaderFields, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailers, Done, Failed };
    enum class LineResult { Complete, Partial, TooLong };

    LineResult takeLine(QByteArrayView input, qsizetype &pos, qsizetype allowed, QByteArrayView &line);
    Result fail(Error error, const QString &message, qsizetype consumed = 0);
    Step onLine(QByteArrayView line); // NeedMore: go on reading
    bool parseStatusLine(QByteArrayView line);
    bool parseHeaderLine(QByteArrayView line);
    bool parseChunkSize(QByteArrayView line);
    bool finishHead();

    qsizetype m_maxHeadSize;
    bool m_requestIsHead = false;
    State m_state = State::StatusLine;
    QByteArray m_line; // the part of a line received so far, when it spans inputs
    qsizetype m_headBytes = 0;
    qsizetype m_trailerBytes = 0;
    int m_status = 0;
    QByteArray m_reason;
    QList<std::pair<QByteArray, QByteArray>> m_headers;
    Framing m_framing = Framing::UntilClose;
    bool m_headComplete = false;
    qint64 m_remaining = 0; // of the Content-Length, or of the current chunk
    Error m_error = Error::None;
    QString m_errorString;
};

} // namespace clipdeck::sse
