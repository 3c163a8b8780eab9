#include "command.h"
#include "progressline.h"

#include "media/probe.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTextStream>

using namespace clipdeck;

static QString streamLine(const media::StreamInfo &s)
{
    QString line = QStringLiteral("  #%1 %2  %3").arg(s.index).arg(s.type, -5).arg(s.codec);
    if (!s.profile.isEmpty())
        line += QStringLiteral(" (%1)").arg(s.profile);
    if (s.type == u"video") {
        line += QStringLiteral("  %1×%2").arg(s.width).arg(s.height);
        if (s.frameRate > 0)
            line += QStringLiteral("  %1 fps").arg(s.frameRate, 0, 'g', 5);
        if (!s.pixelFormat.isEmpty())
            line += QStringLiteral("  ") + s.pixelFormat;
        if (s.rotation != 0)
            line += QStringLiteral("  rotated %1°").arg(s.rotation);
        if (s.attachedPicture)
            line += QStringLiteral("  (cover art)");
    } else if (s.type == u"audio") {
        line += QStringLiteral("  %1 Hz  %2")
                    .arg(s.sampleRate)
                    .arg(s.channelLayout.isEmpty() ? QStringLiteral("%1 ch").arg(s.channels) : s.channelLayout);
    }
    if (s.bitRate > 0)
        line += QStringLiteral("  %1 kb/s").arg(s.bitRate / 1000);
    if (!s.language.isEmpty())
        line += QStringLiteral("  [%1]").arg(s.language);
    return line;
}

int runProbeCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Show what a media file contains."));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("json"), QStringLiteral("Print the probe as JSON.")});
    parser.addOptions(limitOptions());
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The media file."));
    if (!parser.parse(QStringList{QStringLiteral("clipdeck-cli probe")} + arguments)) {
        QTextStream(stderr) << "clipdeck-cli probe: " << parser.errorText() << '\n';
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    if (parser.positionalArguments().size() != 1) {
        QTextStream(stderr) << "clipdeck-cli probe: expected one FILE\n" << parser.helpText();
        return 2;
    }
    media::Limits limits;
    QString limitsError;
    if (!readLimits(parser, &limits, &limitsError)) {
        QTextStream(stderr) << "clipdeck-cli probe: " << limitsError << '\n';
        return 2;
    }
    const auto result = media::probe(parser.positionalArguments().first(), limits);
    if (const auto *error = std::get_if<media::Error>(&result)) {
        QTextStream(stderr) << "clipdeck-cli probe: " << error->message << " (" << error->code << ")\n";
        return 1;
    }
    const auto &info = std::get<media::MediaInfo>(result);
    QTextStream out(stdout);
    if (parser.isSet(QStringLiteral("json"))) {
        out << QJsonDocument(media::toJson(info)).toJson(QJsonDocument::Indented);
        return 0;
    }
    out << QFileInfo(info.path).fileName() << "  " << info.formatLongName << "  "
        << ProgressLine::formatDuration(info.durationSeconds) << " (" << QString::number(info.durationSeconds, 'f', 3)
        << " s)  " << ProgressLine::formatSize(info.sizeBytes);
    if (info.bitRate > 0)
        out << "  " << info.bitRate / 1000 << " kb/s";
    out << '\n';
    for (const auto &s : info.streams)
        out << streamLine(s) << '\n';
    return 0;
}
