#include "media/ffmpeg_p.h"

#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cmath>
#include <limits>
#include <mutex>

namespace clipdeck::media::ff {

QString averrorText(int averror)
{
    char buffer[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(averror, buffer, sizeof buffer);
    return QString::fromUtf8(buffer);
}

void initialise()
{
    static std::once_flag once;
    // Operations turn every failure into an Error with a message of their own; FFmpeg's lines
    // on stderr ("moov atom not found") would only be noise in the CLI and logs of the server.
    // CLIPDECK_FFMPEG_LOGLEVEL (e.g. 32 for info, 48 for debug) brings them back when debugging.
    std::call_once(once, [] {
        bool ok = false;
        const int level = qEnvironmentVariableIntValue("CLIPDECK_FFMPEG_LOGLEVEL", &ok);
        av_log_set_level(ok ? level : AV_LOG_QUIET);
    });
}

// The container format the first bytes of the file announce, if FFmpeg is confident of one.
// Tells "damaged media" from "not media at all" when opening fails.
static const AVInputFormat *recognisedFormat(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return nullptr;
    QByteArray head = file.read(64 * 1024);
    const int size = int(head.size());
    head.append(QByteArray(AVPROBE_PADDING_SIZE, '\0'));
    AVProbeData probe{};
    const QByteArray name = QFile::encodeName(path);
    probe.filename = name.constData();
    probe.buf = reinterpret_cast<unsigned char *>(head.data());
    probe.buf_size = size;
    int score = 0;
    const AVInputFormat *format = av_probe_input_format2(&probe, 1, &score);
    return score > AVPROBE_SCORE_MAX / 4 ? format : nullptr;
}

Expected<InputContext> openInput(const QString &path)
{
    initialise();
    const QFileInfo info(path);
    if (!info.exists())
        return Error{errors::FileNotFound, QStringLiteral("The file %1 does not exist.").arg(path)};
    if (!info.isFile() || !info.isReadable())
        return Error{errors::FileNotFound, QStringLiteral("The file %1 cannot be read.").arg(path)};
    if (info.size() == 0)
        return Error{errors::EmptyFile, QStringLiteral("The file %1 is empty (0 bytes).").arg(info.fileName())};

    AVFormatContext *raw = nullptr;
    const QByteArray encoded = QFile::encodeName(path);
    int rc = avformat_open_input(&raw, encoded.constData(), nullptr, nullptr);
    if (rc < 0) {
        if (const AVInputFormat *looksLike = recognisedFormat(path)) {
            return Error{errors::CorruptStream,
                         QStringLiteral("%1 looks like %2 but cannot be opened: it is truncated or damaged (%3).")
                             .arg(info.fileName(),
                                  QString::fromUtf8(looksLike->long_name ? looksLike->long_name : looksLike->name),
                                  averrorText(rc))};
        }
        if (rc == AVERROR(ENOENT))
            return Error{errors::FileNotFound, QStringLiteral("The file %1 does not exist.").arg(path)};
        if (rc == AVERROR(EACCES))
            return Error{errors::FileNotFound, QStringLiteral("The file %1 cannot be read.").arg(path)};
        return Error{errors::NotMedia, QStringLiteral("%1 is not a video or audio file FFmpeg can read (%2).")
                                           .arg(info.fileName(), averrorText(rc))};
    }
    InputContext input(raw);
    rc = avformat_find_stream_info(input.get(), nullptr);
    if (rc < 0) {
        return Error{errors::CorruptStream,
                     QStringLiteral("The streams in %1 cannot be read; the file may be damaged (%2).")
                         .arg(info.fileName(), averrorText(rc))};
    }
    if (input->nb_streams == 0)
        return Error{errors::NotMedia, QStringLiteral("%1 contains no audio or video.").arg(info.fileName())};
    return input;
}

int bestStream(AVFormatContext *input, AVMediaType type)
{
    const int index = av_find_best_stream(input, type, -1, -1, nullptr, 0);
    if (index < 0)
        return -1;
    // Cover art is a video stream of one picture: never the clip's video.
    if (type == AVMEDIA_TYPE_VIDEO && (input->streams[index]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
        for (unsigned i = 0; i < input->nb_streams; ++i) {
            const AVStream *s = input->streams[i];
            if (s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(s->disposition & AV_DISPOSITION_ATTACHED_PIC))
                return int(i);
        }
        return -1;
    }
    return index;
}

Expected<CodecContext> openDecoder(const AVStream *stream, int threadType, int threadCount)
{
    const AVCodecParameters *par = stream->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec) {
        return Error{errors::UnsupportedCodec, QStringLiteral("There is no decoder for the %1 codec.")
                                                   .arg(QString::fromUtf8(avcodec_get_name(par->codec_id)))};
    }
    if (par->codec_type == AVMEDIA_TYPE_VIDEO
        && (par->width <= 0 || par->height <= 0 || par->width > 16384 || par->height > 16384)) {
        return Error{errors::InvalidDimensions,
                     QStringLiteral("The video size %1×%2 is not usable.").arg(par->width).arg(par->height)};
    }
    CodecContext ctx(avcodec_alloc_context3(codec));
    if (!ctx)
        return Error{errors::Internal, QStringLiteral("Out of memory opening a decoder.")};
    int rc = avcodec_parameters_to_context(ctx.get(), par);
    if (rc < 0)
        return Error{errors::CorruptStream, QStringLiteral("Bad codec parameters (%1).").arg(averrorText(rc))};
    ctx->pkt_timebase = stream->time_base;
    ctx->thread_count = threadCount;
    ctx->thread_type = threadType;
    rc = avcodec_open2(ctx.get(), codec, nullptr);
    if (rc < 0) {
        return Error{errors::UnsupportedCodec, QStringLiteral("The %1 decoder cannot open this stream (%2).")
                                                   .arg(QString::fromUtf8(codec->name), averrorText(rc))};
    }
    return ctx;
}

Error writeError(int averror, const QString &what)
{
    if (averror == AVERROR(ENOSPC) || averror == AVERROR(EDQUOT))
        return Error{errors::DiskFull, QStringLiteral("The disk is full while writing %1.").arg(what)};
    if (averror == AVERROR(EACCES) || averror == AVERROR(EROFS) || averror == AVERROR(EPERM)
        || averror == AVERROR(ENOENT) || averror == AVERROR(ENOTDIR)) {
        return Error{errors::OutputUnwritable,
                     QStringLiteral("%1 cannot be written (%2).").arg(what, averrorText(averror))};
    }
    return Error{errors::OutputUnwritable, QStringLiteral("Writing %1 failed (%2).").arg(what, averrorText(averror))};
}

Error decodeError(int averror, const QString &what)
{
    return Error{
        errors::CorruptStream,
        QStringLiteral("%1 could not be decoded; the file may be damaged (%2).").arg(what, averrorText(averror))};
}

double toSeconds(int64_t ts, AVRational timeBase)
{
    if (ts == AV_NOPTS_VALUE)
        return std::numeric_limits<double>::quiet_NaN();
    return double(ts) * av_q2d(timeBase);
}

double durationSeconds(const AVFormatContext *input)
{
    if (input->duration > 0)
        return double(input->duration) / AV_TIME_BASE;
    double longest = 0;
    for (unsigned i = 0; i < input->nb_streams; ++i) {
        const AVStream *s = input->streams[i];
        if (s->duration > 0)
            longest = std::max(longest, toSeconds(s->duration, s->time_base));
    }
    return longest;
}

} // namespace clipdeck::media::ff
