#pragma once

// Scene detection: the boundaries between the shots of a clip — hard cuts and gradual
// transitions (fades to/from black or white, cross-dissolves, wipes) — and one thumbnail per
// scene. How boundaries are found is described in scenedetector.cpp.
//
// Parameters (all optional):
//   sensitivity     number 0..1, default 0.5. Higher finds weaker boundaries; lower never finds
//                   more boundaries than higher on the same clip.
//   minSceneSeconds number 0..60, default 0.5. No two boundaries closer than this (the weaker
//                   one is dropped), nor closer to the clip's start or end.
//   thumbnails      bool, default true: one JPEG per scene, `<base>.scene-001.jpg`, ...
//   thumbnailWidth  integer 16..3840, default 320; the height follows the display aspect
//                   ratio, and a thumbnail is never larger than the video.
//
// Outputs: `<base>.scenes.json` (role "scenes", application/json) and, with thumbnails, one
// `<base>.scene-NNN.jpg` per scene (role "thumbnail", image/jpeg), in scene order.
//
// `<base>.scenes.json`, version 1:
//   {
//     "v": 1,
//     "durationSeconds": 12.0,       // of the video stream
//     "frameRate": 25.0,             // average frames per second
//     "scenes": [                    // consecutive, covering the whole clip
//       {"index": 0,                 // from 0, in time order
//        "startSeconds": 0.0, "startFrame": 0,
//        "endSeconds": 2.0, "endFrame": 50,   // exclusive: the next scene's start
//        "thumbnail": "clip.scene-001.jpg"}   // file name beside the JSON; null without
//                                              // thumbnails, or when a damaged file would not
//                                              // decode that picture a second time
//     ],
//     "boundaries": [                // one between each pair of consecutive scenes
//       {"timeSeconds": 2.0, "frame": 50,     // where the next scene starts: for a cut its first
//                                              // frame, for a gradual transition its middle
//        "score": 3.4,               // confidence; 1.0 is the threshold at sensitivity 0.5,
//                                    // 0.5 at sensitivity 1, 2.0 at sensitivity 0
//        "kind": "cut",              // "cut" | "fade" | "dissolve" | "wipe"
//        "durationFrames": 0}        // frames the transition spans; 0 for a cut
//     ]
//   }
// Frames are counted from 0 in presentation order; times are seconds from the stream start.
//
// Errors: the input's (file_not_found, empty_file, not_media, corrupt_stream,
// unsupported_codec, invalid_dimensions), no_video_stream, invalid_params, output_unwritable,
// disk_full, encoder_failed, canceled.

#include "media/operation.h"

namespace clipdeck::media {

std::optional<Error> validateScenes(const QVariantMap &params);

// Progress stages: "analysing" (decoding every frame), then "thumbnails".
Result runScenes(const Request &request, Control &control);

} // namespace clipdeck::media
