#include "http/request.h"

namespace clipdeck::http {

namespace {

char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

QByteArrayView trimmed(QByteArrayView v)
{
    while (!v.isEmpty() && (v.front() == ' ' || v.front() == '\t'))
        v = v.sliced(1);
    while (!v.isEmpty() && (v.back() == ' ' || v.back() == '\t'))
        v.chop(1);
    return v;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

QByteArray percentDecode(QByteArrayView encoded, bool plusIsSpace)
{
    QByteArray out;
    out.reserve(encoded.size());
    for (qsizetype i = 0; i < encoded.size(); ++i) {
        const char c = encoded[i];
        if (c == '%' && i + 2 < encoded.size() && hexValue(encoded[i + 1]) >= 0 && hexValue(encoded[i + 2]) >= 0) {
            out.append(char(hexValue(encoded[i + 1]) * 16 + hexValue(encoded[i + 2])));
            i += 2;
        } else if (c == '+' && plusIsSpace) {
            out.append(' ');
        } else {
            out.append(c);
        }
    }
    return out;
}

} // namespace

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

QByteArray decodeQueryComponent(QByteArrayView encoded)
{
    return percentDecode(encoded, true);
}

QByteArrayView Request::path() const
{
    const QByteArrayView t = target();
    const qsizetype q = t.indexOf('?');
    return q < 0 ? t : t.first(q);
}

QByteArrayView Request::query() const
{
    const QByteArrayView t = target();
    const qsizetype q = t.indexOf('?');
    return q < 0 ? QByteArrayView() : t.sliced(q + 1);
}

QList<QString> Request::pathSegments() const
{
    QList<QString> segments;
    QByteArrayView p = path();
    if (p.startsWith('/'))
        p = p.sliced(1);
    if (p.isEmpty() && path() == "*")
        return segments;
    qsizetype start = 0;
    for (qsizetype i = 0; i <= p.size(); ++i) {
        if (i == p.size() || p[i] == '/') {
            segments.append(QString::fromUtf8(percentDecode(p.sliced(start, i - start), false)));
            start = i + 1;
        }
    }
    return segments;
}

std::optional<QByteArray> Request::queryValue(QByteArrayView name) const
{
    const QByteArrayView q = query();
    qsizetype start = 0;
    while (start <= q.size()) {
        qsizetype end = q.indexOf('&', start);
        if (end < 0)
            end = q.size();
        const QByteArrayView pair = q.sliced(start, end - start);
        const qsizetype eq = pair.indexOf('=');
        const QByteArrayView key = eq < 0 ? pair : pair.first(eq);
        if (!pair.isEmpty() && decodeQueryComponent(key) == name)
            return eq < 0 ? QByteArray("") : decodeQueryComponent(pair.sliced(eq + 1));
        start = end + 1;
    }
    return std::nullopt;
}

QByteArrayView Request::headerName(qsizetype i) const
{
    return view(m_fields.at(i).name);
}

QByteArrayView Request::headerValue(qsizetype i) const
{
    return view(m_fields.at(i).value);
}

bool Request::hasHeader(QByteArrayView name) const
{
    for (const Field &f : m_fields) {
        if (equalsIgnoringCase(view(f.name), name))
            return true;
    }
    return false;
}

QByteArrayView Request::header(QByteArrayView name) const
{
    for (const Field &f : m_fields) {
        if (equalsIgnoringCase(view(f.name), name))
            return view(f.value);
    }
    return {};
}

QByteArray Request::combinedHeader(QByteArrayView name) const
{
    QByteArray out;
    for (const Field &f : m_fields) {
        if (!equalsIgnoringCase(view(f.name), name))
            continue;
        if (!out.isEmpty())
            out.append(", ");
        out.append(view(f.value));
    }
    return out;
}

std::optional<QByteArray> Request::cookie(QByteArrayView name) const
{
    for (const Field &f : m_fields) {
        if (!equalsIgnoringCase(view(f.name), "cookie"))
            continue;
        // cookie-string = cookie-pair *( ";" SP cookie-pair ); be lenient about the spaces.
        const QByteArrayView value = view(f.value);
        qsizetype start = 0;
        while (start < value.size()) {
            qsizetype end = value.indexOf(';', start);
            if (end < 0)
                end = value.size();
            const QByteArrayView pair = trimmed(value.sliced(start, end - start));
            const qsizetype eq = pair.indexOf('=');
            if (eq > 0 && trimmed(pair.first(eq)) == name) {
                QByteArrayView v = trimmed(pair.sliced(eq + 1));
                if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
                    v = v.sliced(1, v.size() - 2);
                return v.toByteArray();
            }
            start = end + 1;
        }
    }
    return std::nullopt;
}

bool Request::keepAlive() const
{
    if (m_versionMinor == 0)
        return false;
    // Connection is a comma-separated list of options.
    const QByteArray connection = combinedHeader("connection");
    qsizetype start = 0;
    while (start < connection.size()) {
        qsizetype end = connection.indexOf(',', start);
        if (end < 0)
            end = connection.size();
        if (equalsIgnoringCase(trimmed(QByteArrayView(connection).sliced(start, end - start)), "close"))
            return false;
        start = end + 1;
    }
    return true;
}

bool Request::expectsContinue() const
{
    return m_versionMinor >= 1 && equalsIgnoringCase(header("expect"), "100-continue");
}

} // namespace clipdeck::http
