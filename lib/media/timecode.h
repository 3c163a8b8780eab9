#pragma once

// SMPTE timecode (HH:MM:SS:FF, drop-frame HH:MM:SS;FF) and frame numbers, both ways, in exact
// integer arithmetic. The one implementation: the viewer's timecode field and the EDL/FCPXML/OTIO
// exports count frames with it alike. Qt Core only.
//
// Drop-frame (29.97 and 59.94 fps) keeps timecode close to the wall clock by skipping labels,
// never frames: at the start of every minute except each tenth, the labels ;00 and ;01 (;00 to
// ;03 at 59.94) do not exist. So 00:00:59;29 is followed by 00:01:00;02, and 00:10:00;00 is
// frame 17982 at 29.97.

#include <QString>
#include <QStringView>

#include <optional>

namespace clipdeck::media {

// How a clip counts timecode.
struct TimecodeRate
{
    int framesPerSecond = 0; // labels per timecode second: 24, 25, 30, 50, 60 (23.976 counts 24, 29.97 counts 30)
    bool dropFrame = false;  // only with 30 and 60 (29.97 and 59.94 fps)

    bool isValid() const;

    // The rate a clip of num/den frames per second counts in: the nearest whole number of frames,
    // drop-frame for 30000/1001 and 60000/1001 unless `dropFrameAtNtscRates` is false (a
    // non-drop 29.97 clip). Invalid (framesPerSecond 0) for a rate that is not positive.
    static TimecodeRate forFrameRate(qint64 num, qint64 den, bool dropFrameAtNtscRates = true);

    friend bool operator==(const TimecodeRate &, const TimecodeRate &) = default;
};

struct Timecode
{
    int hours = 0; // not wrapped at 24
    int minutes = 0;
    int seconds = 0;
    int frames = 0;
    bool dropFrame = false;

    // "01:02:03:04", or "01:02:03;04" for drop-frame.
    QString toString() const;

    friend bool operator==(const Timecode &, const Timecode &) = default;
};

// The timecode of frame `frame` (0 is 00:00:00:00); nullopt for a negative frame or an invalid rate.
std::optional<Timecode> timecodeOfFrame(qint64 frame, TimecodeRate rate);

// The frame a timecode names; nullopt when it does not exist at `rate` (a field out of range, or
// a label drop-frame skips such as 00:01:00;00).
std::optional<qint64> frameOfTimecode(const Timecode &timecode, TimecodeRate rate);

// formatTimecode(frame, rate) == timecodeOfFrame(frame, rate)->toString(); empty when that is nullopt.
QString formatTimecode(qint64 frame, TimecodeRate rate);

// The frame number a typed timecode names at `rate`. One to four fields, filled from the right
// ("2:10" is 00:00:02:10), separated by ':', ';', '.' or ','; whether labels are dropped is the
// rate's, whichever separator was typed. Surrounding spaces are ignored. nullopt when the text is
// not a timecode or names a label that does not exist at `rate`.
std::optional<qint64> parseTimecode(QStringView text, TimecodeRate rate);

} // namespace clipdeck::media
