#include "server/jsonkeys.h"

#include <QList>
#include <QSet>
#include <QString>

#include <algorithm>
#include <utility>

namespace clipdeck::server {

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The string starting at json[i] (its opening quote), decoded to UTF-16 (where "\ud83d\ude00" and
// the emoji written as UTF-8 are the same); i ends past the closing quote.
QString readString(QByteArrayView json, qsizetype &i)
{
    QString text;
    QByteArray run; // UTF-8 as written, up to the next escape
    ++i;
    while (i < json.size() && json[i] != '"') {
        const char c = json[i++];
        if (c != '\\') {
            run.append(c);
            continue;
        }
        if (i >= json.size())
            break;
        text += QString::fromUtf8(std::exchange(run, {}));
        const char e = json[i++];
        switch (e) {
        case 'b': text += u'\b'; break;
        case 'f': text += u'\f'; break;
        case 'n': text += u'\n'; break;
        case 'r': text += u'\r'; break;
        case 't': text += u'\t'; break;
        case 'u': {
            char16_t unit = 0;
            for (int k = 0; k < 4 && i < json.size(); ++k, ++i)
                unit = char16_t(unit * 16 + std::max(0, hexValue(json[i])));
            text += QChar(unit);
            break;
        }
        default: text += QLatin1Char(e); // \" \\ \/
        }
    }
    text += QString::fromUtf8(run);
    ++i; // the closing quote
    return text;
}

struct Level
{
    bool object = false;
    bool expectingName = false;
    QString name; // the current member's
    QSet<QString> names;
};

} // namespace

std::optional<QStringList> repeatedKey(QByteArrayView json)
{
    QList<Level> levels;
    qsizetype i = 0;
    while (i < json.size()) {
        const char c = json[i];
        if (c == '"') {
            const QString text = readString(json, i);
            if (!levels.isEmpty() && levels.last().object && levels.last().expectingName) {
                Level &level = levels.last();
                level.expectingName = false;
                if (level.names.contains(text)) {
                    QStringList path;
                    for (qsizetype k = 0; k + 1 < levels.size(); ++k) {
                        if (levels.at(k).object)
                            path.append(levels.at(k).name);
                    }
                    path.append(text);
                    return path;
                }
                level.names.insert(text);
                level.name = text;
            }
            continue;
        }
        if (c == '{')
            levels.append(Level{true, true, {}, {}});
        else if (c == '[')
            levels.append(Level{});
        else if ((c == '}' || c == ']') && !levels.isEmpty())
            levels.removeLast();
        else if (c == ',' && !levels.isEmpty() && levels.last().object)
            levels.last().expectingName = true;
        ++i;
    }
    return std::nullopt;
}

} // namespace clipdeck::server
