// Output names (lib/media/outputfile_p.h): reservations, the partial files that hold them, what a
// dead writer's partial file means (nothing: it is stale), and a commit that never replaces a
// file that took the name meanwhile.

#include "media/operation.h"
#include "media/outputfile_p.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

using namespace clipdeck::media;

namespace {

QStringList filesIn(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System, QDir::Name);
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

OutputFile reserved(const QString &dir, const QString &base, const QString &suffix)
{
    auto r = OutputFile::reserve(dir, base, suffix);
    if (const Error *e = ff::errorOf(r))
        qFatal("reserve failed: %s", qPrintable(e->message));
    return std::move(std::get<OutputFile>(r));
}

} // namespace

class TestOutputFile : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    QString dir() const { return m_dir->path(); }
    QString path(const QString &name) const { return m_dir->filePath(name); }

private slots:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void reservesTheFirstFreeName()
    {
        OutputFile a = reserved(dir(), QStringLiteral("clip"), QStringLiteral(".mp4"));
        QCOMPARE(a.finalPath(), path(QStringLiteral("clip.mp4")));
        QCOMPARE(a.temporaryPath(), path(QStringLiteral(".clip.partial.mp4")));
        // Held by a live writer (a): the next one moves on.
        OutputFile b = reserved(dir(), QStringLiteral("clip"), QStringLiteral(".mp4"));
        QCOMPARE(b.finalPath(), path(QStringLiteral("clip-2.mp4")));
        QVERIFY(writeFile(a.temporaryPath(), "a"));
        QVERIFY(!a.commit());
        QCOMPARE(readFile(path(QStringLiteral("clip.mp4"))), QByteArray("a"));
    }

    // What a process killed mid-write leaves: the partial file, nobody holding it. It holds no
    // name: the next reservation takes the name, and the dead file's bytes are gone.
    void aStalePartialHoldsNoName()
    {
        QVERIFY(writeFile(path(QStringLiteral(".clip.partial.mp4")), "half an encode"));
        OutputFile file = reserved(dir(), QStringLiteral("clip"), QStringLiteral(".mp4"));
        QCOMPARE(file.finalPath(), path(QStringLiteral("clip.mp4")));
        QCOMPARE(readFile(file.temporaryPath()), QByteArray());
        QCOMPARE(filesIn(dir()), QStringList{QStringLiteral(".clip.partial.mp4")});

        // A set too: the stale file under its first stem does not push it to clip-2.
        QVERIFY(writeFile(path(QStringLiteral(".shot.thumb-01.partial.jpg")), "x"));
        OutputSet set(dir(), QStringLiteral("shot"));
        QVERIFY(!ff::errorOf(set.reserve(QStringLiteral(".contact.jpg"), QStringLiteral("contact_sheet"), {})));
        QVERIFY(!ff::errorOf(set.reserve(QStringLiteral(".thumb-01.jpg"), QStringLiteral("thumbnail"), {})));
        QCOMPARE(set.file(1).finalPath(), path(QStringLiteral("shot.thumb-01.jpg")));
    }

    // A partial file whose writer lives in another process (it holds the lock, as the
    // operations do) keeps its name, and removeStalePartials leaves it alone.
    void aLivePartialInAnotherProcessKeepsItsName()
    {
        const QString flock = QStandardPaths::findExecutable(QStringLiteral("flock"));
        QVERIFY2(!flock.isEmpty(), "flock(1) from util-linux is needed");
        const QString held = path(QStringLiteral(".clip.partial.mp4"));
        QVERIFY(writeFile(held, "being written"));
        // One process, start to end (exec): its death drops the lock, as a killed job's does.
        QProcess writer;
        writer.start(QStringLiteral("sh"),
                     {QStringLiteral("-c"),
                      QStringLiteral("exec 9<\"$1\" && \"$2\" --exclusive 9 && echo locked && exec sleep 600"),
                      QStringLiteral("sh"), held, flock});
        QVERIFY(writer.waitForReadyRead(30000));
        QCOMPARE(writer.readAll().trimmed(), QByteArray("locked"));

        OutputFile file = reserved(dir(), QStringLiteral("clip"), QStringLiteral(".mp4"));
        QCOMPARE(file.finalPath(), path(QStringLiteral("clip-2.mp4")));
        QCOMPARE(removeStalePartials(dir(), {QStringLiteral("clip")}), QStringList());
        QCOMPARE(readFile(held), QByteArray("being written"));

        writer.kill(); // the writer dies: its file is stale now
        writer.waitForFinished();
        QCOMPARE(removeStalePartials(dir(), {QStringLiteral("clip")}), QStringList{held});
        QVERIFY(QFileInfo::exists(file.temporaryPath())); // ours, alive
    }

    void removeStalePartialsTakesOnlyTheGivenNames()
    {
        const QStringList stale{QStringLiteral(".clip.partial.mp4"), QStringLiteral(".clip-2.partial.mp4"),
                                QStringLiteral(".clip.contact.partial.jpg"),
                                QStringLiteral(".clip-3.scene-001.partial.jpg")};
        const QStringList kept{QStringLiteral("clip.mp4"),           QStringLiteral(".clipboard.partial.mp4"),
                               QStringLiteral(".other.partial.mp4"), QStringLiteral("clip.partial.mp4"),
                               QStringLiteral(".clip.mp4"),          QStringLiteral(".clip-x.partial.mp4")};
        for (const QString &name : stale + kept)
            QVERIFY(writeFile(path(name), "x"));
        OutputFile live = reserved(dir(), QStringLiteral("clip"), QStringLiteral(".waveform.json"));
        QStringList removed = removeStalePartials(dir(), {QStringLiteral("clip")});
        removed.sort();
        QStringList expected;
        for (const QString &name : stale)
            expected.append(path(name));
        expected.sort();
        QCOMPARE(removed, expected);
        QStringList left = kept;
        left.append(QStringLiteral(".clip.waveform.partial.json"));
        left.sort();
        QCOMPARE(filesIn(dir()), left);
    }

    // A set that moves to the next stem keeps holding its files (the lock follows the file).
    void aSetKeepsItsLocksWhenItMovesStem()
    {
        OutputSet set(dir(), QStringLiteral("clip"));
        QVERIFY(!ff::errorOf(set.reserve(QStringLiteral(".scenes.json"), QStringLiteral("scenes"), {})));
        QVERIFY(writeFile(set.file(0).temporaryPath(), "scenes so far"));
        QVERIFY(writeFile(path(QStringLiteral("clip.scene-001.jpg")), "the user's"));
        QVERIFY(!ff::errorOf(set.reserve(QStringLiteral(".scene-001.jpg"), QStringLiteral("thumbnail"), {})));
        QCOMPARE(set.file(0).finalPath(), path(QStringLiteral("clip-2.scenes.json")));
        QCOMPARE(readFile(set.file(0).temporaryPath()), QByteArray("scenes so far"));
        QCOMPARE(removeStalePartials(dir(), {QStringLiteral("clip")}), QStringList());
        const auto committed = set.commit();
        QVERIFY(!ff::errorOf(committed));
        QCOMPARE(filesIn(dir()),
                 (QStringList{QStringLiteral("clip-2.scene-001.jpg"), QStringLiteral("clip-2.scenes.json"),
                              QStringLiteral("clip.scene-001.jpg")}));
    }

    // A file that takes the final name while the output is written is the user's: never replaced.
    void commitNeverReplacesAFileThatAppeared()
    {
        {
            OutputFile file = reserved(dir(), QStringLiteral("clip"), QStringLiteral(".mp4"));
            QVERIFY(writeFile(file.temporaryPath(), "ours"));
            QVERIFY(writeFile(path(QStringLiteral("clip.mp4")), "the user's"));
            const auto error = file.commit();
            QVERIFY(error);
            QCOMPARE(error->code, QString(errors::OutputExists));
            QVERIFY2(error->message.contains(QStringLiteral("clip.mp4")), qPrintable(error->message));
        }
        QCOMPARE(readFile(path(QStringLiteral("clip.mp4"))), QByteArray("the user's"));
        QCOMPARE(filesIn(dir()), QStringList{QStringLiteral("clip.mp4")}); // and no partial left

        // All or nothing for a set.
        OutputSet set(dir(), QStringLiteral("shot"));
        QVERIFY(!ff::errorOf(set.reserve(QStringLiteral(".scenes.json"), QStringLiteral("scenes"), {})));
        QVERIFY(!ff::errorOf(set.reserve(QStringLiteral(".scene-001.jpg"), QStringLiteral("thumbnail"), {})));
        QVERIFY(writeFile(path(QStringLiteral("shot.scenes.json")), "the user's"));
        const auto committed = set.commit();
        QVERIFY(ff::errorOf(committed));
        QCOMPARE(ff::errorOf(committed)->code, QString(errors::OutputExists));
        QCOMPARE(readFile(path(QStringLiteral("shot.scenes.json"))), QByteArray("the user's"));
        QVERIFY(!QFileInfo::exists(path(QStringLiteral("shot.scene-001.jpg"))));
    }
};

QTEST_GUILESS_MAIN(TestOutputFile)
#include "tst_outputfile.moc"
