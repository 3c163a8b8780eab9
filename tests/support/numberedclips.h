#pragma once

#include <QString>

// Clips whose every picture shows its own frame number, for exact-frame tests: 16 blocks of
// 80x60 (4 rows of 4, bit 0 top left, white = 1) on a 320x240 picture, large enough to survive
// every codec here. Generated at test time and cached like mediafixtures.h's.
namespace fixtures {

struct NumberedClip
{
    QString path;  // empty when generating failed
    qint64 frames; // pictures in the file
    QString description;
};

NumberedClip numberedH264LongGop();     // MP4, 750 frames at 25 fps, 3 B-frames, keyframe every 250
NumberedClip numberedH264OpenGop();     // Matroska, 300 frames, 3 B-frames, open GOPs every 50
NumberedClip numberedHevc();            // MP4, 300 frames, x265 defaults: B-frames, open GOPs every 50
NumberedClip numberedVp9();             // WebM, 240 frames, keyframe every 60 (alt-ref frames hidden)
NumberedClip numberedProRes();          // MOV, 100 frames, ProRes 422 Proxy (10-bit 4:2:2, intra)
NumberedClip numberedMpeg2();           // MPEG-TS, 250 frames, 2 B-frames, open GOPs every 15
NumberedClip numberedAv1();             // Matroska, 120 frames, libaom, keyframe every 60
NumberedClip numberedH264At2997();      // MP4, 300 frames at 30000/1001 fps, 3 B-frames
NumberedClip numberedVfrMatroska();     // Matroska, 300 frames 21 to 45 ms apart, 3 B-frames
NumberedClip numberedVfrMp4();          // MP4, the same timing, 3 B-frames
NumberedClip numberedVfrMp4NoBFrames(); // MP4, the same timing, no B-frames
// numberedVfrMp4() with its decode times rewritten to a constant step (setts): a sample table
// whose durations are all equal, although the pictures are not shown on a constant grid.
NumberedClip numberedVfrMp4UniformDts();
// 120 frames at 29.97 without B-frames, with the display matrix of a phone held upright: shown
// turned 90° clockwise (ffprobe: rotation -90).
NumberedClip numberedRotated();

// The number a picture shows, read from its luma plane (8-bit), or -1 when the pattern is not there.
int pictureNumber(const unsigned char *luma, int lineSize, int width, int height);

} // namespace fixtures
