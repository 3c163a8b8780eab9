// The shipped presets load and are usable with this FFmpeg; broken preset files are clear errors.

#include "media/presets.h"

#include <QTest>

extern "C" {
#include <libavcodec/avcodec.h>
}

using namespace clipdeck::media;

class TestPresets : public QObject
{
    Q_OBJECT

private:
    static QString parseError(const char *json)
    {
        auto parsed = parsePreset(QByteArray(json), QStringLiteral("test.json"));
        const Error *e = std::get_if<Error>(&parsed);
        return e ? e->message : QString();
    }

private slots:
    void shippedPresetsLoadCleanly()
    {
        for (const Error &e : presetLoadErrors())
            qWarning("%s", qPrintable(e.message));
        QVERIFY(presetLoadErrors().isEmpty());
        QStringList names;
        for (const Preset &p : presets())
            names << p.name;
        for (const char *required :
             {"web-h264", "hevc", "prores-proxy", "vp9-webm", "av1-svt", "proxy-540p", "audio-aac", "audio-opus"})
            QVERIFY2(names.contains(QLatin1String(required)), required);
        QStringList sorted = names;
        sorted.sort();
        QCOMPARE(names, sorted); // listed in name order
    }

    void everyPresetIsComplete()
    {
        for (const Preset &p : presets()) {
            QVERIFY2(!p.label.isEmpty() && !p.description.isEmpty(), qPrintable(p.name));
            QVERIFY2(!p.extension.isEmpty() && !p.mimeType.isEmpty(), qPrintable(p.name));
            QVERIFY2(p.video || p.audio, qPrintable(p.name));
            if (p.video) {
                QVERIFY(avcodec_find_encoder_by_name(p.video->encoder.toUtf8().constData()));
                QCOMPARE(p.outputRole(), QStringLiteral("video"));
                if (p.video->quality)
                    QVERIFY(*p.video->quality >= p.video->qualityMin && *p.video->quality <= p.video->qualityMax);
            } else {
                QCOMPARE(p.outputRole(), QStringLiteral("audio"));
            }
            if (p.audio)
                QVERIFY(avcodec_find_encoder_by_name(p.audio->encoder.toUtf8().constData()));
        }
    }

    void presetContents()
    {
        auto web = findPreset(QStringLiteral("web-h264"));
        QVERIFY(std::holds_alternative<Preset>(web));
        const Preset &w = std::get<Preset>(web);
        QCOMPARE(w.format, QStringLiteral("mp4"));
        QVERIFY(w.faststart);
        QCOMPARE(w.video->encoder, QStringLiteral("libx264"));
        QCOMPARE(w.video->pixelFormat, QStringLiteral("yuv420p"));
        QCOMPARE(w.video->qualityOption, QStringLiteral("crf"));
        QCOMPARE(w.audio->encoder, QStringLiteral("aac"));

        const Preset proxy = std::get<Preset>(findPreset(QStringLiteral("proxy-540p")));
        QCOMPARE(proxy.video->maxShortSide, 540);
        QVERIFY(proxy.video->keyframeInterval > 0);

        const Preset prores = std::get<Preset>(findPreset(QStringLiteral("prores-proxy")));
        QCOMPARE(prores.format, QStringLiteral("mov"));
        QCOMPARE(prores.video->options.value(QStringLiteral("profile")), QStringLiteral("proxy"));

        const Preset opus = std::get<Preset>(findPreset(QStringLiteral("audio-opus")));
        QVERIFY(!opus.video);
        QCOMPARE(opus.audio->encoder, QStringLiteral("libopus"));
    }

    void unknownPresetIsAnError()
    {
        auto found = findPreset(QStringLiteral("no-such-preset"));
        const Error *e = std::get_if<Error>(&found);
        QVERIFY(e);
        QCOMPARE(e->code, QString(errors::UnknownPreset));
        QVERIFY(e->message.contains(QStringLiteral("web-h264"))); // lists what there is
    }

    void brokenPresetFiles_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("mentions");
        const QByteArray container = R"("container": {"format": "mp4", "extension": "mp4", "mimeType": "video/mp4"})";
        auto preset = [&](const QByteArray &rest) {
            return QByteArray(R"({"name": "x", "label": "X", "description": "d", )") + container + rest + '}';
        };
        const QByteArray audio = R"(, "audio": {"encoder": "aac", "sampleRate": 48000, "channels": 2})";
        QTest::newRow("not json") << QByteArray("{ name: ") << QStringLiteral("not valid JSON");
        QTest::newRow("array") << QByteArray("[]") << QStringLiteral("JSON object");
        QTest::newRow("no name") << QByteArray(R"({"label": "X", "description": "d", )" + container + audio + "}")
                                 << QStringLiteral("'name' is required");
        QTest::newRow("typo field") << preset(audio + R"(, "vidoe": {})") << QStringLiteral("'vidoe'");
        QTest::newRow("nothing to make") << preset("") << QStringLiteral("a preset must produce something");
        QTest::newRow("unknown encoder") << preset(R"(, "video": {"encoder": "libnothing", "pixelFormat": "yuv420p"})")
                                         << QStringLiteral("libnothing");
        QTest::newRow("audio encoder as video") << preset(R"(, "video": {"encoder": "aac", "pixelFormat": "yuv420p"})")
                                                << QStringLiteral("not a video encoder");
        QTest::newRow("bad pixel format")
            << preset(R"(, "video": {"encoder": "libx264", "pixelFormat": "yuv999p"})") << QStringLiteral("yuv999p");
        QTest::newRow("pixel format the encoder lacks")
            << preset(R"(, "video": {"encoder": "libx264", "pixelFormat": "rgb24"})")
            << QStringLiteral("cannot encode rgb24");
        QTest::newRow("unknown option") << preset(
            R"(, "video": {"encoder": "libx264", "pixelFormat": "yuv420p", "options": {"turbo": "1"}})")
                                        << QStringLiteral("video.options.turbo");
        QTest::newRow("quality out of its range") << preset(
            R"(, "video": {"encoder": "libx264", "pixelFormat": "yuv420p", "quality": {"option": "crf", "value": 80, "min": 0, "max": 51}})")
                                                  << QStringLiteral("video.quality.value");
        QTest::newRow("wrong type") << preset(R"(, "audio": {"encoder": "aac", "sampleRate": "fast", "channels": 2})")
                                    << QStringLiteral("audio.sampleRate");
        QTest::newRow("unsupported sample rate")
            << preset(R"(, "audio": {"encoder": "libopus", "sampleRate": 44100, "channels": 2})")
            << QStringLiteral("44100");
        QTest::newRow("codec the container cannot hold") << QByteArray(
            R"({"name": "x", "label": "X", "description": "d", "container": {"format": "webm", "extension": "webm", "mimeType": "video/webm"}, "audio": {"encoder": "aac", "sampleRate": 48000, "channels": 2}})")
                                                         << QStringLiteral("cannot be stored in the webm container");
        QTest::newRow("faststart outside mp4") << QByteArray(
            R"({"name": "x", "label": "X", "description": "d", "container": {"format": "webm", "extension": "webm", "mimeType": "video/webm", "faststart": true}, "audio": {"encoder": "libopus", "sampleRate": 48000, "channels": 2}})")
                                               << QStringLiteral("faststart");
        QTest::newRow("unknown container") << QByteArray(
            R"({"name": "x", "label": "X", "description": "d", "container": {"format": "nothing", "extension": "x", "mimeType": "video/x"}})")
                                           << QStringLiteral("container.format");
    }

    void brokenPresetFiles()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, mentions);
        const QString message = parseError(json.constData());
        QVERIFY2(!message.isEmpty(), "a broken preset must be an error");
        QVERIFY2(message.contains(QStringLiteral("test.json")), qPrintable(message));
        QVERIFY2(message.contains(mentions), qPrintable(message));
    }

    void minimalValidPreset()
    {
        auto parsed = parsePreset(R"({"name": "tiny", "label": "T", "description": "d",
            "container": {"format": "mp4", "extension": "mp4", "mimeType": "video/mp4", "faststart": true},
            "video": {"encoder": "libx264", "pixelFormat": "yuv420p", "keyframeInterval": 1,
                      "quality": {"option": "crf", "value": 20, "min": 0, "max": 51},
                      "options": {"preset": "ultrafast", "bf": 0}, "maxSize": {"longSide": 1280}}})",
                                  QStringLiteral("tiny.json"));
        const Preset *p = std::get_if<Preset>(&parsed);
        QVERIFY2(p, std::holds_alternative<Error>(parsed) ? qPrintable(std::get<Error>(parsed).message) : "");
        QCOMPARE(p->video->maxLongSide, 1280);
        QCOMPARE(p->video->maxShortSide, 0);
        QCOMPARE(p->video->options.value(QStringLiteral("bf")), QStringLiteral("0"));
        QCOMPARE(*p->video->quality, 20.0);
        QVERIFY(!p->audio);
    }
};

QTEST_GUILESS_MAIN(TestPresets)
#include "tst_presets.moc"
