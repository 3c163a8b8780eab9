// What every operation gets when it opens its input (lib/media/ffmpeg.cpp, ff::openInput and
// ff::openDecoder): a path that is not a regular readable file is refused before FFmpeg opens it
// (a FIFO would block, /dev/zero never end), each with its own code; and media over the limits
// (media::Limits) is refused with media_too_large or too_many_streams, in a sentence naming the
// limit's option — by probe and by every operation, from the header, before decoding.

#include "media/operation.h"
#include "media/probe.h"

#include "mediafixtures.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <thread>

#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace clipdeck::media;
using namespace Qt::StringLiterals;

namespace {

class PassingControl : public Control
{
public:
    bool checkpoint(const Progress &) override { return true; }
};

Result runKind(const QString &kind, const QString &input, const QString &outputDir, const Limits &limits = {},
               const QVariantMap &params = {})
{
    const OperationSpec *spec = findOperation(kind);
    if (!spec)
        return Result{Error{QStringLiteral("test"), QStringLiteral("no operation %1").arg(kind)}, {}};
    Request request;
    request.inputPath = input;
    request.outputDir = outputDir;
    request.baseName = QStringLiteral("out");
    request.params = params;
    request.limits = limits;
    PassingControl control;
    return spec->run(request, control);
}

QString codeOf(const std::variant<MediaInfo, Error> &probed)
{
    const auto *e = std::get_if<Error>(&probed);
    return e ? e->code : QStringLiteral("(probed)");
}

QString messageOf(const std::variant<MediaInfo, Error> &probed)
{
    const auto *e = std::get_if<Error>(&probed);
    return e ? e->message : QString();
}

// Runs f on a thread whose file-system user is nobody. Root (as tests run here and in CI) reads
// any file whatever its mode; a thread's fsuid changed from 0 loses CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH (capabilities(7)), so a mode-000 file is unreadable to it, as to any user.
template <typename F>
auto asUnprivileged(F f)
{
    decltype(f()) result{};
    std::thread thread([&] {
        if (::geteuid() == 0)
            ::setfsuid(65534);
        result = f();
    });
    thread.join();
    return result;
}

} // namespace

class tst_InputLimits : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // Traversable by anyone: only the file itself is to be unreadable.
        QVERIFY(QFile::setPermissions(m_dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                                        | QFile::ReadOther | QFile::ExeOther | QFile::ReadGroup
                                                        | QFile::ExeGroup));
        m_fifo = m_dir.filePath(QStringLiteral("pipe.mp4"));
        QCOMPARE(::mkfifo(QFile::encodeName(m_fifo).constData(), 0644), 0);
        m_folder = m_dir.filePath(QStringLiteral("folder.mp4"));
        QVERIFY(QDir().mkpath(m_folder));
        m_unreadable = m_dir.filePath(QStringLiteral("locked.mp4"));
        QVERIFY(QFile::copy(fixtures::basicClip(4.0), m_unreadable));
        QVERIFY(QFile::setPermissions(m_unreadable, {}));
        const int fd = asUnprivileged([&] { return ::open(QFile::encodeName(m_unreadable).constData(), O_RDONLY); });
        if (fd >= 0)
            ::close(fd);
        QVERIFY2(fd < 0, "a mode-000 file is still readable to an unprivileged thread here");
    }

    void paths_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("says");
        QTest::newRow("missing") << QStringLiteral("/nonexistent/clip.mp4") << QString(errors::FileNotFound)
                                 << QStringLiteral("does not exist");
        QTest::newRow("folder") << m_folder << QString(errors::IsDirectory) << QStringLiteral("is a folder");
        QTest::newRow("fifo") << m_fifo << QString(errors::IsPipe) << QStringLiteral("named pipe");
        QTest::newRow("/dev/zero") << QStringLiteral("/dev/zero") << QString(errors::IsDevice)
                                   << QStringLiteral("is a device");
        QTest::newRow("unreadable") << m_unreadable << QString(errors::PermissionDenied)
                                    << QStringLiteral("may not be read");
    }

    // Each its own code and sentence, from probe and from every operation, and nothing blocks.
    void paths()
    {
        QFETCH(QString, path);
        QFETCH(QString, code);
        QFETCH(QString, says);
        const auto probed = asUnprivileged([&] { return probe(path); });
        QCOMPARE(codeOf(probed), code);
        QVERIFY2(messageOf(probed).contains(says), qPrintable(messageOf(probed)));
        QVERIFY2(messageOf(probed).contains(path), qPrintable(messageOf(probed)));
        for (const OperationSpec &op : operations()) {
            QTemporaryDir out;
            const Result r = asUnprivileged([&] { return runKind(op.kind, path, out.path()); });
            QVERIFY2(r.error, qPrintable(op.kind));
            QVERIFY2(r.error->code == code, qPrintable(op.kind + u": "_s + r.error->code + u' ' + r.error->message));
            QVERIFY(QDir(out.path()).isEmpty());
        }
    }

    // 500 streams: refused from the header, before the stream info opens 500 decoders.
    void tooManyStreams()
    {
        const QString many = fixtures::manyStreamsClip(500);
        QVERIFY(!many.isEmpty());
        const auto probed = probe(many);
        QCOMPARE(codeOf(probed), QString(errors::TooManyStreams));
        QVERIFY2(messageOf(probed).contains(QStringLiteral("500 streams")), qPrintable(messageOf(probed)));
        QVERIFY2(messageOf(probed).contains(QStringLiteral("at most 64")), qPrintable(messageOf(probed)));
        QVERIFY2(messageOf(probed).contains(limitOption::MaxStreams), qPrintable(messageOf(probed)));
        for (const OperationSpec &op : operations()) {
            QTemporaryDir out;
            const Result r = runKind(op.kind, many, out.path());
            QVERIFY2(r.error && r.error->code == errors::TooManyStreams, qPrintable(op.kind));
        }
        // The option moves the limit.
        Limits more;
        more.maxStreams = 500;
        QCOMPARE(codeOf(probe(many, more)), QStringLiteral("(probed)"));
        more.maxStreams = 499;
        QCOMPARE(codeOf(probe(many, more)), QString(errors::TooManyStreams));
    }

    // 10000×10000 in a raw H.264 stream (no container header: the size comes from parsing it).
    void pictureTooLarge()
    {
        const QString huge = fixtures::hugePictureClip();
        QVERIFY(!huge.isEmpty());
        const auto probed = probe(huge);
        QCOMPARE(codeOf(probed), QString(errors::MediaTooLarge));
        QVERIFY2(messageOf(probed).contains(QStringLiteral("10000×10000")), qPrintable(messageOf(probed)));
        QVERIFY2(messageOf(probed).contains(limitOption::MaxFramePixels), qPrintable(messageOf(probed)));
        for (const OperationSpec &op : operations()) {
            QTemporaryDir out;
            const Result r = runKind(op.kind, huge, out.path());
            // waveform: no audio is found first or the picture is refused: either, but no decode.
            QVERIFY2(r.error, qPrintable(op.kind));
            QVERIFY2(r.error->code == errors::MediaTooLarge, qPrintable(op.kind + u": "_s + r.error->code));
        }
        Limits larger;
        larger.maxFramePixels = qint64(10000) * 10000;
        QCOMPARE(codeOf(probe(huge, larger)), QStringLiteral("(probed)"));
    }

    // The memory budget, with each operation's own parameters: what it would hold, before it
    // decodes anything.
    void memoryBudget_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QVariantMap>("params");
        QTest::addColumn<qint64>("budget");
        // 640×360: 345,600 bytes a picture, 16 reference pictures: 5.5 MB before any thread.
        QTest::newRow("transcode") << QStringLiteral("transcode") << QVariantMap() << qint64(4 << 20);
        QTest::newRow("thumbnails") << QStringLiteral("thumbnails") << QVariantMap() << qint64(4 << 20);
        QTest::newRow("scenes") << QStringLiteral("scenes") << QVariantMap() << qint64(4 << 20);
        // Peaks: 4 s × 1000 buckets × 2 channels × 32 bytes = 256 KB.
        QTest::newRow("waveform") << QStringLiteral("waveform")
                                  << QVariantMap{{QStringLiteral("bucketsPerSecond"), 1000}} << qint64(100 << 10);
    }

    void memoryBudget()
    {
        QFETCH(QString, kind);
        QFETCH(QVariantMap, params);
        QFETCH(qint64, budget);
        Limits tight;
        tight.memoryBudgetBytes = budget;
        QTemporaryDir out;
        const Result refused = runKind(kind, fixtures::basicClip(4.0), out.path(), tight, params);
        QVERIFY(refused.error);
        QCOMPARE(refused.error->code, QString(errors::MediaTooLarge));
        QVERIFY2(refused.error->message.contains(limitOption::MemoryBudget), qPrintable(refused.error->message));
        QVERIFY(QDir(out.path()).isEmpty());
        // The probe decodes nothing of its own: the budget is the operations'.
        QCOMPARE(codeOf(probe(fixtures::basicClip(4.0), tight)), QStringLiteral("(probed)"));
        const Result ran = runKind(kind, fixtures::basicClip(4.0), out.path(), Limits(), params);
        QVERIFY2(!ran.error, ran.error ? qPrintable(ran.error->message) : "");
    }

    // A width asked of a picture of extreme shape: the other side follows, far past the limit.
    void transcodeOutputSize()
    {
        QTemporaryDir out;
        const Result r = runKind(QStringLiteral("transcode"), fixtures::needleClip(), out.path(), Limits(),
                                 {{QStringLiteral("width"), 8192}});
        QVERIFY(r.error);
        QCOMPARE(r.error->code, QString(errors::MediaTooLarge));
        QVERIFY2(r.error->message.contains(limitOption::MaxFramePixels), qPrintable(r.error->message));
        QVERIFY(QDir(out.path()).isEmpty());
    }

    void optionValues()
    {
        QCOMPARE(parsePixelCount(QStringLiteral("7680x4320")), std::optional<qint64>(qint64(7680) * 4320));
        QCOMPARE(parsePixelCount(QStringLiteral(" 8192 × 4320 ")), std::optional<qint64>(qint64(8192) * 4320));
        QCOMPARE(parsePixelCount(QStringLiteral("35389440")), std::optional<qint64>(35389440));
        QCOMPARE(parsePixelCount(QStringLiteral("0")), std::nullopt);
        QCOMPARE(parsePixelCount(QStringLiteral("8k")), std::nullopt);
        QCOMPARE(parseByteCount(QStringLiteral("2GiB")), std::optional<qint64>(qint64(2) << 30));
        QCOMPARE(parseByteCount(QStringLiteral("512M")), std::optional<qint64>(512000000));
        QCOMPARE(parseByteCount(QStringLiteral("lots")), std::nullopt);
    }

private:
    QTemporaryDir m_dir;
    QString m_fifo;
    QString m_folder;
    QString m_unreadable;
};

QTEST_GUILESS_MAIN(tst_InputLimits)
#include "tst_inputlimits.moc"
