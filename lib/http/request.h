#pragma once

// One parsed HTTP/1.x request head. The header section is kept as one byte array plus offsets
// rather than a list of byte arrays: a long-lived stream keeps its request for its whole life,
// and two allocations instead of two per header is most of an idle stream's memory.

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <optional>
#include <utility>

namespace clipdeck::http {

// Response (and request) header fields, in order; names are case-insensitive.
using Headers = QList<std::pair<QByteArray, QByteArray>>;

// Case-insensitive ASCII comparison, as header names and tokens need.
bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b);

// Percent-decodes a query component, '+' meaning a space (what browsers' forms and
// URLSearchParams write).
QByteArray decodeQueryComponent(QByteArrayView encoded);

class Request
{
public:
    QByteArrayView method() const { return view(m_method); }
    // The request target as sent, e.g. "/api/jobs?status=running" (for absolute-form targets,
    // the part after the authority).
    QByteArrayView target() const { return view(m_target); }
    // target() up to the '?', still percent-encoded: decode per segment (see pathSegments()).
    QByteArrayView path() const;
    // after the '?', without it; empty when there is none
    QByteArrayView query() const;
    int versionMinor() const { return m_versionMinor; } // 0 (HTTP/1.0) or 1 (HTTP/1.1)

    // The path split on '/', each segment percent-decoded; "/a/b%2Fc/" gives ["a", "b/c", ""].
    // A segment that decodes to invalid UTF-8 becomes U+FFFD.
    QList<QString> pathSegments() const;
    // The first value of a query parameter, decoded; nullopt when absent.
    std::optional<QByteArray> queryValue(QByteArrayView name) const;

    qsizetype headerCount() const { return m_fields.size(); }
    QByteArrayView headerName(qsizetype i) const;
    QByteArrayView headerValue(qsizetype i) const;
    bool hasHeader(QByteArrayView name) const;
    // The first value of a header (case-insensitive name), trimmed; empty when absent.
    QByteArrayView header(QByteArrayView name) const;
    // All values of a header joined with ", " (a list-valued header sent several times).
    QByteArray combinedHeader(QByteArrayView name) const;
    // A cookie's value from the Cookie header(s); nullopt when absent.
    std::optional<QByteArray> cookie(QByteArrayView name) const;

    // Whether the client lets the connection stay open after the response: HTTP/1.1 unless it
    // sent "Connection: close"; HTTP/1.0 never (persistent 1.0 connections are not offered).
    bool keepAlive() const;
    // "Expect: 100-continue" from an HTTP/1.1 client.
    bool expectsContinue() const;

private:
    friend class RequestParser;
    struct Span
    {
        qint32 offset = 0;
        qint32 size = 0;
    };
    struct Field
    {
        Span name;
        Span value;
    };
    QByteArrayView view(Span s) const { return QByteArrayView(m_raw.constData() + s.offset, s.size); }

    QByteArray m_raw; // method, target and every header name and value, back to back
    Span m_method;
    Span m_target;
    QList<Field> m_fields;
    int m_versionMinor = 1;
};

} // namespace clipdeck::http
