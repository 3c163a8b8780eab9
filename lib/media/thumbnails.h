#pragma once

// Thumbnails, a contact sheet and a poster frame of a clip's video, made by keyframe seeking.
//
// Params (all optional):
//   count        thumbnails, evenly spaced over the clip (default 8; 1..100). With a sheet, when
//                `count` is not given it is columns×rows.
//   columns, rows  contact sheet grid (default 4×2; 1..16 each). Without `columns`, at most
//                `count`; without `rows`, the rows the thumbnails fill: ceil(count / columns).
//                count > columns×rows is invalid.
//   width        thumbnail width in pixels (default 320; 16..1920, made even); the height follows
//                the display aspect ratio (sample aspect ratio applied). Never upscaled.
//   format       "jpg" (default) or "png".
//   frames       write the single thumbnails (default true).
//   sheet        write the contact sheet (default true).
//   poster       write a poster frame (default true).
//   posterWidth  poster width (default 1280; 16..7680), never upscaled.
//   gutter       contact sheet gap and border in pixels (default 4; 0..64, made even).
//   timestamps   draw each thumbnail's time on the contact sheet (default true).
//
// Outputs, committed only when all of them are written:
//   <base>.thumb-01.jpg ...   role "thumbnail", in time order
//   <base>.contact.jpg        role "contact_sheet"
//   <base>.poster.jpg         role "poster"
//
// A clip with fewer distinct frames than `count` gives fewer thumbnails (one per frame).
// Errors: the input's (file_not_found, empty_file, not_media, corrupt_stream, unsupported_codec,
// invalid_dimensions), no_video_stream, invalid_params, output_unwritable, disk_full,
// encoder_failed, canceled.

#include "media/operation.h"

namespace clipdeck::media {

std::optional<Error> validateThumbnails(const QVariantMap &params);
Result runThumbnails(const Request &request, Control &control);

} // namespace clipdeck::media
