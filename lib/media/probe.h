#pragma once

// Probe: what a media file contains (container, duration, streams), read from its headers and
// the few packets FFmpeg needs to identify each stream — never a full decode, so it is cheap
// enough to run on every import.

#include "media/operation.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <variant>

namespace clipdeck::media {

struct StreamInfo
{
    int index = 0;
    QString type;  // "video", "audio", "subtitle", "data", "attachment", "unknown"
    QString codec; // FFmpeg codec name, e.g. "h264"; "none" when FFmpeg does not know it
    QString codecLongName;
    QString profile;              // e.g. "High", "LC"; empty when not applicable
    qint64 bitRate = 0;           // bits/s; 0 when unknown
    QString language;             // ISO 639 from the container, empty when unset
    bool isDefault = false;       // disposition "default"
    bool attachedPicture = false; // disposition "attached_pic": cover art, not the clip's video
    double durationSeconds = 0;   // 0 when unknown

    // video
    int width = 0;
    int height = 0;
    QString displayAspectRatio; // e.g. "16:9"; empty when unknown
    QString sampleAspectRatio;  // e.g. "1:1"
    double frameRate = 0;       // average frames per second; 0 when unknown
    QString frameRateExact;     // e.g. "30000/1001"
    QString pixelFormat;        // e.g. "yuv420p"
    int rotation = 0;           // degrees counter-clockwise to display (display matrix), 0/90/180/270
    QString fieldOrder;         // "progressive", "tt", "bb", "tb", "bt" or "unknown"

    // audio
    int sampleRate = 0;
    int channels = 0;
    QString channelLayout; // e.g. "stereo", "5.1(side)"
    QString sampleFormat;  // e.g. "fltp"
};

struct MediaInfo
{
    QString path;
    QString formatName;         // e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    QString formatLongName;     // e.g. "QuickTime / MOV"
    double durationSeconds = 0; // 0 when unknown
    qint64 bitRate = 0;         // bits/s of the whole file; 0 when unknown
    qint64 sizeBytes = 0;
    QList<StreamInfo> streams;

    // The main video (not cover art) and audio streams' positions in `streams`, or -1.
    int videoStream = -1;
    int audioStream = -1;
};

// Errors as media opening reports them (ff::openInput): file_not_found, is_directory, is_pipe,
// is_device, permission_denied, empty_file, not_media, corrupt_stream, and over `limits`
// too_many_streams or media_too_large — found from the header, before anything is decoded.
std::variant<MediaInfo, Error> probe(const QString &path, const Limits &limits = {});

QJsonObject toJson(const MediaInfo &info);

// The "probe" operation: writes <baseName>.probe.json (role "probe"). It takes no parameters.
std::optional<Error> validateProbe(const QVariantMap &params);
Result runProbe(const Request &request, Control &control);

} // namespace clipdeck::media
