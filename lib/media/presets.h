#pragma once

// Transcode presets. They are data (resources/presets/*.json, embedded in the library), not
// code: each names a container, a video encoder with its options, an audio encoder, and the
// rule that bounds the output size. Every file is validated when loaded against the FFmpeg this
// process runs with (encoders, options, pixel formats, muxers), so a broken or unusable preset
// is a clear error naming the file and the field, never a failure halfway through an export.

#include "media/operation.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>
#include <variant>

namespace clipdeck::media {

struct VideoPreset
{
    QString encoder;             // FFmpeg encoder, e.g. "libx264"
    QString pixelFormat;         // e.g. "yuv420p"
    QString codecTag;            // container tag to force (e.g. "hvc1"); empty: the muxer's default
    double keyframeInterval = 0; // seconds between keyframes; 0: the encoder's default
    qint64 bitRate = 0;          // bits/s; 0: unset (constant-quality presets)
    // The quality knob the `quality` parameter turns: an encoder option ("crf"), or "qscale"
    // (the encoder's global quantiser, as ffmpeg's -q:v). Empty: the preset has none.
    QString qualityOption;
    std::optional<double> quality; // the preset's own value, if it sets one
    double qualityMin = 0;
    double qualityMax = 0;
    QMap<QString, QString> options; // further encoder options, as for ffmpeg -c:v ENCODER -KEY VALUE
    // Output size rule: fit the longer and the shorter side within these bounds (0: unbounded),
    // keeping the display aspect ratio, never upscaling, even dimensions, square pixels.
    int maxLongSide = 0;
    int maxShortSide = 0;
};

struct AudioPreset
{
    QString encoder;    // e.g. "aac"
    qint64 bitRate = 0; // bits/s; 0: the encoder's default (e.g. PCM)
    int sampleRate = 48000;
    int channels = 2; // at most this many: stereo sources stay stereo, mono stays mono
    QMap<QString, QString> options;
};

struct Preset
{
    QString name;        // stable identifier, e.g. "web-h264"; equals the file's base name
    QString label;       // for menus
    QString description; // for people choosing one
    QString format;      // FFmpeg muxer, e.g. "mp4"
    QString extension;   // output file extension without the dot
    QString mimeType;
    bool faststart = false;           // MP4/MOV: move the index to the front once encoding is done
    std::optional<VideoPreset> video; // none: an audio-only preset
    std::optional<AudioPreset> audio; // none: a silent output

    // The role of its output in Output::role: "video", or "audio" for audio-only presets.
    QString outputRole() const;
};

// The presets shipped with Clipdeck, in name order. Loaded and validated once; a preset file
// that fails validation is left out and reported by presetLoadErrors().
const QList<Preset> &presets();
const QList<Error> &presetLoadErrors();

// The preset called `name`. unknown_preset when there is none; when a shipped file of that name
// failed validation, that file's error.
std::variant<Preset, Error> findPreset(const QString &name);

// Parses and validates one preset file's JSON. `origin` names it in messages (a path).
std::variant<Preset, Error> parsePreset(const QByteArray &json, const QString &origin);

} // namespace clipdeck::media
