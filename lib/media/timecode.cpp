#include "media/timecode.h"

#include <QVarLengthArray>

#include <cstdlib>
#include <limits>

namespace clipdeck::media {

namespace {

// Labels skipped at each dropped minute: 2 at 29.97, 4 at 59.94.
int droppedPerMinute(TimecodeRate rate)
{
    return rate.dropFrame ? rate.framesPerSecond / 15 : 0;
}

} // namespace

bool TimecodeRate::isValid() const
{
    if (framesPerSecond <= 0 || framesPerSecond > 1000)
        return false;
    return !dropFrame || framesPerSecond == 30 || framesPerSecond == 60;
}

TimecodeRate TimecodeRate::forFrameRate(qint64 num, qint64 den, bool dropFrameAtNtscRates)
{
    if (num <= 0 || den <= 0)
        return {};
    // Round half up in integers: 24000/1001 -> 24, 30000/1001 -> 30.
    const qint64 nominal = (2 * num + den) / (2 * den);
    if (nominal <= 0 || nominal > 1000)
        return {};
    TimecodeRate rate;
    rate.framesPerSecond = int(nominal);
    // NTSC rates are nominal * 1000/1001, stored as such or rounded (2997/100): within 1e-4.
    const qint64 exact = nominal * 1000 * den;
    const bool ntsc = std::abs(num * 1001 - exact) * 10000 <= exact;
    rate.dropFrame = dropFrameAtNtscRates && ntsc && (nominal == 30 || nominal == 60);
    return rate;
}

QString Timecode::toString() const
{
    const QChar last = dropFrame ? u';' : u':';
    return QStringLiteral("%1:%2:%3%4%5")
        .arg(hours, 2, 10, QLatin1Char('0'))
        .arg(minutes, 2, 10, QLatin1Char('0'))
        .arg(seconds, 2, 10, QLatin1Char('0'))
        .arg(last)
        .arg(frames, 2, 10, QLatin1Char('0'));
}

std::optional<Timecode> timecodeOfFrame(qint64 frame, TimecodeRate rate)
{
    if (frame < 0 || !rate.isValid())
        return std::nullopt;
    const qint64 fps = rate.framesPerSecond;
    qint64 label = frame; // the frame's position counting every label, dropped ones included
    if (rate.dropFrame) {
        const qint64 drop = droppedPerMinute(rate);
        const qint64 perMinute = fps * 60 - drop;          // 1798 at 29.97
        const qint64 perTenMinutes = fps * 600 - 9 * drop; // 17982 at 29.97
        const qint64 tens = frame / perTenMinutes;
        const qint64 rest = frame % perTenMinutes;
        // The first minute of each ten keeps all its labels; each later one skips `drop`.
        label += 9 * drop * tens;
        if (rest > drop)
            label += drop * ((rest - drop) / perMinute);
    }
    Timecode tc;
    tc.dropFrame = rate.dropFrame;
    tc.frames = int(label % fps);
    const qint64 totalSeconds = label / fps;
    tc.seconds = int(totalSeconds % 60);
    tc.minutes = int((totalSeconds / 60) % 60);
    const qint64 hours = totalSeconds / 3600;
    if (hours > std::numeric_limits<int>::max())
        return std::nullopt;
    tc.hours = int(hours);
    return tc;
}

std::optional<qint64> frameOfTimecode(const Timecode &tc, TimecodeRate rate)
{
    if (!rate.isValid())
        return std::nullopt;
    if (tc.hours < 0 || tc.minutes < 0 || tc.minutes > 59 || tc.seconds < 0 || tc.seconds > 59 || tc.frames < 0
        || tc.frames >= rate.framesPerSecond)
        return std::nullopt;
    const qint64 drop = droppedPerMinute(rate);
    if (drop > 0 && tc.seconds == 0 && tc.frames < drop && tc.minutes % 10 != 0)
        return std::nullopt; // a label drop-frame skips
    const qint64 totalMinutes = qint64(tc.hours) * 60 + tc.minutes;
    const qint64 labels = (totalMinutes * 60 + tc.seconds) * rate.framesPerSecond + tc.frames;
    return labels - drop * (totalMinutes - totalMinutes / 10);
}

QString formatTimecode(qint64 frame, TimecodeRate rate)
{
    const auto tc = timecodeOfFrame(frame, rate);
    return tc ? tc->toString() : QString();
}

std::optional<qint64> parseTimecode(QStringView text, TimecodeRate rate)
{
    text = text.trimmed();
    if (text.isEmpty())
        return std::nullopt;
    QVarLengthArray<int, 4> fields;
    qint64 value = 0;
    int digits = 0;
    for (qsizetype i = 0; i <= text.size(); ++i) {
        const QChar c = i < text.size() ? text[i] : QChar(u':');
        if (c >= u'0' && c <= u'9') {
            // Hours run to several digits; range checks catch the other fields.
            if (++digits > 6)
                return std::nullopt;
            value = value * 10 + (c.unicode() - u'0');
            continue;
        }
        if (c != u':' && c != u';' && c != u'.' && c != u',')
            return std::nullopt;
        if (digits == 0 || fields.size() == 4)
            return std::nullopt;
        fields.append(int(value));
        value = 0;
        digits = 0;
    }
    // Right-aligned: the last field is frames, then seconds, minutes, hours.
    Timecode tc;
    tc.dropFrame = rate.dropFrame;
    int *field[4] = {&tc.frames, &tc.seconds, &tc.minutes, &tc.hours};
    for (qsizetype k = 0; k < fields.size(); ++k)
        *field[k] = fields[fields.size() - 1 - k];
    return frameOfTimecode(tc, rate);
}

} // namespace clipdeck::media
