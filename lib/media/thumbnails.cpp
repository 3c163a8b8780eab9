#include "media/thumbnails.h"

#include "media/ffmpeg_p.h"
#include "media/imagewriter_p.h"
#include "media/outputfile_p.h"
#include "media/params_p.h"
#include "media/videoreader_p.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
}

#include <QElapsedTimer>
#include <QFile>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

// How the frames are picked, and why it is fast
// ----------------------------------------------
// The clip is cut into `count` equal segments; each thumbnail is a keyframe inside its segment,
// the one nearest the segment's middle first. Keyframes decode on their own, so a thumbnail costs
// one seek, one packet read and one picture decode, whatever the clip's length (the ffmpeg CLI's
// `-skip_frame nokey … select … tile` reads the whole file and decodes every keyframe instead).
//
// Where the container lists its keyframes up front (MP4/MOV, Matroska), the pick is made from
// that list. The chosen keyframes of all segments go to the decoder as one batch
// (VideoReader::decodeKeyframes): a frame-threaded decoder decodes several at once, and each
// picture leaves the decoder at once instead of waiting in its B-frame reorder buffer for the next
// keyframe (seek + keyframes-only decoding pays that: two keyframe decodes and a GOP of reading
// per picture, ~4x slower). Without an index (MPEG-TS …) the batch asks for the keyframe at each
// middle, and a segment it does not suit is scanned keyframe by keyframe.
//
// A picture that is black (mean luma below ~8 %) or flat (almost no luma variation: a slate, a
// fade, a solid colour) is passed over: the next round of the batch tries the segment's next
// keyframe, up to MaxTries pictures; if all of them are dull the most detailed one is kept.
//
// A segment with no keyframe at all (a long GOP, a very short clip) is decoded normally from the
// keyframe before it up to the segment's start: slower, but each thumbnail still shows its own
// stretch of the clip. Only a clip with fewer frames than `count` yields fewer thumbnails.
//
// Keyframes are decoded without the in-loop deblocking filter (not visible once scaled down;
// halves the cost of a keyframe here) and scaled once, straight to the thumbnail size in
// full-range 4:2:0, which the JPEG encoder takes as it is. The poster is the picture with the
// most going on (luma histogram entropy), preferring one near a third into the clip, scaled from
// the decoded source picture, not from its thumbnail.

namespace clipdeck::media {

namespace {

constexpr int MaxTries = 4; // pictures looked at per thumbnail when they are dull
constexpr int MaxCount = 100;
constexpr double BlackMeanLuma = 20; // full-range luma (0..255); black is 0, limited-range black 16→0
constexpr double FlatDeviation = 6;  // luma standard deviation of a slate or a solid colour
constexpr int JpegQuality = 3;

struct Options
{
    int count = 8;
    int columns = 4;
    int rows = 2;
    int width = 320;
    int posterWidth = 1280;
    int gutter = 4;
    ImageFormat format = ImageFormat::Jpeg;
    bool frames = true;
    bool sheet = true;
    bool poster = true;
    bool timestamps = true;
};

ff::Expected<Options> readOptions(const QVariantMap &params)
{
    ParamReader r(params);
    r.allowOnly({QStringLiteral("count"), QStringLiteral("columns"), QStringLiteral("rows"), QStringLiteral("width"),
                 QStringLiteral("format"), QStringLiteral("sheet"), QStringLiteral("poster"), QStringLiteral("frames"),
                 QStringLiteral("posterWidth"), QStringLiteral("gutter"), QStringLiteral("timestamps")});
    auto given = [&](const char *key) {
        const auto it = params.constFind(QString::fromLatin1(key));
        return it != params.cend() && !it->isNull();
    };
    Options o;
    o.frames = r.boolean(QStringLiteral("frames"), true);
    o.sheet = r.boolean(QStringLiteral("sheet"), true);
    o.poster = r.boolean(QStringLiteral("poster"), true);
    o.timestamps = r.boolean(QStringLiteral("timestamps"), true);
    o.format = imageFormatFromName(r.string(QStringLiteral("format"), QStringLiteral("jpg"),
                                            {QStringLiteral("jpg"), QStringLiteral("jpeg"), QStringLiteral("png")}));
    o.width = r.integer(QStringLiteral("width"), 320, 16, 1920);
    o.posterWidth = r.integer(QStringLiteral("posterWidth"), 1280, 16, 7680);
    o.gutter = r.integer(QStringLiteral("gutter"), 4, 0, 64);
    o.columns = r.integer(QStringLiteral("columns"), 4, 1, 16);
    o.rows = r.integer(QStringLiteral("rows"), 2, 1, 16);
    if (given("count"))
        o.count = r.integer(QStringLiteral("count"), 8, 1, MaxCount);
    else if (o.sheet)
        o.count = o.columns * o.rows;
    if (auto e = r.error())
        return *e;
    // 4:2:0 pictures: even sizes and offsets keep the chroma planes aligned with the luma.
    o.width += o.width % 2;
    o.posterWidth += o.posterWidth % 2;
    o.gutter += o.gutter % 2;
    if (!o.frames && !o.sheet && !o.poster)
        return Error{errors::InvalidParams, QStringLiteral("Nothing to make: frames, sheet and poster are all false.")};
    if (o.count > MaxCount)
        return Error{errors::InvalidParams,
                     QStringLiteral("A %1×%2 contact sheet needs %3 thumbnails; at most %4 are made.")
                         .arg(o.columns)
                         .arg(o.rows)
                         .arg(o.columns * o.rows)
                         .arg(MaxCount)};
    // Unless told otherwise, the sheet is as wide and as tall as its thumbnails fill it.
    if (!given("columns"))
        o.columns = std::min(o.columns, o.count);
    if (!given("rows"))
        o.rows = (o.count + o.columns - 1) / o.columns;
    if (o.sheet && o.count > o.columns * o.rows)
        return Error{
            errors::InvalidParams,
            QStringLiteral("%1 thumbnails do not fit a %2×%3 contact sheet.").arg(o.count).arg(o.columns).arg(o.rows)};
    return o;
}

// Luma statistics of a full-range 4:2:0 picture.
struct PictureStats
{
    double mean = 0;
    double deviation = 0;
    double entropy = 0; // bits, of a 64-bin histogram: how much is going on in the picture
    bool dull() const { return mean < BlackMeanLuma || deviation < FlatDeviation; }
};

PictureStats measure(const AVFrame *picture)
{
    std::array<uint32_t, 256> histogram{};
    for (int y = 0; y < picture->height; ++y) {
        const uint8_t *row = picture->data[0] + ptrdiff_t(y) * picture->linesize[0];
        for (int x = 0; x < picture->width; ++x)
            ++histogram[row[x]];
    }
    const double n = double(picture->width) * picture->height;
    double sum = 0, sumSquares = 0;
    std::array<double, 64> bins{};
    for (int v = 0; v < 256; ++v) {
        sum += double(v) * histogram[v];
        sumSquares += double(v) * v * histogram[v];
        bins[v / 4] += histogram[v];
    }
    PictureStats s;
    s.mean = sum / n;
    s.deviation = std::sqrt(std::max(0.0, sumSquares / n - s.mean * s.mean));
    for (double b : bins) {
        if (b > 0)
            s.entropy -= (b / n) * std::log2(b / n);
    }
    return s;
}

ff::Frame allocatePicture(int width, int height, AVPixelFormat format)
{
    ff::Frame f = ff::makeFrame();
    f->width = width;
    f->height = height;
    f->format = format;
    f->color_range = AVCOL_RANGE_JPEG;
    if (av_frame_get_buffer(f.get(), 0) < 0)
        return nullptr;
    return f;
}

// Clockwise quarter turns that show the picture upright (phone clips store a display matrix
// rather than turning the pictures); flips in the matrix are not undone.
int quarterTurns(const AVStream *stream)
{
    const auto *matrix =
        reinterpret_cast<const int32_t *>(av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr));
    if (!matrix)
        return 0;
    const double degrees = -av_display_rotation_get(matrix); // FFmpeg gives it counterclockwise
    if (std::isnan(degrees))
        return 0;
    const int quarters = int(std::lround(degrees / 90.0)) % 4;
    return quarters < 0 ? quarters + 4 : quarters;
}

// The size to scale a stored picture to, so that turned upright it fits `maxWidth` wide.
QSize storedSizeFor(int width, int height, AVRational sar, int maxWidth, int turns)
{
    if (turns % 2 == 0)
        return fitWithin(width, height, sar, maxWidth, 0);
    // Upright, the stored height runs across and the (aspect-corrected) width runs down.
    const double shownHeight = sar.num > 0 && sar.den > 0 ? width * av_q2d(sar) : width;
    const QSize upright = fitWithin(height, int(std::lround(shownHeight)), AVRational{1, 1}, maxWidth, 0);
    return upright.transposed();
}

// A YUVJ420P picture turned clockwise by `turns` quarter turns (a new picture).
ff::Frame turned(const AVFrame *src, int turns)
{
    const bool swap = turns % 2 == 1;
    ff::Frame dst =
        allocatePicture(swap ? src->height : src->width, swap ? src->width : src->height, AV_PIX_FMT_YUVJ420P);
    if (!dst)
        return nullptr;
    for (int plane = 0; plane < 3; ++plane) {
        const int shift = plane == 0 ? 0 : 1;
        const int w = src->width >> shift, h = src->height >> shift;
        const uint8_t *in = src->data[plane];
        const int inStride = src->linesize[plane];
        uint8_t *out = dst->data[plane];
        const int outStride = dst->linesize[plane];
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                const uint8_t v = in[ptrdiff_t(y) * inStride + x];
                int ox = x, oy = y;
                switch (turns) {
                case 1:
                    ox = h - 1 - y;
                    oy = x;
                    break;
                case 2:
                    ox = w - 1 - x;
                    oy = h - 1 - y;
                    break;
                case 3:
                    ox = y;
                    oy = w - 1 - x;
                    break;
                default: break;
                }
                out[ptrdiff_t(oy) * outStride + ox] = v;
            }
        }
    }
    return dst;
}

struct Thumbnail
{
    ff::Frame picture; // thumbnail size, YUVJ420P
    double seconds = 0;
    PictureStats stats;
};

// ---- timestamps on the contact sheet: a 3×5 pixel font, digits and separators only ----------

constexpr std::array<std::array<uint8_t, 5>, 12> Glyphs{{
    {7, 5, 5, 5, 7},
    {2, 6, 2, 2, 7},
    {7, 1, 7, 4, 7},
    {7, 1, 7, 1, 7},
    {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7},
    {7, 4, 7, 5, 7},
    {7, 1, 1, 1, 1},
    {7, 5, 7, 5, 7},
    {7, 5, 7, 1, 7},
    {0, 2, 0, 2, 0},
    {0, 0, 0, 0, 2},
}};

int glyphIndex(QChar c)
{
    if (c.isDigit())
        return c.digitValue();
    return c == u':' ? 10 : 11;
}

QString timestampText(double seconds, double clipDuration)
{
    const auto total = qint64(std::floor(seconds * 10 + 1e-6)); // tenths
    const qint64 tenths = total % 10, s = total / 10 % 60, m = total / 600 % 60, h = total / 36000;
    QString text = clipDuration >= 3600
                       ? QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QChar(u'0')).arg(s, 2, 10, QChar(u'0'))
                       : QStringLiteral("%1:%2").arg(m).arg(s, 2, 10, QChar(u'0'));
    if (clipDuration < 10) // thumbnails under a second apart need tenths to differ
        text += QStringLiteral(".%1").arg(tenths);
    return text;
}

// Draws `text` light on a dark box at the bottom right of the rectangle (x, y, w, h) of a
// YUVJ420P picture. Coordinates stay even so the box's chroma covers it exactly.
void drawTimestamp(AVFrame *sheet, int x, int y, int w, int h, const QString &text)
{
    const int scale = std::max(1, h / 64);
    const int advance = 4 * scale, pad = 2 * scale;
    int boxW = int(text.size()) * advance - scale + 2 * pad;
    int boxH = 5 * scale + 2 * pad;
    boxW += boxW % 2;
    boxH += boxH % 2;
    if (boxW > w || boxH > h)
        return;
    const int bx = (x + w - boxW - pad) & ~1, by = (y + h - boxH - pad) & ~1;
    for (int row = by; row < by + boxH; ++row)
        std::memset(sheet->data[0] + ptrdiff_t(row) * sheet->linesize[0] + bx, 16, size_t(boxW));
    for (int plane = 1; plane <= 2; ++plane) {
        for (int row = by / 2; row < (by + boxH) / 2; ++row)
            std::memset(sheet->data[plane] + ptrdiff_t(row) * sheet->linesize[plane] + bx / 2, 128, size_t(boxW / 2));
    }
    for (int i = 0; i < text.size(); ++i) {
        const auto &glyph = Glyphs[size_t(glyphIndex(text[i]))];
        const int gx = bx + pad + i * advance;
        for (int gy = 0; gy < 5; ++gy) {
            for (int gxBit = 0; gxBit < 3; ++gxBit) {
                if (!(glyph[size_t(gy)] & (4 >> gxBit)))
                    continue;
                for (int dy = 0; dy < scale; ++dy) {
                    uint8_t *p = sheet->data[0] + ptrdiff_t(by + pad + gy * scale + dy) * sheet->linesize[0] + gx
                                 + gxBit * scale;
                    std::memset(p, 235, size_t(scale));
                }
            }
        }
    }
}

void copyPicture(AVFrame *dst, int x, int y, const AVFrame *src)
{
    for (int plane = 0; plane < 3; ++plane) {
        const int shift = plane == 0 ? 0 : 1;
        const int rows = src->height >> shift, bytes = src->width >> shift;
        for (int r = 0; r < rows; ++r) {
            std::memcpy(dst->data[plane] + ptrdiff_t((y >> shift) + r) * dst->linesize[plane] + (x >> shift),
                        src->data[plane] + ptrdiff_t(r) * src->linesize[plane], size_t(bytes));
        }
    }
}

ff::Frame makeContactSheet(const std::vector<Thumbnail> &thumbs, const Options &o, int tw, int th, double duration)
{
    const int g = o.gutter;
    ff::Frame sheet =
        allocatePicture(o.columns * tw + (o.columns + 1) * g, o.rows * th + (o.rows + 1) * g, AV_PIX_FMT_YUVJ420P);
    if (!sheet)
        return nullptr;
    // A dark grey ground: empty cells and gutters recede behind the pictures.
    for (int r = 0; r < sheet->height; ++r)
        std::memset(sheet->data[0] + ptrdiff_t(r) * sheet->linesize[0], 24, size_t(sheet->width));
    for (int plane = 1; plane <= 2; ++plane) {
        for (int r = 0; r < sheet->height / 2; ++r)
            std::memset(sheet->data[plane] + ptrdiff_t(r) * sheet->linesize[plane], 128, size_t(sheet->width / 2));
    }
    for (size_t i = 0; i < thumbs.size() && i < size_t(o.columns * o.rows); ++i) {
        const int x = g + int(i) % o.columns * (tw + g), y = g + int(i) / o.columns * (th + g);
        copyPicture(sheet.get(), x, y, thumbs[i].picture.get());
        if (o.timestamps)
            drawTimestamp(sheet.get(), x, y, tw, th, timestampText(thumbs[i].seconds, duration));
    }
    return sheet;
}

// ---- picking the frames -----------------------------------------------------------------------

class Thumbnailer
{
public:
    Thumbnailer(VideoReader &reader, Control &control, const Options &options)
        : m_reader(reader), m_control(control), m_options(options)
    { }

    std::optional<Error> run();

    std::vector<Thumbnail> thumbnails;
    ff::Frame posterSource;              // the decoded picture the poster is made from
    int thumbWidth = 0, thumbHeight = 0; // upright
    int turns = 0;                       // clockwise quarter turns from stored to upright
    double duration = 0;

private:
    struct Segment
    {
        int index = 0;
        double start = 0, end = 0, middle = 0;
        std::vector<double> candidates; // indexed keyframes inside, nearest the middle first
        size_t tried = 0;
        std::optional<Thumbnail> best;
        bool done() const { return best && !best->stats.dull(); }
    };
    // Looks at a decoded picture for the segment. True when it is good enough to stop looking.
    bool consider(Segment &s, const AVFrame *frame, double seconds);
    bool decodeRound(std::vector<Segment *> &batch, const std::vector<double> &times);
    void fromKeyframeScan(Segment &s);
    void fromFullDecode(Segment &s, double after);
    bool checkpoint(double fraction, double mediaSeconds);

    VideoReader &m_reader;
    Control &m_control;
    const Options &m_options;
    FrameScaler m_scaler;
    QSize m_scaledSize; // thumbnail size before turning upright
    double m_posterScore = -std::numeric_limits<double>::infinity();
    double m_frameSeconds = 0.04;
    double m_fraction = 0;
    int m_decoded = 0;
    bool m_canceled = false;
    QElapsedTimer m_clock;
};

bool Thumbnailer::checkpoint(double fraction, double mediaSeconds)
{
    Progress p;
    p.stage = QStringLiteral("analysing");
    // Rounds revisit earlier segments: progress is the furthest point reached.
    m_fraction = std::max(m_fraction, std::clamp(fraction, 0.0, 0.9));
    p.fraction = m_fraction;
    p.mediaSeconds = mediaSeconds;
    const double elapsed = double(m_clock.nsecsElapsed()) / 1e9;
    p.framesPerSecond = elapsed > 0 ? m_decoded / elapsed : 0;
    if (!m_control.checkpoint(p))
        m_canceled = true;
    return !m_canceled;
}

bool Thumbnailer::consider(Segment &s, const AVFrame *frame, double seconds)
{
    ++m_decoded;
    // Concealed garbage from a damaged stream is no thumbnail.
    if ((frame->flags & AV_FRAME_FLAG_CORRUPT) || frame->decode_error_flags)
        return false;
    if (m_scaledSize.isEmpty()) {
        const AVRational sar = av_guess_sample_aspect_ratio(
            m_reader.format(), const_cast<AVStream *>(m_reader.stream()), const_cast<AVFrame *>(frame));
        m_scaledSize = storedSizeFor(frame->width, frame->height, sar, m_options.width, turns);
        const QSize shown = turns % 2 ? m_scaledSize.transposed() : m_scaledSize;
        thumbWidth = shown.width();
        thumbHeight = shown.height();
    }
    // Bilinear, not fast-bilinear: at 6:1 the latter skips source pixels and shimmers; this costs
    // ~1 ms per 1080p picture, a tenth of its decode.
    const AVFrame *scaled =
        m_scaler.convert(frame, m_scaledSize.width(), m_scaledSize.height(), AV_PIX_FMT_YUVJ420P, SWS_BILINEAR);
    if (!scaled)
        return false;
    const PictureStats stats = measure(scaled);
    const bool better =
        !s.best || (s.best->stats.dull() && (!stats.dull() || stats.deviation > s.best->stats.deviation));
    if (better) {
        Thumbnail t;
        if (turns) {
            t.picture = turned(scaled, turns);
        } else {
            t.picture = allocatePicture(thumbWidth, thumbHeight, AV_PIX_FMT_YUVJ420P);
            if (t.picture && av_frame_copy(t.picture.get(), scaled) < 0)
                t.picture.reset();
        }
        if (!t.picture)
            return false;
        t.seconds = seconds;
        t.stats = stats;
        s.best = std::move(t);
    }
    // The poster: the picture with the most going on, preferring one near a third in.
    const double score = stats.dull() ? stats.deviation - 1000 : stats.entropy - std::abs(seconds / duration - 1.0 / 3);
    if (m_options.poster && score > m_posterScore) {
        if (!posterSource)
            posterSource = ff::makeFrame();
        av_frame_unref(posterSource.get());
        if (av_frame_ref(posterSource.get(), frame) == 0)
            m_posterScore = score;
    }
    return !stats.dull();
}

// One keyframe for each segment in `batch`, decoded together (see VideoReader::decodeKeyframes).
bool Thumbnailer::decodeRound(std::vector<Segment *> &batch, const std::vector<double> &times)
{
    const QList<double> seconds(times.begin(), times.end());
    m_reader.decodeKeyframes(seconds, [&](int i, const AVFrame *frame) {
        Segment &s = *batch[size_t(i)];
        const double t = m_reader.frameSeconds(frame);
        // A picture from elsewhere (imprecise seeking without an index) is not this segment's.
        if (t >= s.start - m_frameSeconds / 2 && t < s.end)
            consider(s, frame, t);
        return checkpoint(0.9 * (s.index + 0.5) / m_options.count, s.middle);
    });
    return !m_canceled;
}

// No index, and the picture at the middle was not right: decode keyframes only from the
// middle on until a good one lies in the segment.
void Thumbnailer::fromKeyframeScan(Segment &s)
{
    if (!m_reader.seek(s.middle))
        return;
    int tries = 0;
    // A bound on keyframes passed before the segment (a seek that lands far too early).
    for (int passed = 0; passed < 64 && tries < MaxTries;) {
        const AVFrame *frame = m_reader.next();
        if (!checkpoint(0.9 * (s.index + 0.5) / m_options.count, s.middle) || !frame)
            return;
        const double t = m_reader.frameSeconds(frame);
        if (t < s.start) {
            ++passed;
            continue;
        }
        if (t >= s.end)
            return;
        ++tries;
        if (consider(s, frame, t))
            return;
    }
}

// The segment has no usable keyframe: decode every frame from the keyframe before it. `after`:
// the previous thumbnail's time, which this one must follow.
void Thumbnailer::fromFullDecode(Segment &s, double after)
{
    m_reader.setKeyframesOnly(false);
    // Predicted pictures built on undeblocked references drift visibly over a GOP.
    m_reader.setSkipLoopFilter(false);
    struct Restore
    {
        VideoReader &r;
        ~Restore()
        {
            r.setKeyframesOnly(true);
            r.setSkipLoopFilter(true);
        }
    } restore{m_reader};

    if (!m_reader.seek(std::max(0.0, s.start)))
        return;
    // Dull pictures: look again a little later, MaxTries times across the segment.
    const double step = std::max(m_frameSeconds, (s.end - s.start) / MaxTries);
    double nextLook = s.start - m_frameSeconds / 2;
    int tries = 0;
    while (tries < MaxTries) {
        const AVFrame *frame = m_reader.next();
        if (!checkpoint(0.9 * (s.index + 0.5) / m_options.count, s.middle) || !frame)
            return;
        const double t = m_reader.frameSeconds(frame);
        if (t <= after + m_frameSeconds / 2)
            continue;
        const bool inSegment = t >= nextLook && t < s.end;
        // Past the segment with nothing yet (imprecise seeking, a clip shorter than its
        // duration claims): the first frame after the last thumbnail is the best there is.
        if (!inSegment && !(t >= s.end && !s.best))
            continue;
        ++tries;
        nextLook = t + step;
        if (consider(s, frame, t) || t >= s.end)
            return;
    }
}

std::optional<Error> Thumbnailer::run()
{
    m_clock.start();
    m_reader.setKeyframesOnly(true);
    m_reader.setSkipLoopFilter(true);
    m_frameSeconds = 1.0 / m_reader.frameRate();
    turns = quarterTurns(m_reader.stream());
    duration = m_reader.durationSeconds();
    QList<double> keyframes = m_reader.keyframeTimes();
    // An index that ends long before the clip does was filled while reading (Matroska without
    // cues): it lists only the first keyframes. Scan instead.
    if (!keyframes.isEmpty() && duration > 0 && keyframes.constLast() < duration - std::max(10.0, duration / 4))
        keyframes.clear();
    if (duration <= 0 && !keyframes.isEmpty())
        duration = keyframes.constLast() + m_frameSeconds;
    if (duration <= 0) {
        // No duration anywhere (a raw elementary stream): find it by running through the
        // keyframes once. FFmpeg's generic index, built on the way, makes the seeks below work.
        while (const AVFrame *frame = m_reader.next()) {
            duration = std::max(duration, m_reader.frameSeconds(frame) + m_frameSeconds);
            if (!checkpoint(0, 0))
                return Error{errors::Canceled, QStringLiteral("Canceled.")};
        }
        if (duration <= 0) {
            if (m_reader.error())
                return *m_reader.error();
            return Error{errors::CorruptStream,
                         QStringLiteral("No picture of the video could be decoded; the file may be damaged.")};
        }
    }

    const int n = m_options.count;
    std::vector<Segment> segments(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        Segment &s = segments[size_t(i)];
        s.index = i;
        s.start = duration * i / n;
        s.end = duration * (i + 1) / n;
        s.middle = duration * (i + 0.5) / n;
        for (double k : keyframes) {
            if (k >= s.start && k < s.end)
                s.candidates.push_back(k);
        }
        std::stable_sort(s.candidates.begin(), s.candidates.end(),
                         [&](double a, double b) { return std::abs(a - s.middle) < std::abs(b - s.middle); });
    }

    // Rounds of one keyframe per segment still looking: with an index, its candidates in turn;
    // without, the keyframe at the middle (then a keyframe scan for the segments it did not suit).
    const bool indexed = !keyframes.isEmpty();
    for (int round = 0; round < (indexed ? MaxTries : 1); ++round) {
        std::vector<Segment *> batch;
        std::vector<double> times;
        for (auto &s : segments) {
            if (s.done())
                continue;
            if (indexed && s.tried < s.candidates.size()) {
                // Half a frame past the keyframe: the seek goes to the keyframe at or before its
                // target, and rounding must not land it on the one before.
                times.push_back(s.candidates[s.tried++] + m_frameSeconds / 2);
                batch.push_back(&s);
            } else if (!indexed) {
                times.push_back(s.middle);
                batch.push_back(&s);
            }
        }
        if (batch.empty())
            break;
        if (!decodeRound(batch, times))
            return Error{errors::Canceled, QStringLiteral("Canceled.")};
    }
    double previous = -1e9;
    for (auto &s : segments) {
        if (!indexed && !s.done())
            fromKeyframeScan(s);
        if (!m_canceled && !s.best)
            fromFullDecode(s, previous);
        if (m_canceled)
            return Error{errors::Canceled, QStringLiteral("Canceled.")};
        // Fewer frames than segments: a frame is shown once.
        if (s.best && s.best->seconds > previous + m_frameSeconds / 2) {
            previous = s.best->seconds;
            thumbnails.push_back(std::move(*s.best));
        }
    }
    if (thumbnails.empty()) {
        if (m_reader.error())
            return *m_reader.error();
        return Error{errors::CorruptStream,
                     QStringLiteral("No picture of the video could be decoded; the file may be damaged.")};
    }
    return std::nullopt;
}

// Reserves an output of the set and writes the picture to it; committed with the others.
std::optional<Error> addImage(OutputSet &outputs, const QString &suffix, const QString &role, const QString &mime,
                              const AVFrame *picture, ImageFormat format)
{
    auto reserved = outputs.reserve(suffix, role, mime);
    if (auto *e = ff::errorOf(reserved))
        return *e;
    return writeImage(picture, format, outputs.file(std::get<int>(reserved)).temporaryPath(), JpegQuality);
}

} // namespace

std::optional<Error> validateThumbnails(const QVariantMap &params)
{
    auto options = readOptions(params);
    if (auto *e = ff::errorOf(options))
        return *e;
    return std::nullopt;
}

Result runThumbnails(const Request &request, Control &control)
{
    auto parsed = readOptions(request.params);
    if (auto *e = ff::errorOf(parsed))
        return Result{*e, {}};
    const Options options = std::get<Options>(parsed);

    Progress start;
    start.stage = QStringLiteral("opening");
    if (!control.checkpoint(start))
        return Result{Error{errors::Canceled, QStringLiteral("Canceled.")}, {}};

    // What the job builds besides decoding, from the stream's size: every thumbnail (kept for
    // the sheet), the sheet, and the poster with its upright copy.
    auto memoryUse = [&options](const AVStream *stream) {
        const AVCodecParameters *par = stream->codecpar;
        const AVRational sar =
            stream->sample_aspect_ratio.num > 0 ? stream->sample_aspect_ratio : par->sample_aspect_ratio;
        const int turns = quarterTurns(stream);
        const QSize thumb = storedSizeFor(par->width, par->height, sar, options.width, turns);
        const QSize shown = turns % 2 ? thumb.transposed() : thumb;
        const auto bytes = [](qint64 w, qint64 h) { return w * h * 3 / 2; }; // YUVJ420P
        qint64 other = qint64(options.count) * bytes(thumb.width(), thumb.height()) * (turns ? 2 : 1);
        if (options.sheet)
            other += bytes(qint64(options.columns) * shown.width() + qint64(options.columns + 1) * options.gutter,
                           qint64(options.rows) * shown.height() + qint64(options.rows + 1) * options.gutter);
        if (options.poster) {
            const QSize poster = storedSizeFor(par->width, par->height, sar, options.posterWidth, turns);
            other += 2 * bytes(poster.width(), poster.height());
        }
        return ff::MemoryUse{0, other};
    };
    auto opened = VideoReader::open(request.inputPath, request.limits, memoryUse);
    if (auto *e = ff::errorOf(opened))
        return Result{*e, {}};
    auto &reader = *std::get<std::unique_ptr<VideoReader>>(opened);

    Thumbnailer thumbnailer(reader, control, options);
    if (auto e = thumbnailer.run())
        return Result{*e, {}};

    Progress encoding;
    encoding.stage = QStringLiteral("encoding");
    encoding.fraction = 0.9;
    encoding.mediaSeconds = thumbnailer.duration;
    if (!control.checkpoint(encoding))
        return Result{Error{errors::Canceled, QStringLiteral("Canceled.")}, {}};

    const QString ext = imageSuffix(options.format);
    const QString mime = imageMimeType(options.format);
    const auto &thumbs = thumbnailer.thumbnails;
    OutputSet outputs(request.outputDir, request.baseName);
    if (options.frames) {
        const int digits = std::max(2, int(QString::number(thumbs.size()).size()));
        for (size_t i = 0; i < thumbs.size(); ++i) {
            const QString suffix =
                QStringLiteral(".thumb-%1.%2").arg(qulonglong(i + 1), digits, 10, QChar(u'0')).arg(ext);
            if (auto e = addImage(outputs, suffix, QStringLiteral("thumbnail"), mime, thumbs[i].picture.get(),
                                  options.format))
                return Result{*e, {}};
        }
    }
    if (options.sheet) {
        ff::Frame sheet =
            makeContactSheet(thumbs, options, thumbnailer.thumbWidth, thumbnailer.thumbHeight, thumbnailer.duration);
        if (!sheet)
            return Result{Error{errors::Internal, QStringLiteral("Out of memory making the contact sheet.")}, {}};
        if (auto e = addImage(outputs, QStringLiteral(".contact.") + ext, QStringLiteral("contact_sheet"), mime,
                              sheet.get(), options.format))
            return Result{*e, {}};
    }
    if (options.poster && thumbnailer.posterSource) {
        const AVFrame *source = thumbnailer.posterSource.get();
        const AVRational sar = av_guess_sample_aspect_ratio(reader.format(), const_cast<AVStream *>(reader.stream()),
                                                            thumbnailer.posterSource.get());
        const QSize size = storedSizeFor(source->width, source->height, sar, options.posterWidth, thumbnailer.turns);
        FrameScaler scaler;
        const AVFrame *poster = scaler.convert(source, size.width(), size.height(), AV_PIX_FMT_YUVJ420P, SWS_BICUBIC);
        ff::Frame upright;
        if (poster && thumbnailer.turns) {
            upright = turned(poster, thumbnailer.turns);
            poster = upright.get();
        }
        if (!poster)
            return Result{Error{errors::Internal, QStringLiteral("The poster picture cannot be scaled.")}, {}};
        if (auto e = addImage(outputs, QStringLiteral(".poster.") + ext, QStringLiteral("poster"), mime, poster,
                              options.format))
            return Result{*e, {}};
    }

    Progress finishing;
    finishing.stage = QStringLiteral("finalising");
    finishing.fraction = 0.99;
    finishing.mediaSeconds = thumbnailer.duration;
    if (!control.checkpoint(finishing))
        return Result{Error{errors::Canceled, QStringLiteral("Canceled.")}, {}};
    auto committed = outputs.commit();
    if (auto *e = ff::errorOf(committed))
        return Result{*e, {}};
    return Result{std::nullopt, std::get<QList<Output>>(committed)};
}

} // namespace clipdeck::media
