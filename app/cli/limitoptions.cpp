#include "command.h"

#include "media/operation.h"

#include <QCommandLineParser>

using namespace clipdeck;

QList<QCommandLineOption> limitOptions()
{
    const media::Limits defaults;
    return {
        {QString(media::limitOption::MaxFramePixels).mid(2),
         QStringLiteral("Largest picture to decode, in pixels or WxH (default %1, 8192x4320).")
             .arg(defaults.maxFramePixels),
         QStringLiteral("N|WxH")},
        {QString(media::limitOption::MaxStreams).mid(2),
         QStringLiteral("Streams a media file may have (default %1).").arg(defaults.maxStreams), QStringLiteral("N")},
        {QString(media::limitOption::MemoryBudget).mid(2),
         QStringLiteral("Memory the job's decoding may hold (default 2GiB; suffixes K, M, G, KiB, MiB, GiB)."),
         QStringLiteral("BYTES")},
    };
}

bool readLimits(const QCommandLineParser &parser, media::Limits *limits, QString *error)
{
    const QString pixelsName = QString(media::limitOption::MaxFramePixels).mid(2);
    if (parser.isSet(pixelsName)) {
        const auto pixels = media::parsePixelCount(parser.value(pixelsName));
        if (!pixels) {
            *error = QStringLiteral("--%1 wants a number of pixels or WIDTHxHEIGHT, not '%2'")
                         .arg(pixelsName, parser.value(pixelsName));
            return false;
        }
        limits->maxFramePixels = *pixels;
    }
    const QString streamsName = QString(media::limitOption::MaxStreams).mid(2);
    if (parser.isSet(streamsName)) {
        bool ok = false;
        const int n = parser.value(streamsName).toInt(&ok);
        if (!ok || n < 1) {
            *error =
                QStringLiteral("--%1 wants a whole number >= 1, not '%2'").arg(streamsName, parser.value(streamsName));
            return false;
        }
        limits->maxStreams = n;
    }
    const QString memoryName = QString(media::limitOption::MemoryBudget).mid(2);
    if (parser.isSet(memoryName)) {
        const auto bytes = media::parseByteCount(parser.value(memoryName));
        if (!bytes || *bytes < (qint64(1) << 20)) {
            *error = QStringLiteral("--%1 wants a byte count of at least 1MiB (e.g. 4GiB), not '%2'")
                         .arg(memoryName, parser.value(memoryName));
            return false;
        }
        limits->memoryBudgetBytes = *bytes;
    }
    return true;
}
