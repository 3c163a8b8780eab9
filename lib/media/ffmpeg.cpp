#include "media/ffmpeg_p.h"

extern "C" {
#include <libavutil/cpu.h>
#include <libavutil/pixdesc.h>
}

#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

namespace {

// H.264 and HEVC levels cap the decoded picture buffer at MaxDpbMbs macroblocks (696320 at
// levels 6.x): 16 reference pictures of small sizes, 6 at 8K.
constexpr qint64 MaxDpbPixels = qint64(696320) * 256;

QString sizeText(qint64 bytes)
{
    if (bytes >= qint64(1) << 30)
        return QStringLiteral("%1 GiB").arg(double(bytes) / double(qint64(1) << 30), 0, 'f', 1);
    return QStringLiteral("%1 MiB").arg((bytes + (1 << 20) - 1) >> 20);
}

Error pictureTooLarge(const QString &subject, int width, int height, const Limits &limits)
{
    return Error{errors::MediaTooLarge,
                 QStringLiteral("%1 has pictures of %2×%3 (%4 pixels); the largest allowed is %5 pixels "
                                "(set with %6).")
                     .arg(subject)
                     .arg(width)
                     .arg(height)
                     .arg(qint64(width) * height)
                     .arg(limits.maxFramePixels)
                     .arg(limitOption::MaxFramePixels)};
}

// Streams and picture sizes as far as they are known: after the header, then after the stream
// info (which may have found more streams, up to one past the limit, and learnt sizes).
std::optional<Error> checkInputLimits(const AVFormatContext *input, const Limits &limits, const QString &name)
{
    if (input->nb_streams > unsigned(std::max(0, limits.maxStreams))) {
        // One past the limit is where FFmpeg was told to stop counting: there may be more.
        const bool capped =
            qint64(input->nb_streams) == qint64(limits.maxStreams) + 1 && input->max_streams == int(input->nb_streams);
        return Error{errors::TooManyStreams,
                     QStringLiteral("%1 has %2 streams; at most %3 are read (set with %4).")
                         .arg(name, capped ? QStringLiteral("more than %1").arg(limits.maxStreams)
                                           : QString::number(input->nb_streams))
                         .arg(limits.maxStreams)
                         .arg(limitOption::MaxStreams)};
    }
    for (unsigned i = 0; i < input->nb_streams; ++i) {
        const AVCodecParameters *par = input->streams[i]->codecpar;
        if (par->codec_type == AVMEDIA_TYPE_VIDEO && par->width > 0 && par->height > 0
            && qint64(par->width) * par->height > limits.maxFramePixels)
            return pictureTooLarge(name, par->width, par->height, limits);
    }
    return std::nullopt;
}

// What the path is, before FFmpeg opens it: opening a FIFO blocks until a writer comes, and a
// device such as /dev/zero never ends. Every operation opens its input through here.
std::optional<Error> checkPath(const QString &path, qint64 *size)
{
    const QByteArray encoded = QFile::encodeName(path);
    struct stat st
    { };
    if (::stat(encoded.constData(), &st) != 0) {
        if (errno == EACCES)
            return Error{
                errors::PermissionDenied,
                QStringLiteral("The file %1 cannot be reached: a folder on its path may not be read.").arg(path)};
        return Error{errors::FileNotFound, QStringLiteral("The file %1 does not exist.").arg(path)};
    }
    if (S_ISDIR(st.st_mode))
        return Error{errors::IsDirectory, QStringLiteral("%1 is a folder, not a media file.").arg(path)};
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return Error{errors::IsPipe, QStringLiteral("%1 is a %2, not a file: media is read from regular files only.")
                                         .arg(path, S_ISFIFO(st.st_mode) ? QStringLiteral("named pipe (FIFO)")
                                                                         : QStringLiteral("socket"))};
    if (!S_ISREG(st.st_mode))
        return Error{errors::IsDevice,
                     QStringLiteral("%1 is a device, not a file: media is read from regular files only.").arg(path)};
    // Readable by this process as FFmpeg will open it: a real open (not access(), which asks for
    // the real rather than the effective ids). Non-blocking: should the path have become a FIFO
    // since the stat, the open returns at once.
    const int fd = ::open(encoded.constData(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return Error{errors::FileNotFound, QStringLiteral("The file %1 does not exist.").arg(path)};
        return Error{
            errors::PermissionDenied,
            QStringLiteral("The file %1 may not be read (%2).").arg(path, QString::fromLocal8Bit(strerror(errno)))};
    }
    ::close(fd);
    *size = qint64(st.st_size);
    return std::nullopt;
}

int automaticThreads()
{
    // libavcodec's own count for thread_count 0 (frame threads): cores + 1, at most 16.
    const int cpus = av_cpu_count();
    return cpus > 1 ? std::min(cpus + 1, 16) : 1;
}

} // namespace

Expected<InputContext> openInput(const QString &path, const Limits &limits)
{
    initialise();
    qint64 size = 0;
    if (auto e = checkPath(path, &size))
        return *e;
    const QFileInfo info(path);
    if (size == 0)
        return Error{errors::EmptyFile, QStringLiteral("The file %1 is empty (0 bytes).").arg(info.fileName())};

    AVFormatContext *raw = nullptr;
    const QByteArray encoded = QFile::encodeName(path);
    int rc = avformat_open_input(&raw, encoded.constData(), nullptr, nullptr);
    if (rc == AVERROR(ENOMEM)) {
        // What a header can make FFmpeg allocate has limits of its own (1000 streams, say).
        return Error{errors::MediaTooLarge,
                     QStringLiteral("%1 asks for more than FFmpeg allocates to read a header (more than 1000 "
                                    "streams, or tables too large).")
                         .arg(info.fileName())};
    }
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
            return Error{errors::PermissionDenied, QStringLiteral("The file %1 may not be read.").arg(path)};
        return Error{errors::NotMedia, QStringLiteral("%1 is not a video or audio file FFmpeg can read (%2).")
                                           .arg(info.fileName(), averrorText(rc))};
    }
    InputContext input(raw);
    // The header is read (FFmpeg's own cap of 1000 streams bounds it); nothing is decoded yet.
    if (auto e = checkInputLimits(input.get(), limits, info.fileName()))
        return *e;
    // Streams a demuxer finds only while reading (MPEG-TS) stop one past the limit.
    input->max_streams = int(std::clamp<qint64>(qint64(limits.maxStreams) + 1, 1, input->max_streams));
    // The stream info decodes a few pictures of each stream: one thread each, nothing over the
    // pixel limit (a refused picture leaves its size known from the parser, checked below).
    std::vector<AVDictionary *> options(input->nb_streams, nullptr);
    for (AVDictionary *&o : options) {
        av_dict_set_int(&o, "max_pixels", std::clamp<qint64>(limits.maxFramePixels, 1, INT_MAX), 0);
        av_dict_set(&o, "threads", "1", 0);
    }
    rc = avformat_find_stream_info(input.get(), options.empty() ? nullptr : options.data());
    for (AVDictionary *&o : options)
        av_dict_free(&o);
    if (auto e = checkInputLimits(input.get(), limits, info.fileName()))
        return *e;
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

qint64 pictureBytes(int width, int height, int pixelFormat)
{
    const qint64 pixels = qint64(std::max(0, width)) * std::max(0, height);
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(AVPixelFormat(pixelFormat));
    const int bits = desc ? av_get_padded_bits_per_pixel(desc) : 0;
    return bits > 0 ? pixels * bits / 8 : pixels * 4;
}

qint64 decoderBytes(const AVCodecParameters *par, int threads)
{
    const qint64 pixels = qint64(std::max(0, par->width)) * std::max(0, par->height);
    if (pixels == 0)
        return 0;
    const qint64 references = std::clamp<qint64>((MaxDpbPixels + pixels - 1) / pixels, 6, 16);
    return pictureBytes(par->width, par->height, par->format) * (references + threads);
}

std::optional<Error> checkBudget(qint64 bytes, const Limits &limits, const QString &what)
{
    if (bytes <= limits.memoryBudgetBytes)
        return std::nullopt;
    return Error{errors::MediaTooLarge, QStringLiteral("%1 needs about %2 of memory; a job may use %3 (set with %4).")
                                            .arg(what, sizeText(bytes), sizeText(limits.memoryBudgetBytes))
                                            .arg(limitOption::MemoryBudget)};
}

Expected<CodecContext> openDecoder(const AVStream *stream, const Limits &limits, const MemoryUse &use,
                                   const DecoderThreads &threading)
{
    const AVCodecParameters *par = stream->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec) {
        return Error{errors::UnsupportedCodec, QStringLiteral("There is no decoder for the %1 codec.")
                                                   .arg(QString::fromUtf8(avcodec_get_name(par->codec_id)))};
    }
    const bool video = par->codec_type == AVMEDIA_TYPE_VIDEO;
    if (video && (par->width <= 0 || par->height <= 0 || par->width > 16384 || par->height > 16384)) {
        return Error{errors::InvalidDimensions,
                     QStringLiteral("The video size %1×%2 is not usable.").arg(par->width).arg(par->height)};
    }
    int threads = std::max(0, threading.maxCount); // 0: FFmpeg's automatic count (audio decoders hardly use threads)
    if (video) {
        if (qint64(par->width) * par->height > limits.maxFramePixels)
            return pictureTooLarge(QStringLiteral("The video"), par->width, par->height, limits);
        // As many threads as fit the budget beside what is held anyway: the references, the
        // operation's own pictures and buffers.
        const qint64 picture = pictureBytes(par->width, par->height, par->format);
        const qint64 fixed = decoderBytes(par, 0) + picture * use.heldPictures + use.otherBytes;
        const qint64 room = limits.memoryBudgetBytes - fixed;
        const int wanted = threading.maxCount > 0 ? threading.maxCount : automaticThreads();
        threads = room >= picture ? int(std::min<qint64>(wanted, room / picture)) : 0;
        if (threads < 1) {
            const char *format = av_get_pix_fmt_name(AVPixelFormat(par->format));
            return *checkBudget(fixed + picture, limits,
                                QStringLiteral("Decoding the %1×%2 video (%3) even on one thread")
                                    .arg(par->width)
                                    .arg(par->height)
                                    .arg(QString::fromUtf8(format ? format : "unknown pixel format")));
        }
    }
    CodecContext ctx(avcodec_alloc_context3(codec));
    if (!ctx)
        return Error{errors::Internal, QStringLiteral("Out of memory opening a decoder.")};
    int rc = avcodec_parameters_to_context(ctx.get(), par);
    if (rc < 0)
        return Error{errors::CorruptStream, QStringLiteral("Bad codec parameters (%1).").arg(averrorText(rc))};
    ctx->pkt_timebase = stream->time_base;
    ctx->thread_count = threads;
    ctx->thread_type = threading.type;
    if (video)
        ctx->max_pixels = std::clamp<qint64>(limits.maxFramePixels, 1, INT_MAX);
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
