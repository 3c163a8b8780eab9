#pragma once

// The contract between the media operations (FFmpeg, in-process) and whoever runs them (the
// engine). Media knows nothing of jobs: it gets a request and a control, reports progress
// through the control, and returns outputs or a stable error.

#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantMap>

#include <optional>

namespace clipdeck::media {

struct Progress
{
    double fraction = 0;        // 0..1 of the whole operation, never decreasing
    QString stage;              // "analysing", "encoding", "finalising", ...
    double framesPerSecond = 0; // current processing rate; 0 when unknown
    double mediaSeconds = 0;    // media time processed so far (speed = mediaSeconds / wall time)
};

// Stable error codes; the message says the rest in words a person understands.
namespace errors {
inline constexpr QLatin1String FileNotFound{"file_not_found"};
inline constexpr QLatin1String EmptyFile{"empty_file"};
inline constexpr QLatin1String NotMedia{"not_media"};
inline constexpr QLatin1String CorruptStream{"corrupt_stream"};
inline constexpr QLatin1String UnsupportedCodec{"unsupported_codec"};
inline constexpr QLatin1String NoVideo{"no_video_stream"};
inline constexpr QLatin1String NoAudio{"no_audio_stream"};
inline constexpr QLatin1String InvalidDimensions{"invalid_dimensions"};
inline constexpr QLatin1String InvalidParams{"invalid_params"};
inline constexpr QLatin1String UnknownPreset{"unknown_preset"};
inline constexpr QLatin1String OutputUnwritable{"output_unwritable"};
inline constexpr QLatin1String DiskFull{"disk_full"};
inline constexpr QLatin1String EncoderFailed{"encoder_failed"};
inline constexpr QLatin1String Canceled{"canceled"};
inline constexpr QLatin1String Internal{"internal"};
} // namespace errors

struct Error
{
    QString code;    // one of errors::*
    QString message; // for people
};

struct Output
{
    QString path;    // absolute
    QString role;    // "video", "audio", "poster", "contact_sheet", "thumbnail", "scenes", "waveform", "probe"
    qint64 size = 0; // bytes
    QString mimeType;
};

struct Result
{
    std::optional<Error> error; // empty on success
    QList<Output> outputs;
};

struct Request
{
    QString inputPath;
    QString outputDir;  // exists; outputs go here, named from baseName
    QString baseName;   // e.g. "clip" -> clip.mp4, clip.scenes.json ...
    QVariantMap params; // kind-specific, validated by the operation's validate()
};

// Shared between a running operation and its runner.
class Control
{
public:
    virtual ~Control() = default;
    // Operations call this often (at least every ~50 ms of work) with their progress. It blocks
    // while the job is paused, and returns false once the job is canceled: the operation then
    // stops promptly, removes what it wrote, and returns errors::Canceled.
    virtual bool checkpoint(const Progress &progress) = 0;
};

struct OperationSpec
{
    QString kind; // "probe", "transcode", "proxy", "thumbnails", "scenes", "waveform"
    QString description;
    bool heavy = false; // runs in the engine's encode pool rather than the light one
    std::optional<Error> (*validate)(const QVariantMap &params) = nullptr;
    Result (*run)(const Request &request, Control &control) = nullptr;
};

// Parameters are typed as in JSON (params_p.h): a number is a number, a flag true or false. Text
// given for a parameter (the CLI's --param k=v) is typed by this one rule: a JSON number, true,
// false, or a string in double quotes is that value; any other text is the string as written
// ("count=8" is the number 8, "preset=web-h264" the string, "format=\"8\"" the string "8").
QVariant paramFromText(const QString &text);

// Every operation media offers; findOperation returns nullptr for an unknown kind.
const QList<OperationSpec> &operations();
const OperationSpec *findOperation(QStringView kind);

} // namespace clipdeck::media
