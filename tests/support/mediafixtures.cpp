#include "mediafixtures.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QTest>

#include <algorithm>

namespace fixtures {

QString mediaDir()
{
    QString dir = qEnvironmentVariable("CLIPDECK_TEST_MEDIA_DIR");
    if (dir.isEmpty())
        dir = QDir::tempPath() + QStringLiteral("/clipdeck-test-media");
    QDir().mkpath(dir);
    return dir;
}

QString generate(const QString &name, const QStringList &ffmpegArguments)
{
    const QString path = mediaDir() + u'/' + name;
    if (QFileInfo::exists(path))
        return path;
    const QString suffix = QFileInfo(name).suffix();
    // Keep the real extension last: ffmpeg picks the muxer from it.
    const QString partial = mediaDir()
                            + QStringLiteral("/.partial-%1-%2.%3")
                                  .arg(QCoreApplication::applicationPid())
                                  .arg(QRandomGenerator::global()->generate())
                                  .arg(suffix);
    QProcess ffmpeg;
    QStringList args{QStringLiteral("-hide_banner"), QStringLiteral("-loglevel"), QStringLiteral("error"),
                     QStringLiteral("-nostdin"), QStringLiteral("-y")};
    args << ffmpegArguments << partial;
    ffmpeg.start(QStringLiteral("ffmpeg"), args);
    if (!ffmpeg.waitForFinished(300000) || ffmpeg.exitStatus() != QProcess::NormalExit || ffmpeg.exitCode() != 0) {
        QFile::remove(partial);
        qWarning("fixtures: ffmpeg failed for %s: %s", qPrintable(name), ffmpeg.readAllStandardError().constData());
        return {};
    }
    if (!QFile::rename(partial, path)) {
        QFile::remove(partial); // another test made it first
    }
    return path;
}

QString basicClip(double seconds)
{
    const QString d = QString::number(seconds);
    return generate(
        QStringLiteral("basic-%1s.mp4").arg(d),
        {QStringLiteral("-f"),       QStringLiteral("lavfi"),
         QStringLiteral("-i"),       QStringLiteral("testsrc2=size=640x360:rate=25:duration=%1").arg(d),
         QStringLiteral("-f"),       QStringLiteral("lavfi"),
         QStringLiteral("-i"),       QStringLiteral("sine=frequency=440:sample_rate=48000:duration=%1").arg(d),
         QStringLiteral("-ac"),      QStringLiteral("2"),
         QStringLiteral("-c:v"),     QStringLiteral("libx264"),
         QStringLiteral("-preset"),  QStringLiteral("veryfast"),
         QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p"),
         QStringLiteral("-g"),       QStringLiteral("25"),
         QStringLiteral("-c:a"),     QStringLiteral("aac"),
         QStringLiteral("-shortest")});
}

static QString writeOnce(const QString &name, const QByteArray &bytes)
{
    const QString path = mediaDir() + u'/' + name;
    if (QFileInfo::exists(path))
        return path;
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit())
        return {};
    return path;
}

QString textFileNamedMp4()
{
    return writeOnce(QStringLiteral("not-media.mp4"), QByteArrayLiteral("This is a text file, not a video.\n"));
}

QString zeroByteFile()
{
    return writeOnce(QStringLiteral("zero-bytes.mp4"), {});
}

QString randomBytesFile()
{
    QByteArray bytes(256 * 1024, Qt::Uninitialized);
    QRandomGenerator rng(20261128); // fixed seed: the same bytes every run
    rng.fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
    return writeOnce(QStringLiteral("random-bytes.mp4"), bytes);
}

static QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString truncatedClip()
{
    const QByteArray whole = readAll(basicClip(4.0));
    if (whole.isEmpty())
        return {};
    return writeOnce(QStringLiteral("truncated.mp4"), whole.left(whole.size() / 3));
}

QString corruptedClip()
{
    QByteArray bytes = readAll(basicClip(4.0));
    if (bytes.isEmpty())
        return {};
    // Zero a stretch in the middle of the media data, leaving the container header intact.
    const qsizetype from = bytes.size() / 3;
    std::fill(bytes.begin() + from, bytes.begin() + from + bytes.size() / 4, '\0');
    return writeOnce(QStringLiteral("corrupted.mp4"), bytes);
}

// --- transcode/probe fixtures -------------------------------------------------------------------

QString frameIndexClip()
{
    // geq paints block b (40 px wide) white when bit b of the frame number N is set.
    return generate(QStringLiteral("frame-index.mp4"),
                    {QStringLiteral("-f"),
                     QStringLiteral("lavfi"),
                     QStringLiteral("-i"),
                     QStringLiteral("color=c=black:size=320x240:rate=25:duration=4,format=yuv420p,"
                                    "geq=lum='if(mod(floor(N/pow(2,floor(X/40))),2),235,16)':cb=128:cr=128"),
                     QStringLiteral("-f"),
                     QStringLiteral("lavfi"),
                     QStringLiteral("-i"),
                     QStringLiteral("sine=frequency=1000:sample_rate=48000:duration=4"),
                     QStringLiteral("-ac"),
                     QStringLiteral("2"),
                     QStringLiteral("-c:v"),
                     QStringLiteral("libx264"),
                     QStringLiteral("-preset"),
                     QStringLiteral("veryfast"),
                     QStringLiteral("-crf"),
                     QStringLiteral("18"),
                     QStringLiteral("-g"),
                     QStringLiteral("25"),
                     QStringLiteral("-bf"),
                     QStringLiteral("3"),
                     QStringLiteral("-pix_fmt"),
                     QStringLiteral("yuv420p"),
                     QStringLiteral("-c:a"),
                     QStringLiteral("aac"),
                     QStringLiteral("-shortest")});
}

int frameIndex(const unsigned char *luma, int lineSize, int width, int height)
{
    int index = 0;
    for (int bit = 0; bit < 8; ++bit) {
        // Average a patch in the middle of the block: away from edges that scaling blurs.
        const int cx = (2 * bit + 1) * width / 16;
        const int cy = height / 2;
        const int rx = std::max(1, width / 48);
        const int ry = std::max(1, height / 8);
        long sum = 0;
        int n = 0;
        for (int y = cy - ry; y <= cy + ry; ++y) {
            for (int x = cx - rx; x <= cx + rx; ++x) {
                sum += luma[y * lineSize + x];
                ++n;
            }
        }
        const int mean = int(sum / n);
        if (mean > 180)
            index |= 1 << bit;
        else if (mean > 70)
            return -1; // neither black nor white: not the pattern
    }
    return index;
}

QString audioOnlyClip(double seconds)
{
    const QString d = QString::number(seconds);
    return generate(QStringLiteral("audio-only-%1s.m4a").arg(d),
                    {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                     QStringLiteral("sine=frequency=440:sample_rate=48000:duration=%1").arg(d), QStringLiteral("-ac"),
                     QStringLiteral("2"), QStringLiteral("-c:a"), QStringLiteral("aac")});
}

QString hugePictureClip()
{
    return generate(QStringLiteral("huge-10000x10000.h264"),
                    {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                     QStringLiteral("color=c=gray:s=10000x10000:r=25:d=0.08"), QStringLiteral("-frames:v"),
                     QStringLiteral("2"), QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"),
                     QStringLiteral("ultrafast"), QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p")});
}

QString manyStreamsClip(int streams)
{
    const QString track = generate(QStringLiteral("one-aac-track.m4a"),
                                   {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                                    QStringLiteral("sine=frequency=440:sample_rate=48000:duration=0.5"),
                                    QStringLiteral("-c:a"), QStringLiteral("aac")});
    if (track.isEmpty())
        return {};
    QStringList args{QStringLiteral("-i"), track};
    for (int i = 0; i < streams; ++i)
        args << QStringLiteral("-map") << QStringLiteral("0:a");
    args << QStringLiteral("-c") << QStringLiteral("copy");
    return generate(QStringLiteral("streams-%1.mp4").arg(streams), args);
}

QString needleClip()
{
    return generate(QStringLiteral("needle-16x2048.mp4"),
                    {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                     QStringLiteral("testsrc2=size=16x2048:rate=25:duration=1"), QStringLiteral("-c:v"),
                     QStringLiteral("libx264"), QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p")});
}

QString videoOnlyClip(double seconds)
{
    const QString d = QString::number(seconds);
    return generate(QStringLiteral("video-only-%1s.mp4").arg(d),
                    {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                     QStringLiteral("testsrc2=size=320x240:rate=25:duration=%1").arg(d), QStringLiteral("-c:v"),
                     QStringLiteral("libx264"), QStringLiteral("-preset"), QStringLiteral("veryfast"),
                     QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p")});
}

QString rotatedClip()
{
    const QString plain = videoOnlyClip(1.0);
    if (plain.isEmpty())
        return {};
    // Stream copy keeps the "rotate" tag, which the MP4 muxer writes as a display matrix.
    return generate(QStringLiteral("rotated-90.mp4"),
                    {QStringLiteral("-i"), plain, QStringLiteral("-c"), QStringLiteral("copy"),
                     QStringLiteral("-metadata:s:v:0"), QStringLiteral("rotate=90")});
}

QString truncatedFaststartClip()
{
    const QString faststart =
        generate(QStringLiteral("basic-4s-faststart.mp4"),
                 {QStringLiteral("-i"), basicClip(4.0), QStringLiteral("-c"), QStringLiteral("copy"),
                  QStringLiteral("-movflags"), QStringLiteral("+faststart")});
    const QByteArray whole = readAll(faststart);
    if (whole.isEmpty())
        return {};
    return writeOnce(QStringLiteral("truncated-faststart.mp4"), whole.left(whole.size() / 2));
}

} // namespace fixtures
