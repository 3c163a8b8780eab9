// libFuzzer target for clipdeck::server::repeatedKey (the duplicate-name check on JSON bodies).
//
// Invariants, checked on every input (a broken one aborts, which libFuzzer reports as a crash):
//   - any input, JSON or not, is read without going past its end (AddressSanitizer watches);
//   - for a JSON object QJsonDocument accepts: the document written back (which holds each name
//     once) has no repeat, and with its first member written twice, that name is the repeat.

#include "server/jsonkeys.h"

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace clipdeck::server;

namespace {

[[noreturn]] void broken(const char *invariant, int line)
{
    std::fprintf(stderr, "fuzz_json_keys: invariant broken (line %d): %s\n", line, invariant);
    std::abort();
}

#define FUZZ_CHECK(condition) \
    do { \
        if (!(condition)) \
            broken(#condition, __LINE__); \
    } while (false)

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // A copy of exactly `size` bytes: ASan catches a read past the end.
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto repeated = repeatedKey(QByteArrayView(input.constData(), input.size()));

    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(input, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return 0;
    FUZZ_CHECK(!repeated || !repeated->isEmpty());
    const QByteArray compact = doc.toJson(QJsonDocument::Compact);
    FUZZ_CHECK(!repeatedKey(compact));
    const QJsonObject object = doc.object();
    if (!object.isEmpty()) {
        const QString first = object.begin().key();
        const QByteArray member = QJsonDocument(QJsonObject{{first, 0}}).toJson(QJsonDocument::Compact);
        const QByteArray twice = member.chopped(1) + ',' + compact.mid(1); // {"k":0,"k":...,...}
        FUZZ_CHECK(repeatedKey(twice) == QStringList{first});
    }
    return 0;
}
