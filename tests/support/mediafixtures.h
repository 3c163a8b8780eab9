#pragma once

#include <QString>
#include <QStringList>

// Test media, generated at test time with the ffmpeg CLI from lavfi sources (never checked in).
// Files are cached in $CLIPDECK_TEST_MEDIA_DIR (the build tree) under their name: generated once,
// written to a temporary name and renamed, so parallel tests never see half a file.
namespace fixtures {

// Generates `name` (e.g. "cuts.mp4") with `ffmpeg -y <args...> <path>` unless it exists.
// Returns the absolute path; fails the current test (QFAIL-style, empty result) when ffmpeg fails.
QString generate(const QString &name, const QStringList &ffmpegArguments);

// A 640x360 25 fps H.264 clip of `seconds` with a 440 Hz stereo AAC tone (testsrc2 + sine).
QString basicClip(double seconds = 4.0);

// Broken inputs: a text file named .mp4, zero bytes, random bytes, and a truncated clip (the
// first third of basicClip's bytes), and a clip whose middle is overwritten with zeros.
QString textFileNamedMp4();
QString zeroByteFile();
QString randomBytesFile();
QString truncatedClip();
QString corruptedClip();

// --- transcode/probe fixtures -------------------------------------------------------------------

// A 320x240, 25 fps, 4 s (100 frames) H.264 clip (B-frames, a keyframe every 25 frames) with a
// 1 kHz stereo AAC tone, whose every frame shows its own index as 8 binary blocks across the
// picture (left = bit 0; white = 1). Survives lossy re-encoding and scaling: frameIndex() reads it
// back exactly, so tests can tell which source frame an output frame is.
QString frameIndexClip();
// The index frameIndexClip() drew into a frame's luma plane, or -1 if the pattern is not there.
int frameIndex(const unsigned char *luma, int lineSize, int width, int height);

// Audio only: `seconds` of a 440 Hz tone, 48 kHz stereo AAC in an .m4a.
QString audioOnlyClip(double seconds = 2.0);
// Video only (no audio track): 320x240 25 fps H.264.
QString videoOnlyClip(double seconds = 2.0);
// 320x240 H.264 whose display matrix asks for a 90° rotation (a phone held upright).
QString rotatedClip();
// basicClip(4.0) rewritten with the index at the front (+faststart) and cut to its first
// half: the header promises the whole clip, the media data stops half-way.
QString truncatedFaststartClip();

// --- hostile inputs: small files that ask for much (media::Limits) ---------------------------

// A raw H.264 stream of 2 flat grey 10000×10000 pictures (~290 KB): its size is known only once
// the stream is parsed (no container header), and decoding it takes ~150 MB a picture.
QString hugePictureClip();
// An MP4 of `streams` copies of one short AAC track (0.5 s, copied, not re-encoded).
QString manyStreamsClip(int streams = 500);
// A 16×2048 H.264 clip, 1 s: an extreme shape (a width asked for its output makes it tall).
QString needleClip();

QString mediaDir();

} // namespace fixtures
