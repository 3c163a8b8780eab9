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
// The input is there but is not a regular file media can be read from, or may not be read.
inline constexpr QLatin1String IsDirectory{"is_directory"};
inline constexpr QLatin1String IsPipe{"is_pipe"};     // a FIFO or a socket: opening it could wait forever
inline constexpr QLatin1String IsDevice{"is_device"}; // /dev/zero and the like: reading it never ends
inline constexpr QLatin1String PermissionDenied{"permission_denied"};
// Over the limits (struct Limits): pictures too large, or more memory than a job may have.
inline constexpr QLatin1String MediaTooLarge{"media_too_large"};
inline constexpr QLatin1String TooManyStreams{"too_many_streams"};
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
inline constexpr QLatin1String OutputExists{"output_exists"}; // a file took the output's name while it was written
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

// What one job may make FFmpeg allocate, whatever its input says. Checked when an input is opened
// — after its header, before anything is decoded — and again by each operation with its own
// parameters (docs/protocol.md, "Limits"). A file over them fails with media_too_large or
// too_many_streams, in a sentence naming the limit and the option that sets it (the same option
// in clipdeck-server and clipdeck-cli render: see limitOption).
struct Limits
{
    // Width × height of the largest picture decoded, either way up. DCI 8K (8192×4320) by default:
    // every 8K format fits (UHD 8K is 7680×4320), and nothing four times that size gets decoded.
    qint64 maxFramePixels = qint64(8192) * 4320;
    // Streams in one file, of every type. Real files have a handful (a video, a few audio and
    // subtitle tracks); 64 leaves room for multi-language masters. Every stream's decoder is
    // opened while probing, so this bounds the probe too.
    int maxStreams = 64;
    // What one job's decoding may hold: decoded pictures (the decoder's threads and reference
    // frames, the operation's queues) and what the operation builds in memory (contact sheets,
    // waveform peaks). 2 GiB: an 8K 8-bit picture is 53 MB, so an 8K decode keeps 16 threads
    // and its queues within it; larger pictures get fewer decoder threads, and a file that does
    // not fit even with one is refused. Encoders are not counted (their memory follows the
    // output size, capped by maxFramePixels, and the preset).
    qint64 memoryBudgetBytes = qint64(2) << 30;
};

// The command-line option of clipdeck-server and clipdeck-cli render that sets each limit.
namespace limitOption {
inline constexpr QLatin1String MaxFramePixels{"--max-frame-pixels"};
inline constexpr QLatin1String MaxStreams{"--max-media-streams"};
inline constexpr QLatin1String MemoryBudget{"--max-job-memory"};
} // namespace limitOption

// Option values for the limits, read alike by clipdeck-server and clipdeck-cli: pixels as a
// count or WIDTHxHEIGHT ("7680x4320"); bytes as a count with an optional suffix K, M, G (powers
// of 1000) or KiB, MiB, GiB. nullopt when malformed or absurd (and pixels when zero).
std::optional<qint64> parsePixelCount(const QString &text);
std::optional<qint64> parseByteCount(const QString &text);

struct Request
{
    QString inputPath;
    QString outputDir;  // exists; outputs go here, named from baseName
    QString baseName;   // e.g. "clip" -> clip.mp4, clip.scenes.json ...
    QVariantMap params; // kind-specific, validated by the operation's validate()
    Limits limits;
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

// Partial outputs. An operation writes each output under a temporary name in its folder,
// `.<name>.partial.<ext>` (".clip.partial.mp4", ".clip.contact.partial.jpg"), locked while its
// writer runs, and renames it into place when it is complete. A process killed mid-operation
// leaves its partial files behind, unlocked: they are stale and hold no name (a later operation
// that wants the name removes the stale file and takes it).
//
// Removes the stale partial files of outputs named from any of baseNames (Request::baseName) in
// dir, under any of their stems (clip.*, clip-2.*, ...); returns the paths removed. Partial files
// whose writer is alive, in this process or another, are left alone; so is every complete file.
QStringList removeStalePartials(const QString &dir, const QStringList &baseNames);

// Parameters are typed as in JSON (params_p.h): a number is a number, a flag true or false. Text
// given for a parameter (the CLI's --param k=v) is typed by this one rule: a JSON number, true,
// false, or a string in double quotes is that value; any other text is the string as written
// ("count=8" is the number 8, "preset=web-h264" the string, "format=\"8\"" the string "8").
QVariant paramFromText(const QString &text);

// Every operation media offers; findOperation returns nullptr for an unknown kind.
const QList<OperationSpec> &operations();
const OperationSpec *findOperation(QStringView kind);

} // namespace clipdeck::media
