#include "media/imagewriter_p.h"
#include "media/outputfile_p.h"

#include "media/videoreader_p.h"

#include <QFile>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace clipdeck::media {

ImageFormat imageFormatFromName(const QString &name)
{
    return name.compare(u"png", Qt::CaseInsensitive) == 0 ? ImageFormat::Png : ImageFormat::Jpeg;
}

QString imageSuffix(ImageFormat format)
{
    return format == ImageFormat::Png ? QStringLiteral("png") : QStringLiteral("jpg");
}

QString imageMimeType(ImageFormat format)
{
    return format == ImageFormat::Png ? QStringLiteral("image/png") : QStringLiteral("image/jpeg");
}

static Error encoderError(const char *what, int rc)
{
    return Error{
        errors::EncoderFailed,
        QStringLiteral("The %1 image encoder failed (%2).").arg(QString::fromLatin1(what), ff::averrorText(rc))};
}

ff::Expected<QByteArray> encodeImage(const AVFrame *frame, ImageFormat format, int jpegQuality)
{
    const bool png = format == ImageFormat::Png;
    const char *name = png ? "png" : "mjpeg";
    const AVCodec *codec = avcodec_find_encoder(png ? AV_CODEC_ID_PNG : AV_CODEC_ID_MJPEG);
    if (!codec)
        return Error{errors::EncoderFailed,
                     QStringLiteral("FFmpeg was built without the %1 encoder.").arg(QString::fromLatin1(name))};

    // JPEG takes full-range 4:2:0 as it comes from the thumbnailer; PNG wants RGB. Anything else
    // is converted once here.
    const AVPixelFormat wanted = png ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_YUVJ420P;
    FrameScaler scaler;
    const AVFrame *input = frame;
    if (frame->format != wanted) {
        input = scaler.convert(frame, frame->width, frame->height, wanted, SWS_BICUBIC);
        if (!input)
            return Error{
                errors::EncoderFailed,
                QStringLiteral("The picture cannot be converted for the %1 encoder.").arg(QString::fromLatin1(name))};
    }

    ff::CodecContext ctx(avcodec_alloc_context3(codec));
    if (!ctx)
        return Error{errors::Internal, QStringLiteral("Out of memory opening an image encoder.")};
    ctx->width = input->width;
    ctx->height = input->height;
    ctx->pix_fmt = wanted;
    ctx->time_base = AVRational{1, 25};
    // One small picture: thread start-up would cost more than it saves.
    ctx->thread_count = 1;
    if (!png) {
        ctx->color_range = AVCOL_RANGE_JPEG;
        ctx->flags |= AV_CODEC_FLAG_QSCALE;
        ctx->global_quality = FF_QP2LAMBDA * std::clamp(jpegQuality, 2, 31);
    }
    int rc = avcodec_open2(ctx.get(), codec, nullptr);
    if (rc < 0)
        return encoderError(name, rc);

    // The encoder may not keep a reference to a const frame; hand it its own reference.
    ff::Frame owned = ff::makeFrame();
    rc = av_frame_ref(owned.get(), input);
    if (rc < 0)
        return encoderError(name, rc);
    owned->pts = 0;
    if (!png) {
        owned->color_range = AVCOL_RANGE_JPEG;
        owned->quality = ctx->global_quality;
    }
    rc = avcodec_send_frame(ctx.get(), owned.get());
    if (rc < 0)
        return encoderError(name, rc);
    avcodec_send_frame(ctx.get(), nullptr);

    QByteArray bytes;
    ff::Packet packet = ff::makePacket();
    while ((rc = avcodec_receive_packet(ctx.get(), packet.get())) == 0) {
        bytes.append(reinterpret_cast<const char *>(packet->data), packet->size);
        av_packet_unref(packet.get());
    }
    if (rc != AVERROR_EOF)
        return encoderError(name, rc);
    if (bytes.isEmpty())
        return Error{errors::EncoderFailed,
                     QStringLiteral("The %1 encoder produced no picture.").arg(QString::fromLatin1(name))};
    return bytes;
}

std::optional<Error> writeImage(const AVFrame *frame, ImageFormat format, const QString &path, int jpegQuality)
{
    auto encoded = encodeImage(frame, format, jpegQuality);
    if (auto *e = ff::errorOf(encoded))
        return *e;
    return writeWholeFile(path, std::get<QByteArray>(encoded));
}

} // namespace clipdeck::media
