#include "media/waveform.h"

#include "media/ffmpeg_p.h"
#include "media/imagewriter_p.h"
#include "media/outputfile_p.h"
#include "media/params_p.h"

extern "C" {
#include <libavutil/samplefmt.h>
}

#include <QElapsedTimer>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace clipdeck::media {

namespace {

constexpr int MaxConsecutiveBadPackets = 200; // as in VideoReader: a bad patch is skipped, garbage is not
// Memory per bucket and channel: two floats, up to as much again while a vector grows, and the
// JSON text ("-0.1234,-0.1234," at most).
constexpr qint64 BytesPerPeak = 2 * 2 * sizeof(float) + 16;

struct Options
{
    int bucketsPerSecond = 100;
    qint64 buckets = 0; // > 0: a fixed total instead of a rate
    bool mix = false;
};

ff::Expected<Options> readOptions(const QVariantMap &params)
{
    ParamReader r(params);
    r.allowOnly({QStringLiteral("bucketsPerSecond"), QStringLiteral("buckets"), QStringLiteral("channels")});
    Options o;
    o.bucketsPerSecond = r.integer(QStringLiteral("bucketsPerSecond"), 100, 1, 1000);
    o.buckets = r.integer(QStringLiteral("buckets"), 0, 1, 1000000);
    o.mix = r.string(QStringLiteral("channels"), QStringLiteral("all"), {QStringLiteral("all"), QStringLiteral("mix")})
            == u"mix";
    if (auto e = r.error())
        return *e;
    auto given = [&](const QString &key) {
        const auto it = params.constFind(key);
        return it != params.cend() && !it->isNull();
    };
    if (given(QStringLiteral("bucketsPerSecond")) && given(QStringLiteral("buckets")))
        return Error{errors::InvalidParams, QStringLiteral("Give either 'bucketsPerSecond' or 'buckets', not both.")};
    return o;
}

// Sample values in [-1, 1] from each of FFmpeg's sample types.
inline float normalise(uint8_t v)
{
    return (int(v) - 128) / 128.0f;
}
inline float normalise(int16_t v)
{
    return v / 32768.0f;
}
inline float normalise(int32_t v)
{
    return float(v / 2147483648.0);
}
inline float normalise(int64_t v)
{
    return float(double(v) / 9223372036854775808.0);
}
inline float normalise(float v)
{
    return v;
}
inline float normalise(double v)
{
    return float(v);
}

// Min/max per bucket per list. Bucket of sample j is floor(j * num / den): num/den is
// buckets-per-second / sample rate, or buckets / expected samples. Samples are taken in runs that
// end at bucket boundaries, so the inner loops are plain min/max over native samples.
class Peaks
{
public:
    Peaks(int lists, int64_t num, int64_t den) : m_lists(lists), m_num(num), m_den(den), m_current(size_t(lists))
    {
        m_mins.resize(size_t(lists));
        m_maxs.resize(size_t(lists));
        m_bucketEnd = boundaryAfter(0);
    }

    // Adds `count` samples of every list: source(list, from, to, &min, &max) gives a run's extremes.
    template <typename Source>
    void add(int64_t count, Source &&source)
    {
        int64_t done = 0;
        while (done < count) {
            const int64_t run = std::min(count - done, m_bucketEnd - m_samples);
            for (int l = 0; l < m_lists; ++l) {
                float lo, hi;
                source(l, done, done + run, lo, hi);
                auto &c = m_current[size_t(l)];
                c.min = std::min(c.min, lo);
                c.max = std::max(c.max, hi);
            }
            done += run;
            m_samples += run;
            if (m_samples == m_bucketEnd)
                closeBucket();
        }
    }

    void addSilence(int64_t count)
    {
        add(count, [](int, int64_t, int64_t, float &lo, float &hi) { lo = hi = 0; });
    }

    // Closes the last, partial bucket.
    void finish()
    {
        if (m_current[0].min <= m_current[0].max)
            closeBucket();
    }

    int64_t samples() const { return m_samples; }
    size_t buckets() const { return m_mins[0].size(); }
    const std::vector<float> &mins(int list) const { return m_mins[size_t(list)]; }
    const std::vector<float> &maxs(int list) const { return m_maxs[size_t(list)]; }

    // Merges or stretches every list to exactly `count` buckets (when a fixed total was asked
    // and the audio turned out longer or shorter than its container said).
    void resize(size_t count)
    {
        const size_t have = buckets();
        if (have == count || have == 0)
            return;
        for (int l = 0; l < m_lists; ++l) {
            std::vector<float> mins(count), maxs(count);
            for (size_t i = 0; i < count; ++i) {
                size_t from = i * have / count, to = std::max(from + 1, (i + 1) * have / count);
                float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
                for (size_t j = from; j < to && j < have; ++j) {
                    lo = std::min(lo, m_mins[size_t(l)][j]);
                    hi = std::max(hi, m_maxs[size_t(l)][j]);
                }
                mins[i] = lo;
                maxs[i] = hi;
            }
            m_mins[size_t(l)] = std::move(mins);
            m_maxs[size_t(l)] = std::move(maxs);
        }
    }

private:
    struct Extremes
    {
        float min = std::numeric_limits<float>::max();
        float max = std::numeric_limits<float>::lowest();
    };

    // The first sample index of the bucket after the one holding `sample`.
    int64_t boundaryAfter(int64_t sample) const
    {
        const int64_t bucket = sample * m_num / m_den;
        // ceil((bucket + 1) * den / num)
        return ((bucket + 1) * m_den + m_num - 1) / m_num;
    }

    void closeBucket()
    {
        for (int l = 0; l < m_lists; ++l) {
            auto &c = m_current[size_t(l)];
            m_mins[size_t(l)].push_back(std::clamp(c.min, -1.0f, 1.0f));
            m_maxs[size_t(l)].push_back(std::clamp(c.max, -1.0f, 1.0f));
            c = Extremes{};
        }
        m_bucketEnd = boundaryAfter(m_samples);
    }

    int m_lists;
    int64_t m_num, m_den;
    int64_t m_samples = 0;
    int64_t m_bucketEnd = 0;
    std::vector<Extremes> m_current;
    std::vector<std::vector<float>> m_mins, m_maxs;
};

// The extremes of samples [from, to) of one channel, `stride` samples apart.
template <typename T>
void runExtremes(const T *p, ptrdiff_t stride, int64_t from, int64_t to, float &lo, float &hi)
{
    T mn = p[from * stride], mx = mn;
    for (int64_t i = from + 1; i < to; ++i) {
        const T v = p[i * stride];
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
    }
    lo = normalise(mn);
    hi = normalise(mx);
}

template <typename T>
void addFrame(Peaks &peaks, const AVFrame *frame, int64_t n, bool mix, std::vector<float> &mixBuffer)
{
    const int channels = frame->ch_layout.nb_channels;
    const bool planar = av_sample_fmt_is_planar(AVSampleFormat(frame->format));
    auto sample = [&](int c, int64_t i) -> const T * {
        return planar ? reinterpret_cast<const T *>(frame->extended_data[c]) + i
                      : reinterpret_cast<const T *>(frame->extended_data[0]) + i * channels + c;
    };
    if (mix) {
        // The average of the channels, sample by sample, into one reused buffer.
        mixBuffer.assign(size_t(n), 0.0f);
        for (int c = 0; c < channels; ++c) {
            const T *p = sample(c, 0);
            const ptrdiff_t stride = planar ? 1 : channels;
            for (int64_t i = 0; i < n; ++i)
                mixBuffer[size_t(i)] += normalise(p[i * stride]);
        }
        const float scale = 1.0f / float(std::max(1, channels));
        for (float &v : mixBuffer)
            v *= scale;
        peaks.add(n, [&](int, int64_t from, int64_t to, float &lo, float &hi) {
            runExtremes(mixBuffer.data(), 1, from, to, lo, hi);
        });
        return;
    }
    peaks.add(n, [&](int list, int64_t from, int64_t to, float &lo, float &hi) {
        if (list >= channels) { // the layout shrank mid-stream: nothing for this channel
            lo = hi = 0;
            return;
        }
        runExtremes(sample(list, 0), planar ? 1 : channels, from, to, lo, hi);
    });
}

// Adds the frame's first `n` samples.
void addAnyFrame(Peaks &peaks, const AVFrame *frame, int64_t n, bool mix, std::vector<float> &mixBuffer)
{
    switch (av_get_packed_sample_fmt(AVSampleFormat(frame->format))) {
    case AV_SAMPLE_FMT_U8: addFrame<uint8_t>(peaks, frame, n, mix, mixBuffer); break;
    case AV_SAMPLE_FMT_S16: addFrame<int16_t>(peaks, frame, n, mix, mixBuffer); break;
    case AV_SAMPLE_FMT_S32: addFrame<int32_t>(peaks, frame, n, mix, mixBuffer); break;
    case AV_SAMPLE_FMT_S64: addFrame<int64_t>(peaks, frame, n, mix, mixBuffer); break;
    case AV_SAMPLE_FMT_FLT: addFrame<float>(peaks, frame, n, mix, mixBuffer); break;
    case AV_SAMPLE_FMT_DBL: addFrame<double>(peaks, frame, n, mix, mixBuffer); break;
    default: break; // no other sample formats exist
    }
}

// A value in [-1, 1] with at most four decimals and no trailing zeros ("-0.5", "0", "0.1234"):
// written by hand, since a long clip has millions of them.
void appendValue(QByteArray &out, float v)
{
    long r = std::lround(double(v) * 10000.0);
    if (r < 0) {
        out.append('-');
        r = -r;
    }
    out.append(char('0' + r / 10000));
    long frac = r % 10000;
    if (frac == 0)
        return;
    char digits[5] = {'.', char('0' + frac / 1000), char('0' + frac / 100 % 10), char('0' + frac / 10 % 10),
                      char('0' + frac % 10)};
    int len = 5;
    while (digits[len - 1] == '0')
        --len;
    out.append(digits, len);
}

QByteArray toJson(const Peaks &peaks, int lists, int sampleRate, double duration, double bucketsPerSecond)
{
    QByteArray out;
    out.reserve(qsizetype(peaks.buckets() * size_t(lists) * 16 + 256));
    out.append("{\"v\":1,\"sampleRate\":");
    out.append(QByteArray::number(sampleRate));
    out.append(",\"channels\":");
    out.append(QByteArray::number(lists));
    out.append(",\"durationSeconds\":");
    out.append(QByteArray::number(duration, 'g', 12));
    out.append(",\"bucketsPerSecond\":");
    out.append(QByteArray::number(bucketsPerSecond, 'g', 12));
    out.append(",\"buckets\":");
    out.append(QByteArray::number(qulonglong(peaks.buckets())));
    out.append(",\"peaks\":[");
    for (int l = 0; l < lists; ++l) {
        if (l > 0)
            out.append(',');
        out.append('[');
        const auto &mins = peaks.mins(l);
        const auto &maxs = peaks.maxs(l);
        for (size_t i = 0; i < mins.size(); ++i) {
            if (i > 0)
                out.append(',');
            appendValue(out, mins[i]);
            out.append(',');
            appendValue(out, maxs[i]);
        }
        out.append(']');
    }
    out.append("]}\n");
    return out;
}

Error canceled()
{
    return Error{errors::Canceled, QStringLiteral("Canceled.")};
}

} // namespace

std::optional<Error> validateWaveform(const QVariantMap &params)
{
    auto options = readOptions(params);
    if (auto *e = ff::errorOf(options))
        return *e;
    return std::nullopt;
}

Result runWaveform(const Request &request, Control &control)
{
    auto parsed = readOptions(request.params);
    if (auto *e = ff::errorOf(parsed))
        return Result{*e, {}};
    const Options options = std::get<Options>(parsed);

    Progress progress;
    progress.stage = QStringLiteral("opening");
    if (!control.checkpoint(progress))
        return Result{canceled(), {}};

    auto opened = ff::openInput(request.inputPath, request.limits);
    if (auto *e = ff::errorOf(opened))
        return Result{*e, {}};
    ff::InputContext input = std::move(std::get<ff::InputContext>(opened));
    const int streamIndex = ff::bestStream(input.get(), AVMEDIA_TYPE_AUDIO);
    if (streamIndex < 0)
        return Result{Error{errors::NoAudio, QStringLiteral("The file has no audio stream.")}, {}};
    const AVStream *stream = input->streams[streamIndex];
    auto decoderOpened = ff::openDecoder(stream, request.limits);
    if (auto *e = ff::errorOf(decoderOpened))
        return Result{*e, {}};
    ff::CodecContext decoder = std::move(std::get<ff::CodecContext>(decoderOpened));
    for (unsigned i = 0; i < input->nb_streams; ++i) {
        if (int(i) != streamIndex)
            input->streams[i]->discard = AVDISCARD_ALL;
    }

    // Reserve the output before the work: an unwritable folder fails at once.
    auto reserved = OutputFile::reserve(request.outputDir, request.baseName, QStringLiteral(".waveform.json"));
    if (auto *e = ff::errorOf(reserved))
        return Result{*e, {}};
    OutputFile file = std::move(std::get<OutputFile>(reserved));

    const int sampleRate = decoder->sample_rate > 0 ? decoder->sample_rate : stream->codecpar->sample_rate;
    const int channels = std::max(1, decoder->ch_layout.nb_channels > 0 ? decoder->ch_layout.nb_channels
                                                                        : stream->codecpar->ch_layout.nb_channels);
    if (sampleRate <= 0)
        return Result{Error{errors::CorruptStream, QStringLiteral("The audio stream has no sample rate.")}, {}};
    const int lists = options.mix ? 1 : channels;

    const double streamDuration =
        stream->duration > 0 ? ff::toSeconds(stream->duration, stream->time_base) : ff::durationSeconds(input.get());
    // Audio that starts after the clip does: silence first, so bucket times are clip times.
    double leadIn = 0;
    if (stream->start_time != AV_NOPTS_VALUE && input->start_time != AV_NOPTS_VALUE) {
        leadIn = ff::toSeconds(stream->start_time, stream->time_base) - double(input->start_time) / AV_TIME_BASE;
        if (leadIn < 0.0005 || leadIn > 600)
            leadIn = 0;
    }
    const double expectedDuration = streamDuration + leadIn;

    int64_t num = options.bucketsPerSecond, den = sampleRate;
    const bool fixedTotal = options.buckets > 0;
    if (fixedTotal) {
        const auto expectedSamples = int64_t(std::llround(expectedDuration * sampleRate));
        if (expectedSamples > 0) {
            num = options.buckets;
            den = expectedSamples;
        } else {
            // No duration known: gather finely, merge to the asked total at the end.
            num = 1000;
        }
    }
    // Encoders pad the last packet (AAC: up to 1024 samples) and not every demuxer trims it; a
    // duration the container states (not one guessed from the bit rate) is where the audio ends.
    int64_t sampleLimit = std::numeric_limits<int64_t>::max();
    if (stream->duration > 0 && input->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE)
        sampleLimit = std::llround(expectedDuration * sampleRate);
    // The peaks are held until the end (two floats per bucket and channel, the vectors' growth,
    // then about as much again as JSON): checked against the memory budget for the duration the
    // container states, and again as they grow, since a file can state one and hold another.
    const auto peaksBytes = [lists](double buckets) { return qint64(std::min(buckets, 1e15)) * lists * BytesPerPeak; };
    const auto overBudget = [&](double buckets) {
        return ff::checkBudget(peaksBytes(buckets), request.limits,
                               QStringLiteral("The waveform of %1 s of %2-channel audio at %3 buckets a second")
                                   .arg(std::max(expectedDuration, buckets * den / double(num)), 0, 'f', 0)
                                   .arg(lists)
                                   .arg(double(num) * sampleRate / double(den), 0, 'g', 4));
    };
    if (expectedDuration > 0) {
        if (auto e = overBudget(fixedTotal ? double(options.buckets) : expectedDuration * options.bucketsPerSecond))
            return Result{*e, {}};
    }
    Peaks peaks(lists, num, den);
    if (leadIn > 0)
        peaks.addSilence(std::llround(leadIn * sampleRate));

    ff::Packet packet = ff::makePacket();
    ff::Frame frame = ff::makeFrame();
    std::vector<float> mixBuffer;
    QElapsedTimer clock, sinceCheckpoint;
    clock.start();
    sinceCheckpoint.start();
    int badPackets = 0;
    std::optional<Error> decodeFailure;
    bool draining = false;

    auto report = [&]() {
        const double done = double(peaks.samples()) / sampleRate;
        progress.stage = QStringLiteral("analysing");
        progress.mediaSeconds = done;
        progress.fraction = expectedDuration > 0 ? std::clamp(0.95 * done / expectedDuration, 0.0, 0.95) : 0;
        sinceCheckpoint.restart();
        return control.checkpoint(progress);
    };

    for (bool finished = false; !finished;) {
        if (!draining) {
            const int rc = av_read_frame(input.get(), packet.get());
            if (rc < 0) {
                // End of file, or a read error at a truncated tail: what was decoded stays good.
                avcodec_send_packet(decoder.get(), nullptr);
                draining = true;
            } else if (packet->stream_index != streamIndex) {
                av_packet_unref(packet.get());
                continue;
            } else {
                const int sent = avcodec_send_packet(decoder.get(), packet.get());
                av_packet_unref(packet.get());
                if (sent < 0 && sent != AVERROR(EAGAIN) && ++badPackets > MaxConsecutiveBadPackets) {
                    decodeFailure = ff::decodeError(sent, QStringLiteral("The audio"));
                    break;
                }
            }
        }
        for (;;) {
            const int rc = avcodec_receive_frame(decoder.get(), frame.get());
            if (rc == AVERROR(EAGAIN))
                break;
            if (rc == AVERROR_EOF) {
                finished = true;
                break;
            }
            if (rc < 0) {
                if (++badPackets > MaxConsecutiveBadPackets) {
                    decodeFailure = ff::decodeError(rc, QStringLiteral("The audio"));
                    finished = true;
                }
                break;
            }
            badPackets = 0;
            const int64_t n = std::min<int64_t>(frame->nb_samples, sampleLimit - peaks.samples());
            if (n > 0)
                addAnyFrame(peaks, frame.get(), n, options.mix, mixBuffer);
            av_frame_unref(frame.get());
        }
        if (draining && !finished) // the decoder holds nothing more
            finished = true;
        if (sinceCheckpoint.elapsed() >= 30) {
            if (auto e = overBudget(double(peaks.buckets())))
                return Result{*e, {}};
            if (!report())
                return Result{canceled(), {}};
        }
    }
    if (decodeFailure)
        return Result{*decodeFailure, {}};
    peaks.finish();
    if (auto e = overBudget(double(peaks.buckets())))
        return Result{*e, {}};
    if (peaks.samples() == int64_t(std::llround(leadIn * sampleRate)))
        return Result{ff::decodeError(AVERROR_INVALIDDATA, QStringLiteral("The audio")), {}};
    if (fixedTotal)
        peaks.resize(size_t(options.buckets));

    progress.stage = QStringLiteral("finalising");
    progress.fraction = 0.97;
    if (!control.checkpoint(progress))
        return Result{canceled(), {}};
    const double duration = double(peaks.samples()) / sampleRate;
    const double rate = fixedTotal ? double(peaks.buckets()) / duration : options.bucketsPerSecond;
    if (auto e = writeWholeFile(file.temporaryPath(), toJson(peaks, lists, sampleRate, duration, rate)))
        return Result{*e, {}};
    if (auto e = file.commit())
        return Result{*e, {}};
    return Result{std::nullopt, {file.output(QStringLiteral("waveform"), QStringLiteral("application/json"))}};
}

} // namespace clipdeck::media
