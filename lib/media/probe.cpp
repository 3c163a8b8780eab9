#include "media/probe.h"

#include "media/ffmpeg_p.h"
#include "media/outputfile_p.h"
#include "media/params_p.h"
#include "media/probe_p.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
}

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>

namespace clipdeck::media {

int displayRotation(const AVStream *stream)
{
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 29, 100)
    // FFmpeg 6.1 moved stream side data into codecpar (and later removed the old call).
    const AVPacketSideData *sd = av_packet_side_data_get(
        stream->codecpar->coded_side_data, stream->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
    const auto *matrix = sd && sd->size >= 9 * 4 ? reinterpret_cast<const int32_t *>(sd->data) : nullptr;
#else
    size_t size = 0;
    const auto *matrix =
        reinterpret_cast<const int32_t *>(av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size));
    if (size < 9 * 4)
        matrix = nullptr;
#endif
    if (!matrix)
        return 0;
    const double degrees = av_display_rotation_get(matrix);
    if (std::isnan(degrees))
        return 0;
    // Round to the nearest quarter turn: matrices hold fixed-point approximations.
    int quarter = int(std::lround(degrees / 90.0)) % 4;
    if (quarter < 0)
        quarter += 4;
    return quarter * 90;
}

namespace {

QString mediaTypeName(AVMediaType type)
{
    switch (type) {
    case AVMEDIA_TYPE_VIDEO: return QStringLiteral("video");
    case AVMEDIA_TYPE_AUDIO: return QStringLiteral("audio");
    case AVMEDIA_TYPE_SUBTITLE: return QStringLiteral("subtitle");
    case AVMEDIA_TYPE_DATA: return QStringLiteral("data");
    case AVMEDIA_TYPE_ATTACHMENT: return QStringLiteral("attachment");
    default: return QStringLiteral("unknown");
    }
}

QString fieldOrderName(AVFieldOrder order)
{
    switch (order) {
    case AV_FIELD_PROGRESSIVE: return QStringLiteral("progressive");
    case AV_FIELD_TT: return QStringLiteral("tt");
    case AV_FIELD_BB: return QStringLiteral("bb");
    case AV_FIELD_TB: return QStringLiteral("tb");
    case AV_FIELD_BT: return QStringLiteral("bt");
    default: return QStringLiteral("unknown");
    }
}

QString ratio(int num, int den)
{
    return QStringLiteral("%1:%2").arg(num).arg(den);
}

QString utf8(const char *s)
{
    return s ? QString::fromUtf8(s) : QString();
}

StreamInfo describe(const AVStream *s)
{
    const AVCodecParameters *par = s->codecpar;
    StreamInfo info;
    info.index = s->index;
    info.type = mediaTypeName(par->codec_type);
    info.codec = utf8(avcodec_get_name(par->codec_id));
    if (const AVCodecDescriptor *d = avcodec_descriptor_get(par->codec_id))
        info.codecLongName = utf8(d->long_name);
    info.profile = utf8(avcodec_profile_name(par->codec_id, par->profile));
    info.bitRate = par->bit_rate > 0 ? par->bit_rate : 0;
    if (const AVDictionaryEntry *lang = av_dict_get(s->metadata, "language", nullptr, 0))
        info.language = utf8(lang->value);
    info.isDefault = s->disposition & AV_DISPOSITION_DEFAULT;
    info.attachedPicture = s->disposition & AV_DISPOSITION_ATTACHED_PIC;
    if (s->duration > 0 && s->duration != AV_NOPTS_VALUE)
        info.durationSeconds = ff::toSeconds(s->duration, s->time_base);

    if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
        info.width = par->width;
        info.height = par->height;
        AVRational sar = s->sample_aspect_ratio.num > 0 ? s->sample_aspect_ratio : par->sample_aspect_ratio;
        if (sar.num <= 0 || sar.den <= 0)
            sar = AVRational{1, 1};
        info.sampleAspectRatio = ratio(sar.num, sar.den);
        if (par->width > 0 && par->height > 0) {
            int num = 0, den = 0;
            av_reduce(&num, &den, int64_t(par->width) * sar.num, int64_t(par->height) * sar.den, 1024 * 1024);
            info.displayAspectRatio = ratio(num, den);
        }
        // avg_frame_rate is what the stream averages; r_frame_rate the base rate FFmpeg guessed
        // (higher for variable-rate clips). Prefer the average, as players do.
        AVRational rate = s->avg_frame_rate.num > 0 && s->avg_frame_rate.den > 0 ? s->avg_frame_rate : s->r_frame_rate;
        if (rate.num > 0 && rate.den > 0) {
            info.frameRate = av_q2d(rate);
            info.frameRateExact = QStringLiteral("%1/%2").arg(rate.num).arg(rate.den);
        }
        info.pixelFormat = utf8(av_get_pix_fmt_name(AVPixelFormat(par->format)));
        info.rotation = displayRotation(s);
        info.fieldOrder = fieldOrderName(par->field_order);
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
        info.sampleRate = par->sample_rate;
        info.channels = par->ch_layout.nb_channels;
        char layout[128] = {};
        if (par->ch_layout.nb_channels > 0 && av_channel_layout_describe(&par->ch_layout, layout, sizeof layout) > 0)
            info.channelLayout = QString::fromUtf8(layout);
        info.sampleFormat = utf8(av_get_sample_fmt_name(AVSampleFormat(par->format)));
    }
    return info;
}

} // namespace

std::variant<MediaInfo, Error> probe(const QString &path, const Limits &limits)
{
    // openInput reads the headers and runs avformat_find_stream_info, which decodes at most a
    // few frames per stream to learn pixel and sample formats: bounded work, not a full decode.
    auto opened = ff::openInput(path, limits);
    if (auto *e = ff::errorOf(opened))
        return *e;
    const AVFormatContext *fmt = std::get<ff::InputContext>(opened).get();

    MediaInfo info;
    info.path = QFileInfo(path).absoluteFilePath();
    info.formatName = utf8(fmt->iformat->name);
    info.formatLongName = utf8(fmt->iformat->long_name);
    info.durationSeconds = ff::durationSeconds(fmt);
    info.sizeBytes = QFileInfo(path).size();
    info.bitRate = fmt->bit_rate > 0 ? fmt->bit_rate : 0;
    if (info.bitRate == 0 && info.durationSeconds > 0)
        info.bitRate = qint64(std::llround(info.sizeBytes * 8 / info.durationSeconds));
    for (unsigned i = 0; i < fmt->nb_streams; ++i)
        info.streams.append(describe(fmt->streams[i]));
    info.videoStream = ff::bestStream(const_cast<AVFormatContext *>(fmt), AVMEDIA_TYPE_VIDEO);
    info.audioStream = ff::bestStream(const_cast<AVFormatContext *>(fmt), AVMEDIA_TYPE_AUDIO);
    return info;
}

QJsonObject toJson(const MediaInfo &info)
{
    QJsonArray streams;
    for (const StreamInfo &s : info.streams) {
        QJsonObject o{
            {QStringLiteral("index"), s.index},
            {QStringLiteral("type"), s.type},
            {QStringLiteral("codec"), s.codec},
            {QStringLiteral("codecLongName"), s.codecLongName},
            {QStringLiteral("bitRate"), s.bitRate},
            {QStringLiteral("default"), s.isDefault},
            {QStringLiteral("attachedPicture"), s.attachedPicture},
        };
        if (!s.profile.isEmpty())
            o.insert(QStringLiteral("profile"), s.profile);
        if (!s.language.isEmpty())
            o.insert(QStringLiteral("language"), s.language);
        if (s.durationSeconds > 0)
            o.insert(QStringLiteral("durationSeconds"), s.durationSeconds);
        if (s.type == u"video") {
            o.insert(QStringLiteral("width"), s.width);
            o.insert(QStringLiteral("height"), s.height);
            o.insert(QStringLiteral("sampleAspectRatio"), s.sampleAspectRatio);
            o.insert(QStringLiteral("displayAspectRatio"), s.displayAspectRatio);
            o.insert(QStringLiteral("frameRate"), s.frameRate);
            o.insert(QStringLiteral("frameRateExact"), s.frameRateExact);
            o.insert(QStringLiteral("pixelFormat"), s.pixelFormat);
            o.insert(QStringLiteral("rotation"), s.rotation);
            o.insert(QStringLiteral("fieldOrder"), s.fieldOrder);
        } else if (s.type == u"audio") {
            o.insert(QStringLiteral("sampleRate"), s.sampleRate);
            o.insert(QStringLiteral("channels"), s.channels);
            o.insert(QStringLiteral("channelLayout"), s.channelLayout);
            o.insert(QStringLiteral("sampleFormat"), s.sampleFormat);
        }
        streams.append(o);
    }
    return QJsonObject{
        {QStringLiteral("path"), info.path},
        {QStringLiteral("format"), info.formatName},
        {QStringLiteral("formatLongName"), info.formatLongName},
        {QStringLiteral("durationSeconds"), info.durationSeconds},
        {QStringLiteral("bitRate"), info.bitRate},
        {QStringLiteral("sizeBytes"), info.sizeBytes},
        {QStringLiteral("videoStream"), info.videoStream},
        {QStringLiteral("audioStream"), info.audioStream},
        {QStringLiteral("streams"), streams},
    };
}

// Writes `bytes` to `path` with plain system calls, returning 0 or the errno of the failure:

std::optional<Error> validateProbe(const QVariantMap &params)
{
    ParamReader reader(params);
    reader.allowOnly({});
    return reader.error();
}

Result runProbe(const Request &request, Control &control)
{
    if (auto e = validateProbe(request.params))
        return Result{e, {}};
    if (!control.checkpoint(Progress{0, QStringLiteral("analysing"), 0, 0}))
        return Result{Error{errors::Canceled, QStringLiteral("The probe was canceled.")}, {}};
    auto probed = probe(request.inputPath, request.limits);
    if (auto *e = std::get_if<Error>(&probed))
        return Result{*e, {}};
    const MediaInfo &info = std::get<MediaInfo>(probed);

    auto reserved = OutputFile::reserve(request.outputDir, request.baseName, QStringLiteral(".probe.json"));
    if (auto *e = ff::errorOf(reserved))
        return Result{*e, {}};
    OutputFile &file = std::get<OutputFile>(reserved);
    // The file is a job output, made to be downloaded and shared: it names the input by its file
    // name, not by a path that only means something on the machine that ran the job (a server's
    // media folder, a user's home).
    QJsonObject described = toJson(info);
    described.remove(QStringLiteral("path"));
    described.insert(QStringLiteral("file"), QFileInfo(info.path).fileName());
    const QByteArray json = QJsonDocument(described).toJson(QJsonDocument::Indented);
    if (auto e = writeWholeFile(file.temporaryPath(), json))
        return Result{e, {}};
    if (!control.checkpoint(Progress{1, QStringLiteral("finalising"), 0, info.durationSeconds}))
        return Result{Error{errors::Canceled, QStringLiteral("The probe was canceled.")}, {}};
    if (auto e = file.commit())
        return Result{e, {}};
    return Result{std::nullopt, {file.output(QStringLiteral("probe"), QStringLiteral("application/json"))}};
}

} // namespace clipdeck::media
