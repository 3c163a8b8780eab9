// MediaStore (upload names, partial files, commit, ownership) and JobOwners (the claim that
// gives a job's first event its owner).

#include "server/database.h"
#include "server/jobowners.h"
#include "server/mediastore.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

using namespace clipdeck::server;

class tst_MediaStore : public QObject
{
    Q_OBJECT

private slots:
    void cleanName_data();
    void cleanName();
    void uploadCommit();
    void abandonedUploadLeavesNothing();
    void leftoverPartFilesRemovedOnOpen();
    void jobOwnersClaim();
};

void tst_MediaStore::cleanName_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("expected"); // empty: refused
    QTest::newRow("plain") << QByteArray("clip.mp4") << "clip.mp4";
    QTest::newRow("unicode") << QByteArray("Szene 1 — Größe.mov") << QString::fromUtf8("Szene 1 — Größe.mov");
    QTest::newRow("unix path") << QByteArray("../../etc/passwd") << "passwd";
    QTest::newRow("windows fakepath") << QByteArray("C:\\fakepath\\clip.mp4") << "clip.mp4";
    QTest::newRow("trailing slash") << QByteArray("dir/") << "";
    QTest::newRow("dot dot") << QByteArray("..") << "";
    QTest::newRow("empty") << QByteArray("") << "";
    QTest::newRow("control") << QByteArray("a\x01.mp4") << "";
    QTest::newRow("newline") << QByteArray("a\nb.mp4") << "";
    QTest::newRow("invalid utf-8") << QByteArray("a\xff.mp4") << "";
    QTest::newRow("too long") << QByteArray(256, 'n') << "";
}

void tst_MediaStore::cleanName()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, expected);
    QString why;
    const auto name = MediaStore::cleanName(raw, &why);
    if (expected.isEmpty()) {
        QVERIFY(!name);
        QVERIFY(!why.isEmpty());
    } else {
        QCOMPARE(name.value_or(QString()), expected);
    }
}

void tst_MediaStore::uploadCommit()
{
    QTemporaryDir dir;
    Database db;
    QVERIFY2(db.open(dir.filePath(QStringLiteral("s.sqlite"))), qPrintable(db.errorString()));
    MediaStore store(db, dir.filePath(QStringLiteral("media")));
    QString error;
    QVERIFY(store.open(&error));
    auto upload = store.beginUpload(QStringLiteral("alice"), QStringLiteral("My Clip.MOV"), &error);
    QVERIFY2(upload, qPrintable(error));
    QVERIFY(QFileInfo(upload->partPath()).fileName().endsWith(QStringLiteral(".part")));
    QVERIFY(upload->write("hello "));
    QVERIFY(upload->write("world"));
    QVERIFY(upload->finish());
    QCOMPARE(upload->size(), 11);
    QCOMPARE(upload->sha256Hex(), QByteArray("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"));
    auto committed = store.commit(*upload, QJsonObject{{QStringLiteral("path"), QStringLiteral("/secret")}, {QStringLiteral("x"), 1}});
    QVERIFY(std::holds_alternative<MediaRecord>(committed));
    const MediaRecord r = std::get<MediaRecord>(committed);
    QCOMPARE(r.file, r.id + QStringLiteral(".mov"));
    QCOMPARE(r.name, QStringLiteral("My Clip.MOV"));
    QVERIFY(!r.probe.contains("secret"));
    upload.reset(); // committed: the file stays
    QVERIFY(QFile::exists(store.pathOf(r)));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("media/")) + r.id + QStringLiteral(".part")));

    QCOMPARE(store.find(QStringLiteral("alice"), r.id)->sha256, r.sha256);
    QCOMPARE(store.find(QStringLiteral("bob"), r.id), std::nullopt);
    QCOMPARE(store.list(QStringLiteral("alice")).size(), 1);
    QCOMPARE(store.list(QStringLiteral("bob")).size(), 0);
    QCOMPARE(store.idForPath(store.pathOf(r)), std::optional<QString>(r.id));
    QCOMPARE(store.idForPath(QStringLiteral("/elsewhere/") + r.file), std::nullopt);
    const QByteArray json = mediaJson(r);
    QVERIFY(json.contains("\"sha256\":\"b94d27b9"));
    QVERIFY(json.contains("\"probe\":{\"x\":1}"));
}

void tst_MediaStore::abandonedUploadLeavesNothing()
{
    QTemporaryDir dir;
    Database db;
    QVERIFY(db.open(dir.filePath(QStringLiteral("s.sqlite"))));
    MediaStore store(db, dir.filePath(QStringLiteral("media")));
    QString error;
    QVERIFY(store.open(&error));
    {
        auto upload = store.beginUpload(QStringLiteral("alice"), QStringLiteral("a.mp4"), &error);
        QVERIFY(upload->write("partial"));
        QVERIFY(QFile::exists(upload->partPath()));
    }
    QCOMPARE(QDir(dir.filePath(QStringLiteral("media"))).entryList(QDir::Files), QStringList());
    QCOMPARE(store.list(QStringLiteral("alice")).size(), 0);
}

void tst_MediaStore::leftoverPartFilesRemovedOnOpen()
{
    QTemporaryDir dir;
    QDir().mkpath(dir.filePath(QStringLiteral("media")));
    QFile part(dir.filePath(QStringLiteral("media/dead.part")));
    QVERIFY(part.open(QIODevice::WriteOnly));
    part.close();
    QFile kept(dir.filePath(QStringLiteral("media/keep.mp4")));
    QVERIFY(kept.open(QIODevice::WriteOnly));
    kept.close();
    Database db;
    QVERIFY(db.open(dir.filePath(QStringLiteral("s.sqlite"))));
    MediaStore store(db, dir.filePath(QStringLiteral("media")));
    QString error;
    QVERIFY(store.open(&error));
    QCOMPARE(QDir(dir.filePath(QStringLiteral("media"))).entryList(QDir::Files), QStringList{QStringLiteral("keep.mp4")});
}

void tst_MediaStore::jobOwnersClaim()
{
    QTemporaryDir dir;
    Database db;
    QVERIFY(db.open(dir.filePath(QStringLiteral("s.sqlite"))));
    JobOwners owners(db);
    QString error;
    QVERIFY(owners.load(&error));
    QCOMPARE(owners.resolve(QStringLiteral("stray")), std::nullopt); // no claim: nobody's
    {
        const auto claim = owners.claimNext(QStringLiteral("alice"), QStringLiteral("/out/1"));
        // The first unknown job asked about during the claim is the claimant's; only that one.
        QCOMPARE(owners.resolve(QStringLiteral("j1")), std::optional<QString>(QStringLiteral("alice")));
        QCOMPARE(owners.resolve(QStringLiteral("j2")), std::nullopt);
        QCOMPARE(claim->jobId(), QStringLiteral("j1"));
    }
    QCOMPARE(owners.resolve(QStringLiteral("j2")), std::nullopt);
    QCOMPARE(owners.find(QStringLiteral("j1"))->outputDir, QStringLiteral("/out/1"));
    QVERIFY(owners.assign(QStringLiteral("j3"), QStringLiteral("bob"), QStringLiteral("/out/3")));
    // Kept across a reload (a restart).
    JobOwners reloaded(db);
    QVERIFY(reloaded.load(&error));
    QCOMPARE(reloaded.resolve(QStringLiteral("j1")), std::optional<QString>(QStringLiteral("alice")));
    QCOMPARE(reloaded.resolve(QStringLiteral("j3")), std::optional<QString>(QStringLiteral("bob")));
    reloaded.forget(QStringLiteral("j1"));
    JobOwners again(db);
    QVERIFY(again.load(&error));
    QCOMPARE(again.find(QStringLiteral("j1")), std::nullopt);
}

QTEST_APPLESS_MAIN(tst_MediaStore)
#include "tst_mediastore.moc"
