#include "scenefixtures.h"

#include "mediafixtures.h"

#include <cmath>

namespace fixtures::scenes {

namespace {

constexpr int Rate = 25;

// A lavfi source as one shot of width×height at 25 fps. Seeds are fixed: the same pictures every
// run. Sources with coarse structure (life, cellauto) are drawn small and scaled up with
// nearest-neighbour, so their cells stay visible instead of averaging to grey.
QString source(const QString &name, int w, int h)
{
    const QString size = QStringLiteral("s=%1x%2:r=%3").arg(w).arg(h).arg(Rate);
    const QString quarter = QStringLiteral("s=%1x%2:r=%3").arg(w / 4).arg(h / 4).arg(Rate);
    const QString up = QStringLiteral(",scale=%1:%2:flags=neighbor").arg(w).arg(h);
    if (name == u"life") {
        return QStringLiteral(
                   "life=%1:seed=7:ratio=0.3:mold=8:life_color=#30d030:death_color=#401020:mold_color=#204080")
                   .arg(quarter)
               + up;
    }
    if (name == u"life2")
        return QStringLiteral("life=%1:seed=3:ratio=0.5:life_color=#f0e060:death_color=#102040").arg(quarter) + up;
    if (name == u"cellauto")
        return QStringLiteral("cellauto=%1:seed=3:rule=30").arg(quarter) + up;
    if (name == u"gradients")
        return QStringLiteral("gradients=%1:seed=5:n=3:speed=0.01").arg(size);
    if (name == u"gradients2")
        return QStringLiteral("gradients=%1:seed=9:n=4:speed=0.02").arg(size);
    if (name == u"colorchart")
        return QStringLiteral("colorchart=r=%1,scale=%2:%3").arg(Rate).arg(w).arg(h);
    if (name == u"noisybars")
        return QStringLiteral("smptehdbars=%1,noise=alls=10:allf=t+u").arg(size);
    if (name == u"slowpan") {
        // A slow pan over a gradient: a twelfth of the frame width per second.
        return QStringLiteral("gradients=s=%1x%2:r=%3:seed=11:n=4:speed=0.002,crop=%4:%2:x='t*%4/12':y=0")
            .arg(2 * w)
            .arg(h)
            .arg(Rate)
            .arg(w);
    }
    return QStringLiteral("%1=%2").arg(name, size); // testsrc, testsrc2, smptehdbars, mandelbrot, ...
}

QString shot(const QString &name, int w, int h, qint64 frames, int index)
{
    return QStringLiteral("%1,trim=end_frame=%2,setpts=PTS-STARTPTS,settb=1/%3,format=yuv420p,setsar=1[s%4]")
        .arg(source(name, w, h))
        .arg(frames)
        .arg(Rate)
        .arg(index);
}

QString encode(const QString &name, const QString &graph)
{
    return generate(name, {QStringLiteral("-filter_complex"), graph, QStringLiteral("-map"), QStringLiteral("[v]"),
                           QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"),
                           QStringLiteral("veryfast"), QStringLiteral("-crf"), QStringLiteral("20"),
                           QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p"), QStringLiteral("-an")});
}

QString tag(int w, int h, double scale)
{
    return QStringLiteral("%1x%2-s%3").arg(w).arg(h).arg(scale);
}

qint64 scaled(qint64 frames, double scale)
{
    return std::max<qint64>(1, std::llround(double(frames) * scale));
}

QString kindOf(const QString &transition)
{
    if (transition == u"cut")
        return QStringLiteral("cut");
    if (transition.startsWith(u"fadeblack") || transition.startsWith(u"fadewhite"))
        return QStringLiteral("fade");
    if (transition == u"fade" || transition == u"dissolve")
        return QStringLiteral("dissolve");
    return QStringLiteral("wipe"); // wipe*, smooth*, slide*
}

struct Join
{
    QString transition;
    qint64 frames; // transition length
};

// Shots joined by xfade. Shot i starts (in the output) where the previous output ends minus
// the transition's length; xfade's output frame `offset` is still pure old picture, frames
// offset+1 .. offset+d-1 mix, offset+d is pure new picture.
Clip joined(const QString &name, const QStringList &shots, const QList<qint64> &lengths, const QList<Join> &joins,
            int w, int h)
{
    Clip clip;
    clip.name = name;
    clip.frameRate = Rate;
    QStringList graph;
    for (int i = 0; i < shots.size(); ++i)
        graph << shot(shots[i], w, h, lengths[i], i);
    qint64 outputLength = lengths[0];
    QString previous = QStringLiteral("s0");
    for (int i = 1; i < shots.size(); ++i) {
        const Join &j = joins[i - 1];
        const qint64 offset = outputLength - j.frames;
        const QString out = i == shots.size() - 1 ? QStringLiteral("v") : QStringLiteral("x%1").arg(i);
        graph << QStringLiteral("[%1][s%2]xfade=transition=%3:duration=%4:offset=%5[%6]")
                     .arg(previous)
                     .arg(i)
                     .arg(j.transition)
                     .arg(double(j.frames) / Rate)
                     .arg(double(offset) / Rate)
                     .arg(out);
        TrueBoundary b;
        b.transition = j.transition;
        b.kind = kindOf(j.transition);
        b.firstFrame = offset;
        b.lastFrame = offset + j.frames - 1;
        b.startSeconds = double(offset) / Rate;
        b.endSeconds = double(offset + j.frames) / Rate;
        clip.boundaries << b;
        outputLength = offset + lengths[i];
        previous = out;
    }
    clip.frames = outputLength;
    clip.path = encode(name + QStringLiteral(".mp4"), graph.join(u';'));
    return clip;
}

} // namespace

Clip hardCuts(int width, int height, double shotScale)
{
    const QStringList shots{QStringLiteral("testsrc2"),   QStringLiteral("noisybars"), QStringLiteral("mandelbrot"),
                            QStringLiteral("rgbtestsrc"), QStringLiteral("life"),      QStringLiteral("cellauto"),
                            QStringLiteral("gradients"),  QStringLiteral("testsrc")};
    const QList<qint64> base{48, 37, 61, 44, 53, 40, 57, 50};
    Clip clip;
    clip.name = QStringLiteral("scenes-cuts-") + tag(width, height, shotScale);
    clip.frameRate = Rate;
    QStringList graph;
    QString inputs;
    qint64 at = 0;
    for (int i = 0; i < shots.size(); ++i) {
        const qint64 length = scaled(base[i], shotScale);
        graph << shot(shots[i], width, height, length, i);
        inputs += QStringLiteral("[s%1]").arg(i);
        if (i > 0) {
            TrueBoundary b;
            b.transition = b.kind = QStringLiteral("cut");
            b.firstFrame = b.lastFrame = at;
            b.startSeconds = b.endSeconds = double(at) / Rate;
            clip.boundaries << b;
        }
        at += length;
    }
    graph << inputs + QStringLiteral("concat=n=%1:v=1:a=0[v]").arg(shots.size());
    clip.frames = at;
    clip.path = encode(clip.name + QStringLiteral(".mp4"), graph.join(u';'));
    return clip;
}

Clip gradualA(int width, int height, double shotScale)
{
    const QStringList shots{QStringLiteral("testsrc2"),  QStringLiteral("mandelbrot"), QStringLiteral("smptehdbars"),
                            QStringLiteral("gradients"), QStringLiteral("life"),       QStringLiteral("colorchart"),
                            QStringLiteral("testsrc")};
    QList<qint64> lengths;
    for (qint64 l : {100, 105, 95, 110, 100, 95, 90})
        lengths << scaled(l, shotScale);
    const QList<Join> joins{{QStringLiteral("fade"), 25},      {QStringLiteral("fadeblack"), 25},
                            {QStringLiteral("wipeleft"), 20},  {QStringLiteral("dissolve"), 30},
                            {QStringLiteral("fadewhite"), 20}, {QStringLiteral("wipeup"), 25}};
    return joined(QStringLiteral("scenes-gradual-a-") + tag(width, height, shotScale), shots, lengths, joins, width,
                  height);
}

Clip gradualB(int width, int height, double shotScale)
{
    const QStringList shots{QStringLiteral("rgbtestsrc"), QStringLiteral("testsrc2"),   QStringLiteral("cellauto"),
                            QStringLiteral("mandelbrot"), QStringLiteral("yuvtestsrc"), QStringLiteral("gradients2"),
                            QStringLiteral("life2")};
    QList<qint64> lengths;
    for (qint64 l : {95, 110, 100, 105, 95, 100, 100})
        lengths << scaled(l, shotScale);
    const QList<Join> joins{{QStringLiteral("dissolve"), 30},  {QStringLiteral("fadeblack"), 20},
                            {QStringLiteral("wiperight"), 25}, {QStringLiteral("fade"), 15},
                            {QStringLiteral("wipedown"), 20},  {QStringLiteral("smoothleft"), 25}};
    return joined(QStringLiteral("scenes-gradual-b-") + tag(width, height, shotScale), shots, lengths, joins, width,
                  height);
}

QList<Clip> steadyShots(int width, int height, double seconds)
{
    QList<Clip> clips;
    const qint64 frames = std::llround(seconds * Rate);
    for (const char *name : {"noisybars", "slowpan", "mandelbrot", "life", "cellauto"}) {
        Clip clip;
        clip.name =
            QStringLiteral("scenes-steady-%1-%2x%3-%4s").arg(QLatin1String(name)).arg(width).arg(height).arg(seconds);
        clip.frameRate = Rate;
        clip.frames = frames;
        clip.path = encode(clip.name + QStringLiteral(".mp4"),
                           shot(QLatin1String(name), width, height, frames, 0) + QStringLiteral(";[s0]null[v]"));
        clips << clip;
    }
    return clips;
}

QString audioOnly()
{
    return generate(QStringLiteral("scenes-audio-only.m4a"),
                    {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                     QStringLiteral("sine=frequency=440:sample_rate=48000:duration=2"), QStringLiteral("-c:a"),
                     QStringLiteral("aac")});
}

} // namespace fixtures::scenes
