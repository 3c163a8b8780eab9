#pragma once

// Incremental HTTP/1.x request parser (RFC 9112), pull-style: the caller hands it the bytes it
// has, and it says what the next thing is and how many bytes that took. It never copies a body:
// body bytes come back as views into the caller's input, so an upload is never held whole in
// memory. It stops after a request's head (so the caller can decide what to do with the body
// before any of it is consumed) and after each request (so pipelined requests wait in the
// caller's buffer until the response to the current one is under way).
//
// Strict where leniency lets two parsers disagree about where a message ends (request
// smuggling): Content-Length together with Transfer-Encoding, differing Content-Lengths, obs-fold,
// whitespace before a header's colon, bare CR, and control characters are all 400.

#include "http/request.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <optional>

namespace clipdeck::http {

// A decimal number as HTTP writes them (Content-Length, byte ranges): ASCII
// digits only, no sign or spaces, at most 18 of them so it cannot overflow; nullopt otherwise.
std::optional<qint64> parseDecimal(QByteArrayView text);

struct ParserLimits
{
    qsizetype maxRequestLineBytes = 8 * 1024; // longer request lines: 414 URI Too Long
    qsizetype maxHeaderBytes = 16 * 1024;     // all header lines together (trailers alike): 431
    int maxHeaderCount = 100;                 // more header fields: 431
    qint64 maxBodyBytes = qint64(1) << 20;    // the default body limit (setBodyLimit): 413
};

class RequestParser
{
public:
    enum class Step {
        NeedMore, // every byte given was consumed; call again with more
        Head,     // a request head is complete: takeRequest(), then (optionally) setBodyLimit()
        Body,     // body bytes (already de-chunked) in Result::body
        End,      // the request is complete; the next call starts the next request
        Error,    // the request is malformed or over a limit: errorStatus(), errorMessage()
    };
    struct Result
    {
        Step step = Step::NeedMore;
        qsizetype consumed = 0; // bytes of the input used by this step
        QByteArrayView body;    // Step::Body only: a view into the input
    };

    explicit RequestParser(ParserLimits limits = {});

    Result parse(QByteArrayView input);

    // After Head: the request (moved out; later calls return an empty one).
    Request takeRequest();
    // After Head: whether a body follows (a Content-Length above 0, or chunked), and its
    // announced length (nullopt for chunked).
    bool hasBody() const { return m_chunked || m_contentLength > 0; }
    std::optional<qint64> contentLength() const;
    // Sets the body limit of the current request (default ParserLimits::maxBodyBytes). A
    // Content-Length above it, or a chunked body growing past it, is Error 413 at the next
    // parse() — before any body byte is consumed for a Content-Length.
    void setBodyLimit(qint64 bytes) { m_bodyLimit = bytes; }
    qint64 bodyLimit() const { return m_bodyLimit; }
    qint64 bodyBytesReceived() const { return m_bodyReceived; }

    // Whether part of a request has been consumed (false between requests and before the first):
    // what tells a slow client from an idle keep-alive connection.
    bool isMidRequest() const;
    // Between Head and End.
    bool isInBody() const;

    bool hasError() const { return m_state == State::Failed; }
    int errorStatus() const { return m_errorStatus; } // 400, 413, 414, 431, 501 or 505
    QString errorMessage() const { return m_errorMessage; }

    const ParserLimits &limits() const { return m_limits; }

private:
    enum class State {
        Start,
        RequestLine,
        HeaderFields,
        BodyStart,
        Fixed,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        BodyEnd,
        Done,
        Failed
    };
    enum class LineResult { Complete, Partial, Failed };

    LineResult takeLine(QByteArrayView input, qsizetype &pos, qsizetype budget, int tooLongStatus,
                        QLatin1StringView tooLong, QByteArrayView &line);
    Result fail(int status, const QString &message);
    bool parseRequestLine(QByteArrayView line);
    bool parseHeaderLine(QByteArrayView line, bool trailer);
    bool finishHead();
    void startNextMessage();

    ParserLimits m_limits;
    State m_state = State::Start;
    QByteArray m_line; // the part of a line received so far, when it spans inputs
    Request m_request;
    qsizetype m_headerBytes = 0;
    int m_emptyLinesSkipped = 0;
    bool m_chunked = false;
    qint64 m_contentLength = 0;
    qint64 m_bodyLimit = 0;
    qint64 m_bodyReceived = 0;
    qint64 m_remaining = 0; // of the Content-Length, or of the current chunk
    int m_errorStatus = 0;
    QString m_errorMessage;
};

} // namespace clipdeck::http
