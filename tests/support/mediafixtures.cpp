#include "mediafixtures.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QTest>

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
    const QString partial = mediaDir() + QStringLiteral("/.partial-%1-%2.%3")
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
        qWarning("fixtures: ffmpeg failed for %s: %s", qPrintable(name),
                 ffmpeg.readAllStandardError().constData());
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
    return generate(QStringLiteral("basic-%1s.mp4").arg(d),
                    {QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                     QStringLiteral("testsrc2=size=640x360:rate=25:duration=%1").arg(d),
                     QStringLiteral("-f"), QStringLiteral("lavfi"), QStringLiteral("-i"),
                     QStringLiteral("sine=frequency=440:sample_rate=48000:duration=%1").arg(d),
                     QStringLiteral("-ac"), QStringLiteral("2"),
                     QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"),
                     QStringLiteral("veryfast"), QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p"),
                     QStringLiteral("-g"), QStringLiteral("25"),
                     QStringLiteral("-c:a"), QStringLiteral("aac"), QStringLiteral("-shortest")});
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

} // namespace fixtures
