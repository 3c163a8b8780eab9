#pragma once

// Internal to lib/media: still images (thumbnails, contact sheets, posters, scene thumbnails)
// encoded in-process with FFmpeg's own mjpeg and png encoders, so lib/media needs no image
// library and no QtGui.

#include "media/ffmpeg_p.h"

#include <QByteArray>
#include <QString>

namespace clipdeck::media {

enum class ImageFormat { Jpeg, Png };

// "jpg"/"jpeg" -> Jpeg, "png" -> Png.
ImageFormat imageFormatFromName(const QString &name);
QString imageSuffix(ImageFormat format);   // "jpg" or "png" (no dot)
QString imageMimeType(ImageFormat format); // "image/jpeg" or "image/png"

// Encodes `frame` (any pixel format swscale reads; YUVJ420P goes to JPEG without conversion).
// JPEG quality is FFmpeg's qscale 2 (best) .. 31; 3 looks like the source at thumbnail sizes.
ff::Expected<QByteArray> encodeImage(const AVFrame *frame, ImageFormat format, int jpegQuality = 3);

// encodeImage, then writes the bytes to `path` (normally an OutputFile's temporary path).
// Errors: encoder_failed, disk_full, output_unwritable.
std::optional<Error> writeImage(const AVFrame *frame, ImageFormat format, const QString &path, int jpegQuality = 3);

} // namespace clipdeck::media
