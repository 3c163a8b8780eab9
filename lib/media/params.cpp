#include "media/params_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>
#include <QStringList>

#include <cmath>

namespace clipdeck::media {

namespace {

bool isNumber(const QVariant &v)
{
    switch (v.typeId()) {
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
    case QMetaType::Double:
    case QMetaType::Float: return true;
    default: return false;
    }
}

// What a value of the wrong type is, for the message: "the text \"8\"", "true", "a list".
QString describe(const QVariant &v)
{
    switch (v.typeId()) {
    case QMetaType::QString: return QStringLiteral("the text \"%1\"").arg(v.toString().left(40));
    case QMetaType::Bool: return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QMetaType::QVariantList:
    case QMetaType::QStringList: return QStringLiteral("a list");
    case QMetaType::QVariantMap:
    case QMetaType::QVariantHash: return QStringLiteral("an object");
    default:
        return isNumber(v) ? QStringLiteral("the number %1").arg(v.toDouble())
                           : QStringLiteral("a %1").arg(QString::fromLatin1(v.typeName()));
    }
}

} // namespace

void ParamReader::fail(const QString &key, const QString &why)
{
    if (!m_error)
        m_error = Error{errors::InvalidParams, QStringLiteral("Parameter '%1' %2.").arg(key, why)};
}

double ParamReader::number(const QString &key, double fallback, double min, double max)
{
    const auto it = m_params.constFind(key);
    if (it == m_params.cend() || it->isNull())
        return fallback;
    if (!isNumber(*it)) {
        fail(key, QStringLiteral("must be a number, not %1").arg(describe(*it)));
        return fallback;
    }
    const double v = it->toDouble();
    if (!std::isfinite(v)) {
        fail(key, QStringLiteral("must be a finite number"));
        return fallback;
    }
    if (v < min || v > max) {
        fail(key, QStringLiteral("must be between %1 and %2, not %3").arg(min).arg(max).arg(v));
        return fallback;
    }
    return v;
}

int ParamReader::integer(const QString &key, int fallback, int min, int max)
{
    const double v = number(key, fallback, min, max);
    if (v != std::floor(v)) {
        fail(key, QStringLiteral("must be a whole number, not %1").arg(v));
        return fallback;
    }
    return int(v);
}

bool ParamReader::boolean(const QString &key, bool fallback)
{
    const auto it = m_params.constFind(key);
    if (it == m_params.cend() || it->isNull())
        return fallback;
    if (it->typeId() == QMetaType::Bool)
        return it->toBool();
    fail(key, QStringLiteral("must be true or false, not %1").arg(describe(*it)));
    return fallback;
}

QString ParamReader::string(const QString &key, const QString &fallback, const QStringList &allowed)
{
    const auto it = m_params.constFind(key);
    if (it == m_params.cend() || it->isNull())
        return fallback;
    if (it->typeId() != QMetaType::QString) {
        fail(key, QStringLiteral("must be a string, not %1").arg(describe(*it)));
        return fallback;
    }
    const QString s = it->toString();
    if (!allowed.isEmpty() && !allowed.contains(s)) {
        fail(key, QStringLiteral("must be one of %1, not '%2'").arg(allowed.join(QStringLiteral(", ")), s));
        return fallback;
    }
    return s;
}

std::optional<double> ParamReader::time(const QString &key)
{
    const auto it = m_params.constFind(key);
    if (it == m_params.cend() || it->isNull())
        return std::nullopt;
    std::optional<double> t;
    if (isNumber(*it)) {
        const double v = it->toDouble();
        if (std::isfinite(v) && v >= 0)
            t = v;
    } else if (it->typeId() == QMetaType::QString) {
        t = parseTime(it->toString());
    }
    if (!t) {
        fail(key, QStringLiteral("must be a time: seconds (12.5) or a string like \"12.5\", \"01:02.5\" or "
                                 "\"00:01:02.500\", not %1")
                      .arg(describe(*it)));
    }
    return t;
}

std::optional<double> ParamReader::parseTime(const QString &text)
{
    const QStringList parts = text.trimmed().split(u':');
    if (parts.isEmpty() || parts.size() > 3)
        return std::nullopt;
    double total = 0;
    for (int i = 0; i < parts.size(); ++i) {
        bool ok = false;
        const double v = parts[i].toDouble(&ok);
        const bool last = i == parts.size() - 1;
        // Only the last field may have a fraction; minutes and seconds fields stay below 60.
        if (!ok || v < 0 || !std::isfinite(v) || (!last && v != std::floor(v)) || (i > 0 && v >= 60))
            return std::nullopt;
        total = total * 60 + v;
    }
    return total;
}

void ParamReader::allowOnly(const QStringList &known)
{
    for (auto it = m_params.cbegin(); it != m_params.cend(); ++it) {
        if (!known.contains(it.key())) {
            fail(it.key(), QStringLiteral("is not known here (known: %1)").arg(known.join(QStringLiteral(", "))));
            return;
        }
    }
}

QVariant paramFromText(const QString &text)
{
    // One JSON value in an array: QJsonDocument takes no bare scalars.
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson('[' + text.toUtf8() + ']', &error);
    if (error.error == QJsonParseError::NoError && doc.isArray() && doc.array().size() == 1) {
        const QJsonValue v = doc.array().first();
        if (v.isDouble() || v.isBool() || v.isString())
            return v.toVariant();
    }
    return text;
}

} // namespace clipdeck::media
