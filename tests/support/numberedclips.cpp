#include "numberedclips.h"

#include "mediafixtures.h"

#include <QStringList>

namespace fixtures {

namespace {

constexpr int Columns = 4;
constexpr int Rows = 4;

// lavfi source: `rate` fps pictures showing their frame number N in binary.
QString numberSource(const QString &rate, const QString &extraFilters = {})
{
    return QStringLiteral("color=c=black:size=320x240:rate=%1,format=yuv420p,"
                          "geq=lum='if(mod(floor(N/pow(2,floor(X/80)+4*floor(Y/60))),2),235,16)':cb=128:cr=128%2")
        .arg(rate, extraFilters);
}

NumberedClip make(const QString &name, qint64 frames, const QString &description, const QString &rate,
                  const QStringList &encode, const QString &extraFilters = {})
{
    QStringList args{QStringLiteral("-f"),        QStringLiteral("lavfi"),
                     QStringLiteral("-i"),        numberSource(rate, extraFilters),
                     QStringLiteral("-frames:v"), QString::number(frames)};
    args << encode;
    return NumberedClip{generate(name, args), frames, description};
}

const QStringList x264 = {QStringLiteral("-c:v"),     QStringLiteral("libx264"), QStringLiteral("-preset"),
                          QStringLiteral("veryfast"), QStringLiteral("-crf"),    QStringLiteral("20"),
                          QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p")};

// Frame N starts at N*33 + (N*7 mod 13) ms: 21 to 45 ms apart. The encoder keeps the filter's
// millisecond time base (without -enc_time_base it would round them to the 30 fps grid).
// (setpts in time-base units: N*33/1000/TB would truncate 173.99999 to 173.)
const QString vfrTiming = QStringLiteral(",settb=1/1000,setpts='N*33+mod(N*7\\,13)'");
const QStringList vfrOutput = {QStringLiteral("-fps_mode"), QStringLiteral("passthrough"),
                               QStringLiteral("-enc_time_base"), QStringLiteral("-1")};

} // namespace

NumberedClip numberedH264LongGop()
{
    return make(QStringLiteral("numbered-h264-longgop.mp4"), 750, QStringLiteral("H.264, B-frames, 250-frame GOP"),
                QStringLiteral("25"),
                x264
                    + QStringList{QStringLiteral("-bf"), QStringLiteral("3"), QStringLiteral("-g"),
                                  QStringLiteral("250"), QStringLiteral("-keyint_min"), QStringLiteral("250"),
                                  QStringLiteral("-sc_threshold"), QStringLiteral("0")});
}

NumberedClip numberedH264OpenGop()
{
    return make(QStringLiteral("numbered-h264-opengop.mkv"), 300, QStringLiteral("H.264, open GOPs, Matroska"),
                QStringLiteral("25"),
                x264
                    + QStringList{QStringLiteral("-bf"), QStringLiteral("3"), QStringLiteral("-g"),
                                  QStringLiteral("50"), QStringLiteral("-x264-params"), QStringLiteral("open-gop=1")});
}

NumberedClip numberedHevc()
{
    return make(QStringLiteral("numbered-hevc.mp4"), 300, QStringLiteral("HEVC, open GOPs"), QStringLiteral("25"),
                {QStringLiteral("-c:v"), QStringLiteral("libx265"), QStringLiteral("-preset"),
                 QStringLiteral("ultrafast"), QStringLiteral("-crf"), QStringLiteral("20"),
                 QStringLiteral("-x265-params"), QStringLiteral("keyint=50:log-level=error"),
                 QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p")});
}

NumberedClip numberedVp9()
{
    return make(QStringLiteral("numbered-vp9.webm"), 240, QStringLiteral("VP9, WebM"), QStringLiteral("25"),
                {QStringLiteral("-c:v"), QStringLiteral("libvpx-vp9"), QStringLiteral("-deadline"),
                 QStringLiteral("realtime"), QStringLiteral("-cpu-used"), QStringLiteral("8"), QStringLiteral("-crf"),
                 QStringLiteral("20"), QStringLiteral("-b:v"), QStringLiteral("0"), QStringLiteral("-g"),
                 QStringLiteral("60")});
}

NumberedClip numberedProRes()
{
    return make(
        QStringLiteral("numbered-prores.mov"), 100, QStringLiteral("ProRes 422 Proxy, MOV"), QStringLiteral("25"),
        {QStringLiteral("-c:v"), QStringLiteral("prores_ks"), QStringLiteral("-profile:v"), QStringLiteral("0")});
}

NumberedClip numberedMpeg2()
{
    return make(QStringLiteral("numbered-mpeg2.ts"), 250, QStringLiteral("MPEG-2, MPEG-TS"), QStringLiteral("25"),
                {QStringLiteral("-c:v"), QStringLiteral("mpeg2video"), QStringLiteral("-q:v"), QStringLiteral("3"),
                 QStringLiteral("-bf"), QStringLiteral("2"), QStringLiteral("-g"), QStringLiteral("15")});
}

NumberedClip numberedAv1()
{
    return make(QStringLiteral("numbered-av1.mkv"), 120, QStringLiteral("AV1 (libaom), Matroska"), QStringLiteral("25"),
                {QStringLiteral("-c:v"), QStringLiteral("libaom-av1"), QStringLiteral("-cpu-used"), QStringLiteral("8"),
                 QStringLiteral("-row-mt"), QStringLiteral("1"), QStringLiteral("-crf"), QStringLiteral("30"),
                 QStringLiteral("-g"), QStringLiteral("60")});
}

NumberedClip numberedH264At2997()
{
    return make(
        QStringLiteral("numbered-h264-2997.mp4"), 300, QStringLiteral("H.264 at 29.97 fps"),
        QStringLiteral("30000/1001"),
        x264 + QStringList{QStringLiteral("-bf"), QStringLiteral("3"), QStringLiteral("-g"), QStringLiteral("60")});
}

NumberedClip numberedVfrMatroska()
{
    return make(
        QStringLiteral("numbered-vfr-tb.mkv"), 300, QStringLiteral("VFR H.264, Matroska"), QStringLiteral("30"),
        vfrOutput + x264
            + QStringList{QStringLiteral("-bf"), QStringLiteral("3"), QStringLiteral("-g"), QStringLiteral("60")},
        vfrTiming);
}

NumberedClip numberedVfrMp4()
{
    return make(QStringLiteral("numbered-vfr-tb.mp4"), 300, QStringLiteral("VFR H.264 with B-frames, MP4"),
                QStringLiteral("30"),
                vfrOutput + x264
                    + QStringList{QStringLiteral("-bf"), QStringLiteral("3"), QStringLiteral("-g"),
                                  QStringLiteral("60"), QStringLiteral("-video_track_timescale"),
                                  QStringLiteral("1000")},
                vfrTiming);
}

NumberedClip numberedVfrMp4NoBFrames()
{
    return make(QStringLiteral("numbered-vfr-tb-nob.mp4"), 300, QStringLiteral("VFR H.264 without B-frames, MP4"),
                QStringLiteral("30"),
                vfrOutput + x264
                    + QStringList{QStringLiteral("-bf"), QStringLiteral("0"), QStringLiteral("-g"),
                                  QStringLiteral("60"), QStringLiteral("-video_track_timescale"),
                                  QStringLiteral("1000")},
                vfrTiming);
}

NumberedClip numberedVfrMp4UniformDts()
{
    const NumberedClip source = numberedVfrMp4();
    if (source.path.isEmpty())
        return {};
    // Decode times 30 ms apart from -67 ms (the B-frame delay): never after a picture's pts.
    const QString path = generate(QStringLiteral("numbered-vfr-tb-uniform-dts.mp4"),
                                  {QStringLiteral("-i"), source.path, QStringLiteral("-c"), QStringLiteral("copy"),
                                   QStringLiteral("-bsf:v"), QStringLiteral("setts=pts=PTS:dts=N*30-67"),
                                   QStringLiteral("-video_track_timescale"), QStringLiteral("1000")});
    return NumberedClip{path, source.frames, QStringLiteral("VFR H.264, MP4 with equal sample durations")};
}

NumberedClip numberedRotated()
{
    const NumberedClip source =
        make(QStringLiteral("numbered-h264-2997-nob.mp4"), 120, QStringLiteral("H.264 at 29.97 fps, no B-frames"),
             QStringLiteral("30000/1001"), x264 + QStringList{QStringLiteral("-bf"), QStringLiteral("0")});
    if (source.path.isEmpty())
        return {};
    // Stream copy keeps the "rotate" tag, which the MP4 muxer writes as a display matrix; 270
    // gives the matrix a phone held upright writes (ffprobe: rotation -90).
    const QString path = generate(QStringLiteral("numbered-rotated-cw90.mp4"),
                                  {QStringLiteral("-i"), source.path, QStringLiteral("-c"), QStringLiteral("copy"),
                                   QStringLiteral("-metadata:s:v:0"), QStringLiteral("rotate=270")});
    return NumberedClip{path, source.frames, QStringLiteral("H.264, shown turned 90° clockwise")};
}

int pictureNumber(const unsigned char *luma, int lineSize, int width, int height)
{
    const int blockWidth = width / Columns;
    const int blockHeight = height / Rows;
    int number = 0;
    for (int bit = 0; bit < Columns * Rows; ++bit) {
        // The middle half of the block: away from edges that compression blurs.
        const int x0 = (bit % Columns) * blockWidth + blockWidth / 4;
        const int y0 = (bit / Columns) * blockHeight + blockHeight / 4;
        long sum = 0;
        int n = 0;
        for (int y = y0; y < y0 + blockHeight / 2; ++y) {
            for (int x = x0; x < x0 + blockWidth / 2; ++x) {
                sum += luma[y * lineSize + x];
                ++n;
            }
        }
        const long mean = sum / n;
        if (mean > 180)
            number |= 1 << bit;
        else if (mean > 70)
            return -1; // neither black nor white: not the pattern
    }
    return number;
}

} // namespace fixtures
