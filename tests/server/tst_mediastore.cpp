// MediaStore (upload names, partial files, commit, ownership) and JobOwners (the claim that
// gives a job's first event its owner).

#include "server/database.h"
#include "server/jobowners.h"
#include "server/mediastore.h"

#include <QDir>
#include <QDirIterator>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace clipdeck::server;
using namespace Qt::StringLiterals;

namespace {

// Every file and folder under dir, relative to it, sorted.
QStringList tree(const QString &dir)
{
    QStringList all;
    QDirIterator it(dir, QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        all.append(QDir(dir).relativeFilePath(it.next()));
    all.sort();
    return all;
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

} // namespace

class tst_MediaStore : public QObject
{
    Q_OBJECT

private slots:
    void cleanName_data();
    void cleanName();
    void safeFileName_data();
    void safeFileName();
    void uploadCommit();
    void sameNameTwice();
    void abandonedUploadLeavesNothing();
    void oldLayoutStillRead();
    void removeMedia();
    void withoutServerPath();
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

void tst_MediaStore::safeFileName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << u"clip.mp4"_s << u"clip.mp4"_s;
    QTest::newRow("spaces, upper-case extension") << u"My Clip.MOV"_s << u"My Clip.mov"_s;
    QTest::newRow("unicode") << u"Szene 1 — Größe.mov"_s << u"Szene 1 — Größe.mov"_s;
    QTest::newRow("emoji with joiner") << u"🧑\u200D💻 demo.mp4"_s << u"🧑\u200D💻 demo.mp4"_s;
    QTest::newRow("dots in the base") << u"take.2.final.mp4"_s << u"take.2.final.mp4"_s;
    QTest::newRow("double extension") << u"archive.tar.gz"_s << u"archive.tar.gz"_s;
    QTest::newRow("no extension") << u"README"_s << u"README"_s;
    QTest::newRow("unusable extension dropped") << u"clip.$(rm -rf)"_s << u"clip"_s;
    QTest::newRow("unusable extension, dotted base") << u"v1.2 final"_s << u"v1"_s;
    QTest::newRow("unusable extension, dots kept out") << u"a.b.c d"_s << u"a_b"_s;
    QTest::newRow("leading dots") << u"..hidden.mp4"_s << u"hidden.mp4"_s;
    QTest::newRow("dot file") << u".bashrc"_s << u"bashrc"_s;
    QTest::newRow("only an extension") << u"..mp4"_s << u"media.mp4"_s;
    QTest::newRow("leading and trailing spaces and dots") << u" . clip . .mp4"_s << u"clip.mp4"_s;
    QTest::newRow("separators") << u"a/b\\c.mp4"_s << u"a_b_c.mp4"_s;
    QTest::newRow("control characters") << u"a"_s + QChar(0x01) + u"b"_s + QChar(0x7F) + u"c.mp4"_s << u"abc.mp4"_s;
    QTest::newRow("bidi override") << u"clip"_s + QChar(0x202E) + u"gpj.exe"_s << u"clipgpj.exe"_s;
    QTest::newRow("line separator") << u"a"_s + QChar(0x2028) + u"b.mp4"_s << u"ab.mp4"_s;
    QTest::newRow("nothing left") << QString(QChar(0x202E)) + u".mp4"_s << u"media.mp4"_s;
    // Names of dots alone: nothing is left of them (never "__").
    QTest::newRow("three dots") << u"..."_s << u"media"_s;
    QTest::newRow("four dots") << u"...."_s << u"media"_s;
    QTest::newRow("dots and spaces") << u". . ."_s << u"media"_s;
    QTest::newRow("dots around, unusable extension") << u"..a.b c"_s << u"a"_s;
    QTest::newRow("trailing dot") << u"clip."_s << u"clip"_s;
    QTest::newRow("long ascii") << QString(300, u'n') + u".mp4"_s
                                << QString(MediaStore::MaxBaseBytes, u'n') + u".mp4"_s;
    // 3-byte characters: 40 of them are 120 bytes; the 41st would pass the cap.
    QTest::newRow("long, never half a character") << QString(50, u'€') + u".mp4"_s << QString(40, u'€') + u".mp4"_s;
    QTest::newRow("long, surrogate pairs whole") << QString(u"😀"_s).repeated(40) << QString(u"😀"_s).repeated(30);
}

void tst_MediaStore::safeFileName()
{
    QFETCH(QString, name);
    QFETCH(QString, expected);
    const QString safe = MediaStore::safeFileName(name);
    QCOMPARE(safe, expected);
    QVERIFY(safe.toUtf8().size() <= MediaStore::MaxBaseBytes + 11);
    // The engine names outputs after QFileInfo::completeBaseName(): the stored file's is the
    // whole safe base.
    const QString base = QFileInfo(safe).suffix().isEmpty() ? safe : QFileInfo(safe).completeBaseName();
    QVERIFY(!base.isEmpty());
    QVERIFY(!base.startsWith(u'.'));
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
    auto committed = store.commit(
        *upload, QJsonObject{{QStringLiteral("path"), QStringLiteral("/secret")}, {QStringLiteral("x"), 1}});
    QVERIFY(std::holds_alternative<MediaRecord>(committed));
    const MediaRecord r = std::get<MediaRecord>(committed);
    QCOMPARE(r.file, r.id + u"/My Clip.mov"_s); // a folder per media, the file named after the upload
    QCOMPARE(QFileInfo(store.pathOf(r)).completeBaseName(), u"My Clip"_s);
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
    QCOMPARE(store.idForPath(QFileInfo(store.pathOf(r)).absoluteFilePath()), std::optional<QString>(r.id));
    QCOMPARE(store.idForPath(QStringLiteral("/elsewhere/") + r.file), std::nullopt);
    QCOMPARE(store.recordForPath(store.pathOf(r))->name, u"My Clip.MOV"_s);
    QCOMPARE(store.recordForPath(QStringLiteral("/elsewhere/") + r.file), std::nullopt);
    QCOMPARE(store.recordForPath(dir.filePath(u"media/"_s) + r.id + u"/other.mov"_s), std::nullopt);
    const QByteArray json = mediaJson(r);
    QVERIFY(json.contains("\"sha256\":\"b94d27b9"));
    QVERIFY(json.contains("\"probe\":{\"x\":1}"));
}

void tst_MediaStore::sameNameTwice()
{
    QTemporaryDir dir;
    Database db;
    QVERIFY(db.open(dir.filePath(u"s.sqlite"_s)));
    MediaStore store(db, dir.filePath(u"media"_s));
    QString error;
    QVERIFY(store.open(&error));
    QStringList paths;
    for (const QByteArray &content : {QByteArray("one"), QByteArray("two")}) {
        auto upload = store.beginUpload(u"alice"_s, u"clip.mp4"_s, &error);
        QVERIFY(upload->write(content));
        QVERIFY(upload->finish());
        auto committed = store.commit(*upload, {});
        QVERIFY(std::holds_alternative<MediaRecord>(committed));
        paths.append(store.pathOf(std::get<MediaRecord>(committed)));
    }
    QVERIFY(paths.at(0) != paths.at(1));
    for (const QString &path : paths)
        QCOMPARE(QFileInfo(path).fileName(), u"clip.mp4"_s);
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
    QCOMPARE(tree(dir.filePath(QStringLiteral("media"))), QStringList());
    QCOMPARE(store.list(QStringLiteral("alice")).size(), 0);
}

// Media stored by earlier versions: media/<id>.<ext>, the record's file "<id>.<ext>".
void tst_MediaStore::oldLayoutStillRead()
{
    QTemporaryDir dir;
    Database db;
    QVERIFY(db.open(dir.filePath(u"s.sqlite"_s)));
    MediaStore store(db, dir.filePath(u"media"_s));
    QString error;
    QVERIFY(store.open(&error));
    const QString id = u"0b5e6c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b"_s;
    QVERIFY(writeFile(dir.filePath(u"media/"_s) + id + u".mp4"_s, "old bytes"));
    QSqlQuery q(db.handle());
    q.prepare(
        u"INSERT INTO media (id, owner, name, file, size, sha256, probe, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"_s);
    for (const QVariant &v :
         {QVariant(id), QVariant(u"alice"_s), QVariant(u"Old Clip.mp4"_s), QVariant(id + u".mp4"_s), QVariant(9),
          QVariant(u"ab"_s), QVariant(u"{}"_s), QVariant(u"2025-01-01T00:00:00.000Z"_s)})
        q.addBindValue(v);
    QVERIFY(q.exec());

    const auto record = store.find(u"alice"_s, id);
    QVERIFY(record);
    QCOMPARE(store.pathOf(*record), dir.filePath(u"media/"_s) + id + u".mp4"_s);
    QVERIFY(QFile::exists(store.pathOf(*record)));
    QCOMPARE(store.idForPath(store.pathOf(*record)), std::optional<QString>(id));
    QCOMPARE(store.recordForPath(store.pathOf(*record))->name, u"Old Clip.mp4"_s);
    QCOMPARE(
        store.withoutServerPath(u"The file "_s + id + u".mp4 cannot be read."_s, store.pathOf(*record), record->name),
        u"The file Old Clip.mp4 cannot be read."_s);
    QVERIFY(!store.remove(*record));
    QCOMPARE(tree(dir.filePath(u"media"_s)), QStringList());
    QCOMPARE(store.find(u"alice"_s, id), std::nullopt);
}

void tst_MediaStore::removeMedia()
{
    QTemporaryDir dir;
    Database db;
    QVERIFY(db.open(dir.filePath(u"s.sqlite"_s)));
    MediaStore store(db, dir.filePath(u"media"_s));
    QString error;
    QVERIFY(store.open(&error));
    MediaRecord kept;
    for (const QString &name : {u"gone.mp4"_s, u"kept.mp4"_s}) {
        auto upload = store.beginUpload(u"alice"_s, name, &error);
        QVERIFY(upload->write("bytes"));
        QVERIFY(upload->finish());
        auto committed = store.commit(*upload, {});
        QVERIFY(std::holds_alternative<MediaRecord>(committed));
        kept = std::get<MediaRecord>(committed);
        if (name == u"gone.mp4") {
            QVERIFY(!store.remove(kept));
            QCOMPARE(store.find(u"alice"_s, kept.id), std::nullopt);
            QVERIFY(!QFileInfo::exists(dir.filePath(u"media/"_s) + kept.id));
        }
    }
    // Only the removed media's folder went.
    QCOMPARE(tree(dir.filePath(u"media"_s)), (QStringList{kept.id, kept.file}));
    QCOMPARE(store.list(u"alice"_s).size(), 1);
}

void tst_MediaStore::withoutServerPath()
{
    QTemporaryDir dir;
    Database db;
    QVERIFY(db.open(dir.filePath(u"s.sqlite"_s)));
    MediaStore store(db, dir.filePath(u"media"_s));
    const QString part = dir.filePath(u"media/be5192c8-aaaa-bbbb-cccc-0123456789ab.part"_s);
    // FFmpeg's messages name the file, the engine's the whole path.
    QCOMPARE(store.withoutServerPath(
                 u"be5192c8-aaaa-bbbb-cccc-0123456789ab.part is not a video or audio file FFmpeg can read."_s, part,
                 u"notes.mp4"_s),
             u"notes.mp4 is not a video or audio file FFmpeg can read."_s);
    QCOMPARE(store.withoutServerPath(u"The input file “"_s + part + u"” does not exist."_s, part, u"notes.mp4"_s),
             u"The input file “notes.mp4” does not exist."_s);
    // A short stored name is replaced where it stands alone, never inside words.
    QCOMPARE(store.withoutServerPath(u"The file a cannot be read: a.b"_s, dir.filePath(u"media/x/a"_s), u"..a"_s),
             u"The file ..a cannot be read: ..a.b"_s);
    // Anything else under the media folder loses the folder's location.
    const QString message =
        store.withoutServerPath(u"Cannot read "_s + dir.filePath(u"media/x/y.mp4"_s), part, u"notes.mp4"_s);
    QCOMPARE(message, u"Cannot read media/x/y.mp4"_s);
    QVERIFY(!message.contains(dir.path()));
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
    QCOMPARE(QDir(dir.filePath(QStringLiteral("media"))).entryList(QDir::Files),
             QStringList{QStringLiteral("keep.mp4")});
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
