#include "media/params_p.h"

#include <QStringList>

#include <cmath>

namespace clipdeck::media {

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
    bool ok = false;
    const double v = it->typeId() == QMetaType::QString ? it->toString().trimmed().toDouble(&ok) : it->toDouble(&ok);
    if (!ok || !std::isfinite(v)) {
        fail(key, QStringLiteral("must be a number, not '%1'").arg(it->toString()));
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
    const QString s = it->toString().trimmed().toLower();
    if (s == u"true" || s == u"1" || s == u"yes" || s == u"on")
        return true;
    if (s == u"false" || s == u"0" || s == u"no" || s == u"off")
        return false;
    fail(key, QStringLiteral("must be true or false, not '%1'").arg(it->toString()));
    return fallback;
}

QString ParamReader::string(const QString &key, const QString &fallback, const QStringList &allowed)
{
    const auto it = m_params.constFind(key);
    if (it == m_params.cend() || it->isNull())
        return fallback;
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
    const auto t = parseTime(it->toString());
    if (!t)
        fail(key, QStringLiteral("must be a time like 12.5, 01:02.5 or 00:01:02.500, not '%1'").arg(it->toString()));
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

} // namespace clipdeck::media
