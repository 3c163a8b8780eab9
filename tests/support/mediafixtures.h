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

QString mediaDir();

} // namespace fixtures
