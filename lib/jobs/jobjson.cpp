#include "jobs/jobjson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QStringList>
#include <QUrl>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace clipdeck::jobs {

// ---------------------------------------------------------------------------------------------
// Encoding. Written by hand rather than through QJsonDocument: the server encodes one snapshot
// per update, and building a QJsonObject tree and serialising it took about 5x as long as
// appending the bytes directly (tst_job benchEncode: 36 us against 7 us for a full snapshot,
// debug build). Writing it ourselves also pins the key order, which QJsonObject would sort.
// ---------------------------------------------------------------------------------------------
namespace {

void appendUtf8Escaped(QByteArray &out, QStringView s)
{
    static constexpr char hex[] = "0123456789abcdef";
    out.append('"');
    const char16_t *p = s.utf16();
    const char16_t *end = p + s.size();
    while (p < end) {
        const char16_t c = *p++;
        if (c < 0x80) {
            switch (c) {
            case u'"': out.append("\\\"", 2); break;
            case u'\\': out.append("\\\\", 2); break;
            case u'\n': out.append("\\n", 2); break;
            case u'\r': out.append("\\r", 2); break;
            case u'\t': out.append("\\t", 2); break;
            case u'\b': out.append("\\b", 2); break;
            case u'\f': out.append("\\f", 2); break;
            default:
                if (c < 0x20) {
                    const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
                    out.append(esc, 6);
                } else {
                    out.append(char(c));
                }
            }
            continue;
        }
        char32_t cp = c;
        if (QChar::isHighSurrogate(c) && p < end && QChar::isLowSurrogate(*p)) {
            cp = QChar::surrogateToUcs4(c, *p++);
        } else if (QChar::isSurrogate(c)) {
            cp = 0xFFFD; // a lone surrogate is not valid UTF-8: replace it, as QString::toUtf8 does
        }
        char buf[4];
        int n;
        if (cp < 0x800) {
            buf[0] = char(0xC0 | (cp >> 6));
            buf[1] = char(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            buf[0] = char(0xE0 | (cp >> 12));
            buf[1] = char(0x80 | ((cp >> 6) & 0x3F));
            buf[2] = char(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            buf[0] = char(0xF0 | (cp >> 18));
            buf[1] = char(0x80 | ((cp >> 12) & 0x3F));
            buf[2] = char(0x80 | ((cp >> 6) & 0x3F));
            buf[3] = char(0x80 | (cp & 0x3F));
            n = 4;
        }
        out.append(buf, n);
    }
    out.append('"');
}

void appendInteger(QByteArray &out, qint64 value)
{
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr - buf);
}

void appendUnsigned(QByteArray &out, quint64 value)
{
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr - buf);
}

// Shortest text that reads back as the same double: deterministic and round-trips exactly.
void appendDouble(QByteArray &out, double value)
{
    if (!std::isfinite(value)) {
        out.append("null", 4);
        return;
    }
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr - buf);
}

void appendKey(QByteArray &out, const char *literalWithQuotesAndColon, qsizetype size)
{
    out.append(literalWithQuotesAndColon, size);
}

#define CLIPDECK_KEY(out, text) appendKey(out, text, sizeof(text) - 1)

void appendTime(QByteArray &out, const QDateTime &time)
{
    if (!time.isValid()) {
        out.append("null", 4);
        return;
    }
    out.append('"');
    out.append(formatUtcTime(time));
    out.append('"');
}

void appendVariant(QByteArray &out, const QVariant &value);

void appendVariantMap(QByteArray &out, const QVariantMap &map)
{
    out.append('{');
    bool first = true;
    for (auto it = map.cbegin(); it != map.cend(); ++it) { // QMap iterates in key order
        if (!first)
            out.append(',');
        first = false;
        appendUtf8Escaped(out, it.key());
        out.append(':');
        appendVariant(out, it.value());
    }
    out.append('}');
}

void appendVariant(QByteArray &out, const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::UnknownType:
    case QMetaType::Nullptr: out.append("null", 4); return;
    case QMetaType::Bool:
        if (value.toBool())
            out.append("true", 4);
        else
            out.append("false", 5);
        return;
    case QMetaType::Int:
    case QMetaType::Short:
    case QMetaType::Long:
    case QMetaType::LongLong:
    case QMetaType::SChar:
    case QMetaType::Char: appendInteger(out, value.toLongLong()); return;
    case QMetaType::UInt:
    case QMetaType::UShort:
    case QMetaType::ULong:
    case QMetaType::ULongLong:
    case QMetaType::UChar: appendUnsigned(out, value.toULongLong()); return;
    case QMetaType::Double:
    case QMetaType::Float: appendDouble(out, value.toDouble()); return;
    case QMetaType::QString: appendUtf8Escaped(out, value.toString()); return;
    case QMetaType::QByteArray: appendUtf8Escaped(out, QString::fromUtf8(value.toByteArray())); return;
    case QMetaType::QDateTime: appendTime(out, value.toDateTime()); return;
    case QMetaType::QStringList:
    case QMetaType::QVariantList: {
        const QVariantList list = value.toList();
        out.append('[');
        for (qsizetype i = 0; i < list.size(); ++i) {
            if (i)
                out.append(',');
            appendVariant(out, list.at(i));
        }
        out.append(']');
        return;
    }
    case QMetaType::QVariantMap: appendVariantMap(out, value.toMap()); return;
    case QMetaType::QVariantHash: {
        // A hash has no stable order; sorting through a QVariantMap keeps the output deterministic.
        const QVariantHash hash = value.toHash();
        QVariantMap sorted;
        for (auto it = hash.cbegin(); it != hash.cend(); ++it)
            sorted.insert(it.key(), it.value());
        appendVariantMap(out, sorted);
        return;
    }
    case QMetaType::QJsonValue:
    case QMetaType::QJsonObject:
    case QMetaType::QJsonArray:
    case QMetaType::QJsonDocument: appendVariant(out, QJsonValue::fromVariant(value).toVariant()); return;
    default:
        // QUrl, QDate, enums...: their string form when Qt has one, otherwise null.
        if (value.canConvert<QString>())
            appendUtf8Escaped(out, value.toString());
        else
            out.append("null", 4);
        return;
    }
}

// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, proleptic Gregorian).
void civilFromDays(qint64 z, qint64 &y, unsigned &m, unsigned &d)
{
    z += 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = unsigned(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = qint64(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

} // namespace

QByteArray formatUtcTime(const QDateTime &time)
{
    if (!time.isValid())
        return {};
    const qint64 ms = time.toMSecsSinceEpoch();
    constexpr qint64 msPerDay = 86400000;
    qint64 days = ms / msPerDay;
    qint64 rest = ms % msPerDay;
    if (rest < 0) {
        rest += msPerDay;
        --days;
    }
    qint64 year;
    unsigned month, day;
    civilFromDays(days, year, month, day);
    if (year < 0 || year > 9999) // outside what four digits hold: let Qt spell it
        return time.toUTC().toString(Qt::ISODateWithMs).toLatin1();
    const unsigned msec = unsigned(rest % 1000);
    const unsigned secs = unsigned(rest / 1000);
    const unsigned hh = secs / 3600, mm = (secs / 60) % 60, ss = secs % 60;
    char buf[24];
    auto two = [](char *p, unsigned v) {
        p[0] = char('0' + v / 10);
        p[1] = char('0' + v % 10);
    };
    const unsigned y = unsigned(year);
    buf[0] = char('0' + y / 1000);
    buf[1] = char('0' + (y / 100) % 10);
    buf[2] = char('0' + (y / 10) % 10);
    buf[3] = char('0' + y % 10);
    buf[4] = '-';
    two(buf + 5, month);
    buf[7] = '-';
    two(buf + 8, day);
    buf[10] = 'T';
    two(buf + 11, hh);
    buf[13] = ':';
    two(buf + 14, mm);
    buf[16] = ':';
    two(buf + 17, ss);
    buf[19] = '.';
    buf[20] = char('0' + msec / 100);
    buf[21] = char('0' + (msec / 10) % 10);
    buf[22] = char('0' + msec % 10);
    buf[23] = 'Z';
    return QByteArray(buf, 24);
}

void appendJob(QByteArray &out, const Job &job)
{
    out.reserve(out.size() + 400 + 160 * job.outputs.size());
    CLIPDECK_KEY(out, "{\"v\":1,\"jobId\":");
    appendUtf8Escaped(out, job.id);
    CLIPDECK_KEY(out, ",\"seq\":");
    appendInteger(out, job.seq);
    CLIPDECK_KEY(out, ",\"kind\":");
    appendUtf8Escaped(out, job.kind);
    CLIPDECK_KEY(out, ",\"input\":");
    appendUtf8Escaped(out, job.input);
    CLIPDECK_KEY(out, ",\"params\":");
    appendVariantMap(out, job.params);
    CLIPDECK_KEY(out, ",\"status\":\"");
    const QLatin1StringView status = statusName(job.status);
    out.append(status.data(), status.size());
    CLIPDECK_KEY(out, "\",\"progress\":");
    appendDouble(out, job.progress);
    CLIPDECK_KEY(out, ",\"stage\":");
    appendUtf8Escaped(out, job.stage);
    CLIPDECK_KEY(out, ",\"etaSeconds\":");
    if (job.etaSeconds)
        appendDouble(out, *job.etaSeconds);
    else
        out.append("null", 4);
    CLIPDECK_KEY(out, ",\"speed\":");
    if (job.speed) {
        CLIPDECK_KEY(out, "{\"fps\":");
        appendDouble(out, job.speed->fps);
        CLIPDECK_KEY(out, ",\"realtime\":");
        appendDouble(out, job.speed->realtime);
        out.append('}');
    } else {
        out.append("null", 4);
    }
    CLIPDECK_KEY(out, ",\"attempt\":");
    appendInteger(out, job.attempt);
    CLIPDECK_KEY(out, ",\"priority\":");
    appendInteger(out, job.priority);
    CLIPDECK_KEY(out, ",\"error\":");
    if (job.error) {
        CLIPDECK_KEY(out, "{\"code\":");
        appendUtf8Escaped(out, job.error->code);
        CLIPDECK_KEY(out, ",\"message\":");
        appendUtf8Escaped(out, job.error->message);
        out.append('}');
    } else {
        out.append("null", 4);
    }
    CLIPDECK_KEY(out, ",\"outputs\":[");
    for (qsizetype i = 0; i < job.outputs.size(); ++i) {
        const Output &o = job.outputs.at(i);
        if (i)
            out.append(',');
        CLIPDECK_KEY(out, "{\"name\":");
        appendUtf8Escaped(out, o.name);
        CLIPDECK_KEY(out, ",\"path\":");
        appendUtf8Escaped(out, o.path);
        CLIPDECK_KEY(out, ",\"role\":");
        appendUtf8Escaped(out, o.role);
        CLIPDECK_KEY(out, ",\"size\":");
        appendInteger(out, o.size);
        CLIPDECK_KEY(out, ",\"mime\":");
        appendUtf8Escaped(out, o.mime);
        out.append('}');
    }
    CLIPDECK_KEY(out, "],\"createdAt\":");
    appendTime(out, job.createdAt);
    CLIPDECK_KEY(out, ",\"startedAt\":");
    appendTime(out, job.startedAt);
    CLIPDECK_KEY(out, ",\"finishedAt\":");
    appendTime(out, job.finishedAt);
    CLIPDECK_KEY(out, ",\"updatedAt\":");
    appendTime(out, job.updatedAt);
    out.append('}');
}

#undef CLIPDECK_KEY

QByteArray encodeJob(const Job &job)
{
    QByteArray out;
    appendJob(out, job);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding: strict, so a broken or foreign snapshot is reported once, at the edge, with the key
// at fault, instead of turning into a half-filled job somewhere in a model.
// ---------------------------------------------------------------------------------------------
namespace {

QString typeName(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("a boolean");
    case QJsonValue::Double: return QStringLiteral("a number");
    case QJsonValue::String: return QStringLiteral("a string");
    case QJsonValue::Array: return QStringLiteral("an array");
    case QJsonValue::Object: return QStringLiteral("an object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("nothing");
}

QString num(double d)
{
    return QString::number(d, 'g', 16);
}

// Largest integer a JSON number carries exactly in every common reader (2^53).
constexpr double MaxSafeInteger = 9007199254740992.0;

class Reader
{
public:
    Reader(const QJsonObject &object, QString path) : m_object(object), m_path(std::move(path)) { }

    bool failed() const { return !m_error.isEmpty(); }
    QString error() const { return m_error; }

    std::optional<QJsonValue> value(QLatin1StringView key)
    {
        if (failed())
            return std::nullopt;
        const auto it = m_object.constFind(key);
        if (it == m_object.constEnd()) {
            fail(key, QStringLiteral("missing"));
            return std::nullopt;
        }
        return it.value();
    }

    QString string(QLatin1StringView key, bool allowEmpty = true)
    {
        const auto v = value(key);
        if (!v)
            return {};
        if (!v->isString())
            return expected(key, QStringLiteral("a string"), *v), QString();
        QString s = v->toString();
        if (!allowEmpty && s.isEmpty())
            fail(key, QStringLiteral("must not be empty"));
        return s;
    }

    double number(QLatin1StringView key, double min, double max)
    {
        const auto v = value(key);
        if (!v)
            return 0;
        return checkNumber(key, *v, min, max);
    }

    std::optional<double> nullableNumber(QLatin1StringView key, double min, double max)
    {
        const auto v = value(key);
        if (!v || v->isNull())
            return std::nullopt;
        const double d = checkNumber(key, *v, min, max);
        return failed() ? std::nullopt : std::optional<double>(d);
    }

    qint64 integer(QLatin1StringView key, double min, double max)
    {
        const auto v = value(key);
        if (!v)
            return 0;
        if (!v->isDouble())
            return expected(key, QStringLiteral("an integer"), *v), 0;
        const double d = v->toDouble();
        if (d != std::floor(d))
            return fail(key, QStringLiteral("expected an integer, got %1").arg(num(d))), 0;
        if (d < min || d > max)
            return outOfRange(key, d, min, max), 0;
        return v->toInteger(qint64(d));
    }

    // The object at key, or std::nullopt for null (when allowed) or on error.
    std::optional<QJsonObject> object(QLatin1StringView key, bool nullable)
    {
        const auto v = value(key);
        if (!v || (nullable && v->isNull()))
            return std::nullopt;
        if (!v->isObject()) {
            expected(key, nullable ? QStringLiteral("an object or null") : QStringLiteral("an object"), *v);
            return std::nullopt;
        }
        return v->toObject();
    }

    QDateTime time(QLatin1StringView key, bool nullable)
    {
        const auto v = value(key);
        if (!v || (nullable && v->isNull()))
            return {};
        if (!v->isString()) {
            expected(key, nullable ? QStringLiteral("an ISO 8601 time or null") : QStringLiteral("an ISO 8601 time"),
                     *v);
            return {};
        }
        const QString text = v->toString();
        const QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
        if (!t.isValid()) {
            fail(key, QStringLiteral("\"%1\" is not an ISO 8601 date and time").arg(text));
            return {};
        }
        // Without "Z" or an offset the time would silently mean the reader's local time.
        if (t.timeSpec() == Qt::LocalTime) {
            fail(key, QStringLiteral("\"%1\" has no time zone (expected UTC, ending in \"Z\")").arg(text));
            return {};
        }
        return t.toUTC();
    }

    void fail(QLatin1StringView key, const QString &what)
    {
        if (m_error.isEmpty())
            m_error = QStringLiteral("\"%1%2\": %3").arg(m_path, key, what);
    }

    void expected(QLatin1StringView key, const QString &what, const QJsonValue &got)
    {
        fail(key, QStringLiteral("expected %1, got %2").arg(what, typeName(got)));
    }

private:
    double checkNumber(QLatin1StringView key, const QJsonValue &v, double min, double max)
    {
        if (!v.isDouble())
            return expected(key, QStringLiteral("a number"), v), 0;
        const double d = v.toDouble();
        if (!(d >= min && d <= max))
            return outOfRange(key, d, min, max), 0;
        return d;
    }

    void outOfRange(QLatin1StringView key, double d, double min, double max)
    {
        if (d < min)
            fail(key, QStringLiteral("%1 is below the minimum %2").arg(num(d), num(min)));
        else
            fail(key, QStringLiteral("%1 is above the maximum %2").arg(num(d), num(max)));
    }

    const QJsonObject &m_object;
    QString m_path;
    QString m_error;
};

JobDecodeResult failure(const QString &message)
{
    return {std::nullopt, QStringLiteral("invalid job snapshot: ") + message};
}

} // namespace

JobDecodeResult decodeJob(QByteArrayView json)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return failure(
            QStringLiteral("malformed JSON at byte %1: %2").arg(parseError.offset).arg(parseError.errorString()));
    if (!doc.isObject())
        return failure(QStringLiteral("expected a JSON object, got %1")
                           .arg(doc.isArray() ? QStringLiteral("an array") : QStringLiteral("a scalar")));
    const QJsonObject root = doc.object();

    Reader r(root, QString());
    // The version first: a snapshot from a future schema is reported as that, not as whatever
    // key it happens to lack.
    const qint64 version = r.integer(QLatin1StringView("v"), 0, MaxSafeInteger);
    if (r.failed())
        return failure(r.error());
    if (version != SchemaVersion)
        return failure(QStringLiteral("\"v\": unsupported schema version %1 (this build reads version %2)")
                           .arg(version)
                           .arg(SchemaVersion));

    Job job;
    job.id = r.string(QLatin1StringView("jobId"), false);
    job.seq = r.integer(QLatin1StringView("seq"), 0, MaxSafeInteger);
    job.kind = r.string(QLatin1StringView("kind"), false);
    job.input = r.string(QLatin1StringView("input"));
    if (const auto params = r.object(QLatin1StringView("params"), false))
        job.params = params->toVariantMap();
    const QString status = r.string(QLatin1StringView("status"));
    if (!r.failed()) {
        const auto s = statusFromName(status);
        if (!s)
            r.fail(QLatin1StringView("status"), QStringLiteral("unknown status \"%1\"").arg(status));
        else
            job.status = *s;
    }
    job.progress = r.number(QLatin1StringView("progress"), 0, 100);
    job.stage = r.string(QLatin1StringView("stage"));
    job.etaSeconds = r.nullableNumber(QLatin1StringView("etaSeconds"), 0, std::numeric_limits<double>::max());
    if (const auto speed = r.object(QLatin1StringView("speed"), true)) {
        Reader s(*speed, QStringLiteral("speed."));
        Speed value;
        value.fps = s.number(QLatin1StringView("fps"), 0, std::numeric_limits<double>::max());
        value.realtime = s.number(QLatin1StringView("realtime"), 0, std::numeric_limits<double>::max());
        if (s.failed())
            return failure(s.error());
        job.speed = value;
    }
    job.attempt = int(r.integer(QLatin1StringView("attempt"), 1, std::numeric_limits<int>::max()));
    job.priority =
        int(r.integer(QLatin1StringView("priority"), std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
    if (const auto error = r.object(QLatin1StringView("error"), true)) {
        Reader e(*error, QStringLiteral("error."));
        Error value;
        value.code = e.string(QLatin1StringView("code"), false);
        value.message = e.string(QLatin1StringView("message"));
        if (e.failed())
            return failure(e.error());
        job.error = value;
    }
    if (const auto outputs = r.value(QLatin1StringView("outputs"))) {
        if (!outputs->isArray()) {
            r.expected(QLatin1StringView("outputs"), QStringLiteral("an array"), *outputs);
        } else {
            const QJsonArray array = outputs->toArray();
            job.outputs.reserve(array.size());
            for (qsizetype i = 0; i < array.size(); ++i) {
                const QString path = QStringLiteral("outputs[%1]").arg(i);
                const QJsonValue item = array.at(i);
                if (!item.isObject())
                    return failure(QStringLiteral("\"%1\": expected an object, got %2").arg(path, typeName(item)));
                const QJsonObject object = item.toObject();
                Reader o(object, path + u'.');
                Output out;
                out.name = o.string(QLatin1StringView("name"), false);
                out.path = o.string(QLatin1StringView("path"));
                out.role = o.string(QLatin1StringView("role"));
                out.size = o.integer(QLatin1StringView("size"), 0, MaxSafeInteger);
                out.mime = o.string(QLatin1StringView("mime"));
                if (o.failed())
                    return failure(o.error());
                job.outputs.append(out);
            }
        }
    }
    job.createdAt = r.time(QLatin1StringView("createdAt"), false);
    job.startedAt = r.time(QLatin1StringView("startedAt"), true);
    job.finishedAt = r.time(QLatin1StringView("finishedAt"), true);
    job.updatedAt = r.time(QLatin1StringView("updatedAt"), false);

    if (r.failed())
        return failure(r.error());
    return {std::move(job), QString()};
}

} // namespace clipdeck::jobs
