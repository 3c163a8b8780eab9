// Probe on media generated at test time: container, streams, rotation, broken files, JSON, and
// the probe operation's output file.

#include "media/probe.h"

#include "mediafixtures.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace clipdeck::media;

namespace {

class CountingControl : public Control
{
public:
    bool checkpoint(const Progress &p) override
    {
        stages << p.stage;
        return !cancel;
    }
    QStringList stages;
    bool cancel = false;
};

MediaInfo probeOk(const QString &path)
{
    auto result = probe(path);
    if (auto *e = std::get_if<Error>(&result))
        qFatal("probe(%s) failed: %s", qPrintable(path), qPrintable(e->message));
    return std::get<MediaInfo>(result);
}

} // namespace

class TestProbe : public QObject
{
    Q_OBJECT

private slots:
    void basicClip()
    {
        const QString path = fixtures::basicClip(4.0);
        QVERIFY(!path.isEmpty());
        const MediaInfo info = probeOk(path);
        QVERIFY2(info.formatName.contains(QStringLiteral("mp4")), qPrintable(info.formatName));
        QVERIFY(!info.formatLongName.isEmpty());
        QVERIFY2(qAbs(info.durationSeconds - 4.0) < 0.05, qPrintable(QString::number(info.durationSeconds)));
        QCOMPARE(info.sizeBytes, QFileInfo(path).size());
        QVERIFY(info.bitRate > 0);
        QCOMPARE(info.streams.size(), 2);
        QCOMPARE(info.videoStream, 0);
        QCOMPARE(info.audioStream, 1);

        const StreamInfo &v = info.streams[info.videoStream];
        QCOMPARE(v.type, QStringLiteral("video"));
        QCOMPARE(v.codec, QStringLiteral("h264"));
        QVERIFY(v.codecLongName.contains(QStringLiteral("H.264")));
        QCOMPARE(v.profile, QStringLiteral("High"));
        QCOMPARE(v.width, 640);
        QCOMPARE(v.height, 360);
        QCOMPARE(v.displayAspectRatio, QStringLiteral("16:9"));
        QCOMPARE(v.sampleAspectRatio, QStringLiteral("1:1"));
        QCOMPARE(v.frameRate, 25.0);
        QCOMPARE(v.frameRateExact, QStringLiteral("25/1"));
        QCOMPARE(v.pixelFormat, QStringLiteral("yuv420p"));
        QCOMPARE(v.rotation, 0);
        QCOMPARE(v.fieldOrder, QStringLiteral("progressive"));
        QVERIFY(v.isDefault);
        QVERIFY(!v.attachedPicture);
        QVERIFY(v.bitRate > 0);

        const StreamInfo &a = info.streams[info.audioStream];
        QCOMPARE(a.type, QStringLiteral("audio"));
        QCOMPARE(a.codec, QStringLiteral("aac"));
        QCOMPARE(a.profile, QStringLiteral("LC"));
        QCOMPARE(a.sampleRate, 48000);
        QCOMPARE(a.channels, 2);
        QCOMPARE(a.channelLayout, QStringLiteral("stereo"));
        QCOMPARE(a.sampleFormat, QStringLiteral("fltp"));
        QVERIFY(qAbs(a.durationSeconds - 4.0) < 0.05);
    }

    void rotationAndLanguage()
    {
        const MediaInfo rotated = probeOk(fixtures::rotatedClip());
        QCOMPARE(rotated.streams.size(), 1);
        QCOMPARE(rotated.audioStream, -1);
        QCOMPARE(rotated.streams[0].width, 320);
        QCOMPARE(rotated.streams[0].height, 240);
        // The "rotate=90" tag becomes a display matrix that ffprobe also reports as 90.
        QCOMPARE(rotated.streams[0].rotation, 90);

        const QString tagged = fixtures::generate(QStringLiteral("language-tagged.mkv"),
                                                  {QStringLiteral("-i"), fixtures::basicClip(4.0), QStringLiteral("-c"),
                                                   QStringLiteral("copy"), QStringLiteral("-metadata:s:a:0"),
                                                   QStringLiteral("language=fra"), QStringLiteral("-disposition:a:0"),
                                                   QStringLiteral("0")});
        const MediaInfo info = probeOk(tagged);
        QVERIFY(info.formatName.contains(QStringLiteral("matroska")));
        QCOMPARE(info.streams[info.audioStream].language, QStringLiteral("fra"));
        QVERIFY(!info.streams[info.audioStream].isDefault);
    }

    void audioOnly()
    {
        const MediaInfo info = probeOk(fixtures::audioOnlyClip(2.0));
        QCOMPARE(info.videoStream, -1);
        QCOMPARE(info.audioStream, 0);
        QCOMPARE(info.streams[0].codec, QStringLiteral("aac"));
        QVERIFY(qAbs(info.durationSeconds - 2.0) < 0.05);
    }

    void brokenFiles_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("code");
        QTest::newRow("missing") << QStringLiteral("/nonexistent/clip.mp4") << QString(errors::FileNotFound);
        QTest::newRow("zero bytes") << fixtures::zeroByteFile() << QString(errors::EmptyFile);
        QTest::newRow("text named .mp4") << fixtures::textFileNamedMp4() << QString(errors::NotMedia);
        QTest::newRow("random bytes") << fixtures::randomBytesFile() << QString(errors::NotMedia);
        QTest::newRow("truncated") << fixtures::truncatedClip() << QString(errors::CorruptStream);
    }

    void brokenFiles()
    {
        QFETCH(QString, path);
        QFETCH(QString, code);
        auto result = probe(path);
        const Error *e = std::get_if<Error>(&result);
        QVERIFY2(e, qPrintable(path));
        QCOMPARE(e->code, code);
        QVERIFY(!e->message.isEmpty());
    }

    void json()
    {
        const MediaInfo info = probeOk(fixtures::basicClip(4.0));
        const QJsonObject o = toJson(info);
        QCOMPARE(o.value(QStringLiteral("format")).toString(), info.formatName);
        QCOMPARE(o.value(QStringLiteral("sizeBytes")).toInteger(), info.sizeBytes);
        QCOMPARE(o.value(QStringLiteral("videoStream")).toInt(), 0);
        const QJsonArray streams = o.value(QStringLiteral("streams")).toArray();
        QCOMPARE(streams.size(), 2);
        const QJsonObject v = streams[0].toObject();
        QCOMPARE(v.value(QStringLiteral("codec")).toString(), QStringLiteral("h264"));
        QCOMPARE(v.value(QStringLiteral("width")).toInt(), 640);
        QCOMPARE(v.value(QStringLiteral("frameRateExact")).toString(), QStringLiteral("25/1"));
        QCOMPARE(v.value(QStringLiteral("rotation")).toInt(), 0);
        QVERIFY(!v.contains(QStringLiteral("sampleRate"))); // audio fields only on audio streams
        const QJsonObject a = streams[1].toObject();
        QCOMPARE(a.value(QStringLiteral("channelLayout")).toString(), QStringLiteral("stereo"));
        QCOMPARE(a.value(QStringLiteral("sampleRate")).toInt(), 48000);
        QVERIFY(!a.contains(QStringLiteral("width")));
    }

    void operationWritesJson()
    {
        QTemporaryDir dir;
        CountingControl control;
        const Request request{fixtures::basicClip(4.0), dir.path(), QStringLiteral("clip"), {}};
        const Result result = runProbe(request, control);
        QVERIFY2(!result.error, result.error ? qPrintable(result.error->message) : "");
        QCOMPARE(result.outputs.size(), 1);
        const Output &out = result.outputs[0];
        QCOMPARE(QFileInfo(out.path).fileName(), QStringLiteral("clip.probe.json"));
        QCOMPARE(out.role, QStringLiteral("probe"));
        QCOMPARE(out.mimeType, QStringLiteral("application/json"));
        QFile f(out.path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(out.size, f.size());
        const QJsonObject written = QJsonDocument::fromJson(f.readAll()).object();
        // A job output travels: it names the input by file name, never by its path.
        QJsonObject expected = toJson(probeOk(request.inputPath));
        expected.remove(QStringLiteral("path"));
        expected.insert(QStringLiteral("file"), QFileInfo(request.inputPath).fileName());
        QCOMPARE(written, expected);
        QCOMPARE(control.stages.first(), QStringLiteral("analysing"));
        // Nothing else is left in the folder (no temporary file).
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 1);

        // A second run does not overwrite the first.
        const Result again = runProbe(request, control);
        QVERIFY(!again.error);
        QCOMPARE(QFileInfo(again.outputs[0].path).fileName(), QStringLiteral("clip-2.probe.json"));
    }

    void operationErrors()
    {
        QTemporaryDir dir;
        CountingControl control;
        QVERIFY(validateProbe({}) == std::nullopt);
        const auto bad = validateProbe({{QStringLiteral("preset"), QStringLiteral("x")}});
        QVERIFY(bad);
        QCOMPARE(bad->code, QString(errors::InvalidParams));

        Result r = runProbe(Request{fixtures::textFileNamedMp4(), dir.path(), QStringLiteral("t"), {}}, control);
        QVERIFY(r.error);
        QCOMPARE(r.error->code, QString(errors::NotMedia));

        control.cancel = true;
        r = runProbe(Request{fixtures::basicClip(4.0), dir.path(), QStringLiteral("c"), {}}, control);
        QVERIFY(r.error);
        QCOMPARE(r.error->code, QString(errors::Canceled));
        QVERIFY(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestProbe)
#include "tst_probe.moc"
