#include "media/presets.h"

#include "media/ffmpeg_p.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <cmath>

namespace clipdeck::media {

QString Preset::outputRole() const
{
    return video ? QStringLiteral("video") : QStringLiteral("audio");
}

namespace {

// Where qt_add_resources (lib/media/CMakeLists.txt) puts resources/presets/*.json.
constexpr QLatin1String ResourceDir{":/clipdeck/presets"};

// The first problem found while reading a preset, with the path of the offending field.
struct Invalid
{
    QString field;
    QString why;
};

// Reads one JSON object of a preset: typed getters that record the first problem, and a check
// that no unknown key is present (a typo in a preset must not be silently ignored).
class Fields
{
public:
    Fields(const QJsonObject &object, QString path, std::optional<Invalid> &problem)
        : m_object(object), m_path(std::move(path)), m_problem(problem)
    { }

    bool has(const QString &key) const { return m_object.contains(key) && !m_object.value(key).isNull(); }

    QString string(const QString &key, bool required, const QString &fallback = {})
    {
        const QJsonValue v = m_object.value(key);
        if (v.isUndefined() || v.isNull()) {
            if (required)
                fail(key, QStringLiteral("is required"));
            return fallback;
        }
        if (!v.isString() || v.toString().trimmed().isEmpty()) {
            fail(key, QStringLiteral("must be a non-empty string"));
            return fallback;
        }
        return v.toString();
    }

    double number(const QString &key, bool required, double fallback, double min, double max)
    {
        const QJsonValue v = m_object.value(key);
        if (v.isUndefined() || v.isNull()) {
            if (required)
                fail(key, QStringLiteral("is required"));
            return fallback;
        }
        if (!v.isDouble()) {
            fail(key, QStringLiteral("must be a number"));
            return fallback;
        }
        const double d = v.toDouble();
        if (!std::isfinite(d) || d < min || d > max) {
            fail(key, QStringLiteral("must be between %1 and %2, not %3").arg(min).arg(max).arg(d));
            return fallback;
        }
        return d;
    }

    int integer(const QString &key, bool required, int fallback, int min, int max)
    {
        const double d = number(key, required, fallback, min, max);
        if (d != std::floor(d)) {
            fail(key, QStringLiteral("must be a whole number"));
            return fallback;
        }
        return int(d);
    }

    bool boolean(const QString &key, bool fallback)
    {
        const QJsonValue v = m_object.value(key);
        if (v.isUndefined() || v.isNull())
            return fallback;
        if (!v.isBool()) {
            fail(key, QStringLiteral("must be true or false"));
            return fallback;
        }
        return v.toBool();
    }

    QJsonObject object(const QString &key, bool required)
    {
        const QJsonValue v = m_object.value(key);
        if (v.isUndefined() || v.isNull()) {
            if (required)
                fail(key, QStringLiteral("is required"));
            return {};
        }
        if (!v.isObject()) {
            fail(key, QStringLiteral("must be an object"));
            return {};
        }
        return v.toObject();
    }

    // Encoder options: string values (numbers are accepted and written as ffmpeg would take them).
    QMap<QString, QString> options(const QString &key)
    {
        QMap<QString, QString> out;
        const QJsonObject o = object(key, false);
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (it->isString())
                out.insert(it.key(), it->toString());
            else if (it->isDouble())
                out.insert(it.key(), QString::number(it->toDouble()));
            else
                fail(key + u'.' + it.key(), QStringLiteral("must be a string or a number"));
        }
        return out;
    }

    void allowOnly(const QStringList &known)
    {
        for (auto it = m_object.begin(); it != m_object.end(); ++it) {
            if (!known.contains(it.key()))
                fail(it.key(),
                     QStringLiteral("is not a preset field (known here: %1)").arg(known.join(QStringLiteral(", "))));
        }
    }

    QString path(const QString &key) const { return m_path.isEmpty() ? key : m_path + u'.' + key; }

    void fail(const QString &key, const QString &why)
    {
        if (!m_problem)
            m_problem = Invalid{path(key), why};
    }

private:
    QJsonObject m_object;
    QString m_path;
    std::optional<Invalid> &m_problem;
};

// Whether `encoder` takes option `name`, either as a generic codec option (e.g. "bf", "b") or as
// one of its private options (e.g. libx264's "preset").
bool encoderHasOption(const AVCodec *encoder, const QString &name)
{
    const QByteArray key = name.toUtf8();
    const AVClass *generic = avcodec_get_class();
    if (av_opt_find(&generic, key.constData(), nullptr, 0, AV_OPT_SEARCH_FAKE_OBJ))
        return true;
    if (encoder->priv_class) {
        const AVClass *priv = encoder->priv_class;
        if (av_opt_find(&priv, key.constData(), nullptr, 0, AV_OPT_SEARCH_FAKE_OBJ))
            return true;
    }
    return false;
}

const AVCodec *findEncoder(Fields &f, const QString &key, AVMediaType type)
{
    const QString name = f.string(key, true);
    if (name.isEmpty())
        return nullptr;
    const AVCodec *codec = avcodec_find_encoder_by_name(name.toUtf8().constData());
    if (!codec) {
        f.fail(key, QStringLiteral("names the encoder '%1', which this FFmpeg does not have").arg(name));
        return nullptr;
    }
    if (codec->type != type) {
        f.fail(key, QStringLiteral("names '%1', which is not a%2 encoder")
                        .arg(name, type == AVMEDIA_TYPE_VIDEO ? QStringLiteral(" video") : QStringLiteral("n audio")));
        return nullptr;
    }
    return codec;
}

void checkOptions(Fields &f, const AVCodec *codec, const QMap<QString, QString> &options)
{
    for (auto it = options.begin(); it != options.end(); ++it) {
        if (!encoderHasOption(codec, it.key()))
            f.fail(QStringLiteral("options.") + it.key(),
                   QStringLiteral("is not an option of the %1 encoder").arg(QString::fromUtf8(codec->name)));
    }
}

void checkMuxerTakes(Fields &f, const QString &key, const AVOutputFormat *muxer, const AVCodec *codec)
{
    if (muxer && codec && avformat_query_codec(muxer, codec->id, FF_COMPLIANCE_NORMAL) != 1) {
        f.fail(key, QStringLiteral("%1 cannot be stored in the %2 container")
                        .arg(QString::fromUtf8(avcodec_get_name(codec->id)), QString::fromUtf8(muxer->name)));
    }
}

std::optional<VideoPreset> readVideo(const QJsonObject &o, const AVOutputFormat *muxer, std::optional<Invalid> &problem)
{
    Fields f(o, QStringLiteral("video"), problem);
    f.allowOnly({QStringLiteral("encoder"), QStringLiteral("pixelFormat"), QStringLiteral("codecTag"),
                 QStringLiteral("keyframeInterval"), QStringLiteral("bitRate"), QStringLiteral("quality"),
                 QStringLiteral("options"), QStringLiteral("maxSize")});
    VideoPreset v;
    const AVCodec *codec = findEncoder(f, QStringLiteral("encoder"), AVMEDIA_TYPE_VIDEO);
    if (codec)
        v.encoder = QString::fromUtf8(codec->name);
    checkMuxerTakes(f, QStringLiteral("encoder"), muxer, codec);

    v.pixelFormat = f.string(QStringLiteral("pixelFormat"), true);
    const AVPixelFormat pixfmt = av_get_pix_fmt(v.pixelFormat.toUtf8().constData());
    if (!v.pixelFormat.isEmpty() && pixfmt == AV_PIX_FMT_NONE)
        f.fail(QStringLiteral("pixelFormat"), QStringLiteral("'%1' is not a pixel format").arg(v.pixelFormat));
    if (codec && pixfmt != AV_PIX_FMT_NONE && codec->pix_fmts) {
        bool supported = false;
        for (const AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
            supported = supported || *p == pixfmt;
        if (!supported)
            f.fail(QStringLiteral("pixelFormat"), QStringLiteral("%1 cannot encode %2").arg(v.encoder, v.pixelFormat));
    }

    v.codecTag = f.string(QStringLiteral("codecTag"), false);
    if (!v.codecTag.isEmpty() && v.codecTag.toLatin1().size() != 4)
        f.fail(QStringLiteral("codecTag"), QStringLiteral("must be four characters"));
    v.keyframeInterval = f.number(QStringLiteral("keyframeInterval"), false, 0, 0.01, 60);
    v.bitRate = qint64(f.number(QStringLiteral("bitRate"), false, 0, 1000, 1e10));

    if (f.has(QStringLiteral("quality"))) {
        Fields q(f.object(QStringLiteral("quality"), false), f.path(QStringLiteral("quality")), problem);
        q.allowOnly({QStringLiteral("option"), QStringLiteral("value"), QStringLiteral("min"), QStringLiteral("max")});
        v.qualityOption = q.string(QStringLiteral("option"), true);
        v.qualityMin = q.number(QStringLiteral("min"), true, 0, -1e6, 1e6);
        v.qualityMax = q.number(QStringLiteral("max"), true, 0, -1e6, 1e6);
        if (q.has(QStringLiteral("value")))
            v.quality = q.number(QStringLiteral("value"), false, 0, v.qualityMin, v.qualityMax);
        if (v.qualityMin > v.qualityMax)
            q.fail(QStringLiteral("min"), QStringLiteral("must not be above max"));
        if (codec && !v.qualityOption.isEmpty() && v.qualityOption != u"qscale"
            && !encoderHasOption(codec, v.qualityOption))
            q.fail(QStringLiteral("option"),
                   QStringLiteral("'%1' is not an option of the %2 encoder").arg(v.qualityOption, v.encoder));
    }

    v.options = f.options(QStringLiteral("options"));
    if (codec)
        checkOptions(f, codec, v.options);

    if (f.has(QStringLiteral("maxSize"))) {
        Fields m(f.object(QStringLiteral("maxSize"), false), f.path(QStringLiteral("maxSize")), problem);
        m.allowOnly({QStringLiteral("longSide"), QStringLiteral("shortSide")});
        v.maxLongSide = m.integer(QStringLiteral("longSide"), false, 0, 16, 16384);
        v.maxShortSide = m.integer(QStringLiteral("shortSide"), false, 0, 16, 16384);
    }
    return v;
}

std::optional<AudioPreset> readAudio(const QJsonObject &o, const AVOutputFormat *muxer, std::optional<Invalid> &problem)
{
    Fields f(o, QStringLiteral("audio"), problem);
    f.allowOnly({QStringLiteral("encoder"), QStringLiteral("bitRate"), QStringLiteral("sampleRate"),
                 QStringLiteral("channels"), QStringLiteral("options")});
    AudioPreset a;
    const AVCodec *codec = findEncoder(f, QStringLiteral("encoder"), AVMEDIA_TYPE_AUDIO);
    if (codec)
        a.encoder = QString::fromUtf8(codec->name);
    checkMuxerTakes(f, QStringLiteral("encoder"), muxer, codec);
    a.bitRate = qint64(f.number(QStringLiteral("bitRate"), false, 0, 1000, 1e8));
    a.sampleRate = f.integer(QStringLiteral("sampleRate"), true, 48000, 8000, 384000);
    if (codec && codec->supported_samplerates) {
        bool supported = false;
        for (const int *r = codec->supported_samplerates; *r; ++r)
            supported = supported || *r == a.sampleRate;
        if (!supported)
            f.fail(QStringLiteral("sampleRate"),
                   QStringLiteral("%1 cannot encode at %2 Hz").arg(a.encoder).arg(a.sampleRate));
    }
    a.channels = f.integer(QStringLiteral("channels"), true, 2, 1, 8);
    a.options = f.options(QStringLiteral("options"));
    if (codec)
        checkOptions(f, codec, a.options);
    return a;
}

struct Catalog
{
    QList<Preset> presets;
    QList<Error> errors;
    QMap<QString, Error> brokenByName;
};

const Catalog &catalog()
{
    static const Catalog c = [] {
        Catalog out;
        const QDir dir(ResourceDir);
        const QStringList files = dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
        if (files.isEmpty()) {
            out.errors.append(
                Error{errors::Internal,
                      QStringLiteral("No presets are embedded in this build (%1 is empty).").arg(ResourceDir)});
        }
        for (const QString &file : files) {
            const QString path = dir.filePath(file);
            QFile f(path);
            auto parsed = f.open(QIODevice::ReadOnly)
                              ? parsePreset(f.readAll(), path)
                              : std::variant<Preset, Error>(
                                  Error{errors::Internal, QStringLiteral("Preset %1 cannot be read.").arg(path)});
            if (auto *e = std::get_if<Error>(&parsed)) {
                qWarning("clipdeck: %s", qPrintable(e->message));
                out.errors.append(*e);
                out.brokenByName.insert(QFileInfo(file).completeBaseName(), *e);
                continue;
            }
            Preset p = std::get<Preset>(std::move(parsed));
            if (p.name != QFileInfo(file).completeBaseName()) {
                const Error e{
                    errors::Internal,
                    QStringLiteral("Preset %1 is named '%2'; a preset file must be named after its preset (%2.json).")
                        .arg(path, p.name)};
                qWarning("clipdeck: %s", qPrintable(e.message));
                out.errors.append(e);
                continue;
            }
            out.presets.append(std::move(p));
        }
        return out;
    }();
    return c;
}

} // namespace

std::variant<Preset, Error> parsePreset(const QByteArray &json, const QString &origin)
{
    ff::initialise();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return Error{errors::Internal, QStringLiteral("Preset %1 is not valid JSON: %2 at byte %3.")
                                           .arg(origin, parseError.errorString())
                                           .arg(parseError.offset)};
    }
    if (!doc.isObject())
        return Error{errors::Internal, QStringLiteral("Preset %1 must be a JSON object.").arg(origin)};

    std::optional<Invalid> problem;
    Fields top(doc.object(), {}, problem);
    top.allowOnly({QStringLiteral("name"), QStringLiteral("label"), QStringLiteral("description"),
                   QStringLiteral("container"), QStringLiteral("video"), QStringLiteral("audio")});
    Preset p;
    p.name = top.string(QStringLiteral("name"), true);
    static const QRegularExpression namePattern(QStringLiteral("^[a-z0-9][a-z0-9-]*$"));
    if (!p.name.isEmpty() && !namePattern.match(p.name).hasMatch())
        top.fail(QStringLiteral("name"), QStringLiteral("must be lower-case letters, digits and dashes"));
    p.label = top.string(QStringLiteral("label"), true);
    p.description = top.string(QStringLiteral("description"), true);

    Fields container(top.object(QStringLiteral("container"), true), QStringLiteral("container"), problem);
    container.allowOnly({QStringLiteral("format"), QStringLiteral("extension"), QStringLiteral("mimeType"),
                         QStringLiteral("faststart")});
    p.format = container.string(QStringLiteral("format"), true);
    const AVOutputFormat *muxer =
        p.format.isEmpty() ? nullptr : av_guess_format(p.format.toUtf8().constData(), nullptr, nullptr);
    if (!p.format.isEmpty() && !muxer)
        container.fail(QStringLiteral("format"),
                       QStringLiteral("'%1' is not a container this FFmpeg can write").arg(p.format));
    p.extension = container.string(QStringLiteral("extension"), true);
    if (p.extension.startsWith(u'.') || p.extension.contains(u'/'))
        container.fail(QStringLiteral("extension"), QStringLiteral("must be a bare extension like \"mp4\""));
    p.mimeType = container.string(QStringLiteral("mimeType"), true);
    p.faststart = container.boolean(QStringLiteral("faststart"), false);
    if (p.faststart && muxer) {
        const AVClass *muxerClass = muxer->priv_class;
        if (!muxerClass || !av_opt_find(&muxerClass, "movflags", nullptr, 0, AV_OPT_SEARCH_FAKE_OBJ))
            container.fail(QStringLiteral("faststart"),
                           QStringLiteral("only applies to MP4 and MOV containers, not %1").arg(p.format));
    }

    if (top.has(QStringLiteral("video")))
        p.video = readVideo(top.object(QStringLiteral("video"), false), muxer, problem);
    if (top.has(QStringLiteral("audio")))
        p.audio = readAudio(top.object(QStringLiteral("audio"), false), muxer, problem);
    if (!p.video && !p.audio && !problem)
        problem =
            Invalid{QStringLiteral("video"), QStringLiteral("or audio is required: a preset must produce something")};

    if (problem) {
        return Error{errors::Internal,
                     QStringLiteral("Preset %1 is invalid: '%2' %3.").arg(origin, problem->field, problem->why)};
    }
    return p;
}

const QList<Preset> &presets()
{
    return catalog().presets;
}

const QList<Error> &presetLoadErrors()
{
    return catalog().errors;
}

std::variant<Preset, Error> findPreset(const QString &name)
{
    const Catalog &c = catalog();
    for (const Preset &p : c.presets) {
        if (p.name == name)
            return p;
    }
    if (auto it = c.brokenByName.constFind(name); it != c.brokenByName.cend())
        return *it;
    QStringList names;
    for (const Preset &p : c.presets)
        names.append(p.name);
    return Error{
        errors::UnknownPreset,
        QStringLiteral("There is no preset called '%1' (available: %2).").arg(name, names.join(QStringLiteral(", ")))};
}

} // namespace clipdeck::media
