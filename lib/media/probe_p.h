#pragma once

// Internal to lib/media: stream facts shared by probe and transcode.

extern "C" {
#include <libavformat/avformat.h>
}

namespace clipdeck::media {

// The rotation a stream's display matrix asks for, in degrees counter-clockwise (as ffprobe
// reports it), normalised to 0, 90, 180 or 270; 0 when there is no matrix.
int displayRotation(const AVStream *stream);

} // namespace clipdeck::media
