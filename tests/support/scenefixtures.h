#pragma once

#include <QList>
#include <QString>

// Clips for scene detection with known boundaries, generated with the ffmpeg CLI from lavfi
// sources (see mediafixtures.h for caching): shots concatenated for hard cuts at known frames,
// joined with xfade for gradual transitions at known frames, and single shots (static, slow
// pan, zoom, cellular life) that contain no boundary at all. Used by tests/media/tst_scenes and
// by the scene-detection benchmark (tests/bench/scenes), so both judge the same ground truth.
namespace fixtures::scenes {

// One true boundary. A cut's span is its first frame; a gradual transition's span is the
// frames xfade mixes, from the last frame of pure old picture to the last mixed frame.
struct TrueBoundary
{
    QString transition; // "cut" or the xfade transition name ("fade", "fadeblack", "wipeleft", ...)
    QString kind;       // what a detector should call it: "cut", "fade", "dissolve" or "wipe"
    qint64 firstFrame = 0;
    qint64 lastFrame = 0;
    double startSeconds = 0;
    double endSeconds = 0;
};

struct Clip
{
    QString name; // e.g. "scenes-cuts-640x360"
    QString path; // empty when generation failed
    int frameRate = 25;
    qint64 frames = 0;
    QList<TrueBoundary> boundaries;
};

// Eight shots of different lavfi sources (moving, static, noisy) joined by seven hard cuts.
// `shotScale` stretches every shot (1 = 1.5..2.5 s each).
Clip hardCuts(int width = 640, int height = 360, double shotScale = 1.0);

// Shots joined by six gradual transitions: cross-fade (xfade "fade"), fade through black,
// wipe left, pixel dissolve, fade through white, wipe up.
Clip gradualA(int width = 640, int height = 360, double shotScale = 1.0);
// Another six: dissolve, fade through black, wipe right, cross-fade, wipe down, smooth left.
Clip gradualB(int width = 640, int height = 360, double shotScale = 1.0);

// Shots without any boundary: a static test card with temporal noise, a slow pan over a
// gradient, a Mandelbrot zoom, Conway's life, and a scrolling cellular automaton.
QList<Clip> steadyShots(int width = 640, int height = 360, double seconds = 6.0);

// A clip with only an audio stream (a sine tone in AAC/M4A).
QString audioOnly();

} // namespace fixtures::scenes
