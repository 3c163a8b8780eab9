#pragma once

// Transcode: re-encode a clip to a preset (presets.h), optionally trimmed, scaled, re-timed, or
// without its audio. The "proxy" operation is the same with the editing-proxy preset as default.
//
// Parameters (all optional):
//   preset   name of a preset (default "web-h264"; "proxy-540p" for proxy)
//   in, out  trim, frame-accurate: the output starts on the first frame at or after `in` and
//            ends before `out` (seconds, "MM:SS.mmm" or "HH:MM:SS.mmm"); audio is cut to match
//   width, height  output size; with only one, the other follows the display aspect ratio.
//            Rounded to even numbers. Default: the preset's size rule (never upscales).
//   fps      output frame rate (frames are dropped or repeated); default: the source's
//   quality  overrides the preset's quality setting (e.g. CRF), within the preset's range
//   audio    false drops the audio (video presets only)
//
// Progress stages: "analysing" (opening, seeking), "encoding" (fraction over the trimmed
// duration), "finalising" (writing the index, e.g. the +faststart rewrite, with its own progress).

#include "media/operation.h"

namespace clipdeck::media {

std::optional<Error> validateTranscode(const QVariantMap &params);
Result runTranscode(const Request &request, Control &control);

std::optional<Error> validateProxy(const QVariantMap &params);
Result runProxy(const Request &request, Control &control);

} // namespace clipdeck::media
