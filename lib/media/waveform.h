#pragma once

// Waveform: audio peaks (min/max per time bucket, per channel) for the editor's timeline.
//
// Params (all optional):
//   bucketsPerSecond  buckets per second of audio (default 100; 1..1000).
//   buckets           the total number of buckets over the whole clip instead (1..1000000);
//                     giving both is invalid.
// The file takes up to ~16 bytes per bucket per channel: an hour of stereo at 100/s is ~11 MB.
//   channels          "all" (default): one peak list per channel; "mix": one list for the
//                     average of all channels.
//
// Output <base>.waveform.json (role "waveform", application/json), format version 1:
//
//   {"v":1,
//    "sampleRate":48000,        // Hz, of the decoded audio
//    "channels":2,              // number of lists in "peaks" (1 with channels=mix)
//    "durationSeconds":12.5,    // decoded audio, from the clip's start
//    "bucketsPerSecond":100,    // as asked; with `buckets`, buckets / durationSeconds
//    "buckets":1250,            // entries per list
//    "peaks":[[min,max, min,max, ...],   // channel 0 (FFmpeg's channel order: L, R, C, LFE, ...)
//             [min,max, ...]]}           // channel 1 ...
//
// Bucket i of every list holds the lowest and the highest sample value in
// [i / bucketsPerSecond, (i + 1) / bucketsPerSecond) seconds, as numbers in [-1, 1] with at most
// four decimals (full scale is ±1; louder float samples are clipped to it); the last bucket may be
// partial. Time 0 is the start of the clip: audio that starts after the video is preceded by
// silent (0,0) buckets. Reads the best audio stream; sample formats are read natively.
//
// Errors: the input's (file_not_found, empty_file, not_media, corrupt_stream, unsupported_codec),
// no_audio_stream, invalid_params, output_unwritable, disk_full, canceled.

#include "media/operation.h"

namespace clipdeck::media {

std::optional<Error> validateWaveform(const QVariantMap &params);
Result runWaveform(const Request &request, Control &control);

} // namespace clipdeck::media
