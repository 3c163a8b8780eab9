#include "media/operation.h"

#include <QRegularExpression>

#include <cstring>

namespace clipdeck::media {

std::optional<qint64> parsePixelCount(const QString &text)
{
    static const QRegularExpression size(QStringLiteral("^\\s*(\\d{1,6})\\s*[xX×]\\s*(\\d{1,6})\\s*$"));
    if (const auto m = size.match(text); m.hasMatch()) {
        const qint64 pixels = m.captured(1).toLongLong() * m.captured(2).toLongLong();
        return pixels > 0 ? std::optional<qint64>(pixels) : std::nullopt;
    }
    bool ok = false;
    const qint64 n = text.trimmed().toLongLong(&ok);
    return ok && n > 0 && n <= qint64(1) << 40 ? std::optional<qint64>(n) : std::nullopt;
}

std::optional<qint64> parseByteCount(const QString &text)
{
    static const struct
    {
        const char *suffix;
        qint64 factor;
    } suffixes[] = {{"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30},
                    {"K", 1000},        {"M", 1000000},     {"G", 1000000000}};
    QString t = text.trimmed();
    qint64 factor = 1;
    for (const auto &s : suffixes) {
        if (t.endsWith(QLatin1StringView(s.suffix))) {
            factor = s.factor;
            t.chop(qsizetype(std::strlen(s.suffix)));
            break;
        }
    }
    bool ok = false;
    const qint64 n = t.trimmed().toLongLong(&ok);
    if (!ok || n < 0 || n > (qint64(1) << 50) / factor)
        return std::nullopt;
    return n * factor;
}

} // namespace clipdeck::media
