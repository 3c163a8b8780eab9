#include "media/scenedetector_p.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <set>

namespace clipdeck::media::scenes {

// HOW SCENE BOUNDARIES ARE FOUND
//
// Features. Every decoded frame is scaled (area average) to 128×72 YUV 4:2:0 and reduced to
//   - the mean Y, U and V of a 16×9 grid of 8×8 blocks: where things are;
//   - soft-binned histograms of Y (32 bins), U and V (8 bins each): which colours, wherever;
//   - the mean and standard deviation of luma: brightness and flatness, for fades.
// The distance between two frames is the average of the block distance (mean |difference| over
// the grid, ×3 and capped at 1: unrelated pictures differ by 0.1–0.3 per block) and the
// histogram distance (total variation, 0..1). Either alone misses cuts the other sees: same
// colours in another layout, or the same layout in other colours. Motion moves content but
// mostly keeps its colours, so it counts about half.
//
// 1. One test for cuts and gradual transitions: change at several time scales. For each k in
//    1, 2, 3, 4, 6, 8, 11, 16, ... up to 2.5 s of frames, D_k(t) = distance(frame t, frame t-k).
//    A boundary between shots A and B that takes L frames (0 for a cut) makes D_k(t) large for
//    every k > L as soon as the window [t-k, t] holds all of it. Motion inside a shot makes D_k
//    large too, but everywhere: the same length of time just before, D_k(t-k), and just after,
//    D_k(t+k), changes as much. The evidence is therefore the ratio to that local, adaptive
//    baseline,
//        R_k(t) = D_k(t) / (0.015 + max(D_k(t-k), D_k(t+k))).
//    A fast pan, a swarm, water, a cellular automaton: R ≈ 1 at every scale. A slow zoom or pan
//    over a gradient accumulates evenly: R ≈ 1. A static shot: tiny D, and the 0.015 floor keeps
//    its ratios small. A one-frame flash: at k = 1 the frame after differs as much (R ≈ 1), at
//    k ≥ 2 the window's ends are both unflashed. Motion that starts or stops: the moving side
//    raises the max. Per scale, runs of frames with R ≥ 1.4 and D ≥ 0.02 (the most sensitive
//    setting's floor) give one candidate window [t-k, t] each, at the run's best R; it is
//    evaluated k frames later, once D_k(t+k) is known (a small, bounded delay: streaming).
//
// 2. Where. Each frame u of the window gets progress(u) = dA / (dA + dB), dA and dB its block
//    distances to the window's first and last frame: 0 on the old shot, 1 on the new. A single
//    step of at least 0.5 is a cut, at the frame after the step (the new shot's first frame).
//    Otherwise a ramp — 0 up to a, linear up to b, 1 after — is fitted by least squares: frames
//    a+1 .. b-1 are the transition, its middle is the boundary. Fitting, rather than reading off
//    where progress crosses fixed levels, keeps camera drift through the window from
//    stretching the span.
//
// 3. Which kind (gradual transitions).
//    - Fade: a frame in the span is flat and dark or bright (deviation under a quarter of both
//      ends'), or the span starts or ends on a flat picture. Also, every run of flat frames
//      (deviation < 0.03: black, white, a plain colour) with the deviation rising around it is a
//      fade valley; a gradual candidate that overlaps a valley becomes that one fade — fade out,
//      hold, fade in — with its boundary in the middle of the hold, rather than two boundaries
//      around a "scene" of black.
//    - Wipe or dissolve: in a dissolve every block drifts from its old to its new value over the
//      whole transition; in a wipe each block switches as the edge passes it. So the largest
//      one-frame step of a block's own progress (median over the blocks that change) is ~1/L
//      for a dissolve and several times that for a wipe: a wipe needs ≥ 0.15 and ≥ 5/L. Camera
//      motion adds a little to every step, not a multiple of 1/L. A wipe with a soft edge as
//      wide as the picture (xfade smoothleft) blends each block for half its length: it reads
//      as a dissolve.
//    - A dissolve or a wipe must be made of blends: each block of the mixed frames lies on the
//      segment from its old to its new value. The residual off the segments, relative to the
//      change, must be at most 0.3 (0.01–0.1 on xfade transitions; content that changes fast on
//      its own, such as cellular automata, is 0.15–0.35 and often passes the ratio test).
//
// 4. How sure, and which to keep. Score = min(R / R0, D / D0): R0 = 3, D0 = 0.08 for a cut,
//    R0 = 2.5, D0 = 0.12 for a gradual transition, so that 1.0 means "at the default threshold"
//    for every kind. The same boundary shows at many scales (a cut at all of them): candidates
//    are taken strongest first and any that overlaps a stronger one is dropped, which also drops
//    wide windows straddling two boundaries. Sensitivity s sets one threshold, 2^(1-2s) (2 at
//    s = 0, 1 at 0.5, 0.5 at 1); boundaries that reach it are spaced minSceneFrames apart,
//    strongest first. Spacing a score-ordered prefix greedily keeps what a shorter prefix kept,
//    so a lower sensitivity never yields more boundaries.
//
// Measured on the generated clips (tests/support/scenefixtures, 640×360 and 1280×720): cuts
// score 1.6–9.7, gradual transitions 1.0–6.0; in steady shots (static noisy bars, slow pan,
// Mandelbrot zoom, life, cellauto) and inside the shots of the other clips no candidate reaches
// 0.8, except the first few frames of life, whose random start settles within 0.2 s (1.7; the
// minimum scene length keeps boundaries that close to the start out).
//
// Cost per frame: the 128×72 downscale, the features (one pass over 9216 + 2×2304 pixels), and
// ~15 distances of ~500 numbers; a candidate costs O(k) frames to localise and O(k²) for the
// ramp fit, for a handful of candidates per boundary. Memory: the features (2 KB) of the last
// 4 × 2.5 s of frames, and ~70 bytes per frame for the whole clip.

namespace {

// Candidates are kept down to the most sensitive setting's threshold (sensitivity 1).
constexpr double MinRatio = 1.4;
constexpr double MinDistance = 0.02;
// Keeps ratios of tiny distances (a static shot's coding noise) from exploding.
constexpr double RatioFloor = 0.015;

// Score = min(R / ratio, D / distance); see 4.
constexpr double CutRatio = 3.0;
constexpr double CutDistance = 0.08;
constexpr double GradualRatio = 2.5;
constexpr double GradualDistance = 0.12;

constexpr double CutStep = 0.5;              // one-frame progress step that makes a cut
constexpr float FlatDeviation = 0.03f;       // luma deviation of a flat picture (black, white, plain)
constexpr double WipeStep = 0.15;            // abruptness of a wipe: at least this ...
constexpr double WipeStepsPerDuration = 5.0; // ... and this many times 1/duration
constexpr double MaxBlendError = 0.3;        // dissolves and wipes are blends of two pictures

// Time scales in frames: ~×1.4 apart, so some scale is within 1.4× of any transition's length.
constexpr int ScaleLadder[] = {1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 90, 128, 181};

} // namespace

const char *kindName(Kind kind)
{
    switch (kind) {
    case Kind::Cut: return "cut";
    case Kind::Fade: return "fade";
    case Kind::Dissolve: return "dissolve";
    case Kind::Wipe: return "wipe";
    }
    return "cut";
}

FrameFeatures extractFeatures(const uint8_t *y, int yStride, const uint8_t *u, int uStride, const uint8_t *v,
                              int vStride)
{
    FrameFeatures f;
    constexpr int lumaBlockW = AnalysisWidth / GridColumns; // 8
    constexpr int lumaBlockH = AnalysisHeight / GridRows;   // 8
    constexpr int chromaBlockW = lumaBlockW / 2;
    constexpr int chromaBlockH = lumaBlockH / 2;
    float *luma = f.histogram.data();
    float *cb = luma + LumaBins;
    float *cr = cb + ChromaBins;

    // Soft binning: a value between two bin centres counts partly in both, so a slight change
    // of brightness moves histogram mass smoothly instead of flipping whole bins. The bin and
    // weight of each of the 256 values are worked out once.
    struct Bin
    {
        int lower;
        float upperWeight; // the share that goes to bin lower + 1
    };
    using BinTable = std::array<Bin, 256>;
    auto makeTable = [](int bins) {
        BinTable table{};
        for (int value = 0; value < 256; ++value) {
            const float pos = float(value) * float(bins) / 256.0f - 0.5f;
            const int lower = int(std::floor(pos));
            if (lower < 0)
                table[size_t(value)] = {0, 0.0f};
            else if (lower >= bins - 1)
                table[size_t(value)] = {bins - 2, 1.0f};
            else
                table[size_t(value)] = {lower, pos - float(lower)};
        }
        return table;
    };
    static const BinTable lumaTable = makeTable(LumaBins);
    static const BinTable chromaTable = makeTable(ChromaBins);
    auto soft = [](float *hist, const BinTable &table, int value) {
        const Bin &bin = table[size_t(value)];
        hist[bin.lower] += 1.0f - bin.upperWeight;
        hist[bin.lower + 1] += bin.upperWeight;
    };

    uint64_t sum = 0;
    uint64_t sumSquares = 0;
    for (int by = 0; by < GridRows; ++by) {
        for (int bx = 0; bx < GridColumns; ++bx) {
            const int block = by * GridColumns + bx;
            unsigned blockSum = 0;
            for (int yy = 0; yy < lumaBlockH; ++yy) {
                const uint8_t *row = y + (by * lumaBlockH + yy) * yStride + bx * lumaBlockW;
                for (int xx = 0; xx < lumaBlockW; ++xx) {
                    const unsigned value = row[xx];
                    blockSum += value;
                    sumSquares += value * value;
                    soft(luma, lumaTable, int(value));
                }
            }
            sum += blockSum;
            unsigned uSum = 0;
            unsigned vSum = 0;
            for (int yy = 0; yy < chromaBlockH; ++yy) {
                const uint8_t *uRow = u + (by * chromaBlockH + yy) * uStride + bx * chromaBlockW;
                const uint8_t *vRow = v + (by * chromaBlockH + yy) * vStride + bx * chromaBlockW;
                for (int xx = 0; xx < chromaBlockW; ++xx) {
                    uSum += uRow[xx];
                    vSum += vRow[xx];
                    soft(cb, chromaTable, uRow[xx]);
                    soft(cr, chromaTable, vRow[xx]);
                }
            }
            f.blocks[size_t(3 * block)] = float(blockSum) / float(lumaBlockW * lumaBlockH * 255);
            f.blocks[size_t(3 * block + 1)] = float(uSum) / float(chromaBlockW * chromaBlockH * 255);
            f.blocks[size_t(3 * block + 2)] = float(vSum) / float(chromaBlockW * chromaBlockH * 255);
        }
    }
    constexpr float lumaPixels = AnalysisWidth * AnalysisHeight;
    constexpr float chromaPixels = lumaPixels / 4;
    for (int i = 0; i < LumaBins; ++i)
        luma[i] /= lumaPixels;
    for (int i = 0; i < ChromaBins; ++i) {
        cb[i] /= chromaPixels;
        cr[i] /= chromaPixels;
    }
    const double mean = double(sum) / lumaPixels;
    const double variance = std::max(0.0, double(sumSquares) / lumaPixels - mean * mean);
    f.lumaMean = float(mean / 255.0);
    f.lumaDeviation = float(std::sqrt(variance) / 255.0);
    return f;
}

namespace {

// Both distances are in 0..1.
float blockDistance(const FrameFeatures &a, const FrameFeatures &b)
{
    float total = 0;
    for (size_t i = 0; i < a.blocks.size(); ++i)
        total += std::abs(a.blocks[i] - b.blocks[i]);
    return total / float(a.blocks.size());
}

float histogramDistance(const FrameFeatures &a, const FrameFeatures &b)
{
    // Total variation distance (half the L1) of each histogram, luma weighted as both chromas.
    auto tv = [&](int from, int count) {
        float total = 0;
        for (int i = from; i < from + count; ++i)
            total += std::abs(a.histogram[size_t(i)] - b.histogram[size_t(i)]);
        return total / 2;
    };
    return 0.5f * tv(0, LumaBins) + 0.25f * tv(LumaBins, ChromaBins) + 0.25f * tv(LumaBins + ChromaBins, ChromaBins);
}

float frameDistance(const FrameFeatures &a, const FrameFeatures &b)
{
    return 0.5f * std::min(1.0f, 3.0f * blockDistance(a, b)) + 0.5f * histogramDistance(a, b);
}

} // namespace

SceneDetector::SceneDetector(double frameRate)
{
    const double fps = frameRate > 0 && std::isfinite(frameRate) ? frameRate : 25.0;
    const int longest =
        std::clamp(int(std::lround(LongestTransitionSeconds * fps)), 2, ScaleLadder[std::size(ScaleLadder) - 1]);
    for (int k : ScaleLadder) {
        if (k > longest)
            break;
        Scale s;
        s.k = k;
        m_scales.push_back(std::move(s));
    }
    // A candidate at scale k is evaluated up to ~3k frames after its window [t-k, t] starts
    // (k frames of look-ahead for its ratio, a run of up to 2k frames), so 4k suffice.
    m_ring.resize(size_t(4 * m_scales.back().k + 8));
}

const FrameFeatures &SceneDetector::features(int64_t frame) const
{
    return m_ring[size_t(frame % int64_t(m_ring.size()))];
}

void SceneDetector::push(const FrameFeatures &f)
{
    const int64_t n = frameCount();
    m_ring[size_t(n % int64_t(m_ring.size()))] = f;
    m_luma.push_back({f.lumaMean, f.lumaDeviation});
    for (Scale &s : m_scales) {
        s.distance.push_back(n >= s.k ? frameDistance(f, features(n - s.k)) : std::numeric_limits<float>::quiet_NaN());
    }
    for (Scale &s : m_scales) {
        const int64_t t = n - s.k;
        if (t >= s.k)
            advance(s, t, n);
    }
}

void SceneDetector::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    const int64_t last = frameCount() - 1;
    for (Scale &s : m_scales) {
        for (int64_t t = std::max<int64_t>(s.k, last - s.k + 1); t <= last; ++t)
            advance(s, t, last);
        if (s.inRun)
            closeRun(s);
    }
    mergeCandidates();
}

double SceneDetector::ratioAt(const Scale &s, int64_t t, int64_t lastFrame) const
{
    double around = -1;
    if (t - s.k >= s.k)
        around = s.distance[size_t(t - s.k)];
    if (t + s.k <= lastFrame)
        around = std::max<double>(around, s.distance[size_t(t + s.k)]);
    if (around < 0)
        return 0;
    return s.distance[size_t(t)] / (RatioFloor + around);
}

void SceneDetector::advance(Scale &s, int64_t t, int64_t lastFrame)
{
    const double ratio = ratioAt(s, t, lastFrame);
    const bool qualifies = ratio >= MinRatio && s.distance[size_t(t)] >= MinDistance;
    if (!qualifies) {
        if (s.inRun)
            closeRun(s);
        return;
    }
    if (!s.inRun) {
        s.inRun = true;
        s.runStart = t;
        s.runBest = t;
        s.runBestRatio = ratio;
    } else if (ratio > s.runBestRatio) {
        s.runBest = t;
        s.runBestRatio = ratio;
    }
    // A run longer than its window is not one event (or the ring would lose its frames).
    if (t - s.runStart >= 2 * s.k)
        closeRun(s);
}

void SceneDetector::closeRun(Scale &s)
{
    s.inRun = false;
    evaluate(s.k, s.runBest, s.runBestRatio);
}

namespace {

// The least-squares ramp through a progress curve [0..n] (0 at the start, 1 at the end): 0 up
// to index a, rising linearly to 1 at index b, 1 after. Returns {a, b}.
std::pair<int, int> fitRamp(const std::vector<double> &progress)
{
    const int n = int(progress.size()) - 1;
    std::vector<double> s1(size_t(n + 2), 0), s2(size_t(n + 2), 0), su(size_t(n + 2), 0);
    for (int i = 0; i <= n; ++i) {
        s1[size_t(i + 1)] = s1[size_t(i)] + progress[size_t(i)];
        s2[size_t(i + 1)] = s2[size_t(i)] + progress[size_t(i)] * progress[size_t(i)];
        su[size_t(i + 1)] = su[size_t(i)] + i * progress[size_t(i)];
    }
    auto sum = [](const std::vector<double> &s, int from, int to) { // inclusive, may be empty
        return to < from ? 0.0 : s[size_t(to + 1)] - s[size_t(from)];
    };
    double best = std::numeric_limits<double>::infinity();
    std::pair<int, int> fit{0, n};
    for (int a = 0; a < n; ++a) {
        const double head = sum(s2, 0, a);
        for (int b = a + 1; b <= n; ++b) {
            const double m = b - a;
            const double tail = sum(s2, b, n) - 2 * sum(s1, b, n) + (n - b + 1);
            const double squares = (m - 1) * m * (2 * m - 1) / 6; // sum of i^2, i = 1..m-1
            const double middle =
                sum(s2, a + 1, b - 1) - 2 / m * (sum(su, a + 1, b - 1) - a * sum(s1, a + 1, b - 1)) + squares / (m * m);
            const double cost = head + middle + tail;
            if (cost < best) {
                best = cost;
                fit = {a, b};
            }
        }
    }
    return fit;
}

} // namespace

void SceneDetector::evaluate(int k, int64_t t, double ratio)
{
    const int64_t p = t - k;
    const int64_t q = t;
    const FrameFeatures &before = features(p);
    const FrameFeatures &after = features(q);

    Boundary b;
    b.scale = k;
    b.distance = frameDistance(before, after);
    b.ratio = ratio;

    // Progress of each frame from `before` (0) to `after` (1).
    std::vector<double> progress(size_t(k + 1));
    for (int64_t u = p; u <= q; ++u) {
        const FrameFeatures &f = features(u);
        const double da = blockDistance(f, before);
        const double db = blockDistance(f, after);
        progress[size_t(u - p)] = da + db > 0 ? da / (da + db) : 0.5;
    }
    progress.front() = 0;
    progress.back() = 1;

    double biggestStep = 0;
    int64_t stepAt = q;
    for (int i = 1; i <= k; ++i) {
        const double step = progress[size_t(i)] - progress[size_t(i - 1)];
        if (step > biggestStep) {
            biggestStep = step;
            stepAt = p + i;
        }
    }
    if (biggestStep >= CutStep) {
        b.kind = Kind::Cut;
        b.frame = b.firstFrame = b.lastFrame = stepAt;
        b.score = std::min(b.ratio / CutRatio, b.distance / CutDistance);
        if (b.score >= threshold(1.0))
            m_raw.push_back(b);
        return;
    }

    const auto [a, z] = fitRamp(progress);
    b.firstFrame = p + std::min(a + 1, z);
    b.lastFrame = std::max(b.firstFrame, p + z - 1);
    b.frame = p + (a + z + 1) / 2;
    const int64_t duration = b.lastFrame - b.firstFrame + 1;

    // Fade: the picture goes flat and dark or bright inside the span, or the span starts or ends
    // on a flat picture. (Flat valleys are also matched in mergeCandidates.)
    float flattest = 1;
    float flattestMean = 0.5f;
    for (int64_t u = b.firstFrame; u <= b.lastFrame; ++u) {
        const Luma &l = m_luma[size_t(u)];
        if (l.deviation < flattest) {
            flattest = l.deviation;
            flattestMean = l.mean;
        }
    }
    const float edgeDeviation = std::min(before.lumaDeviation, after.lumaDeviation);
    const bool throughFlat = flattest < 0.25f * edgeDeviation && (flattestMean < 0.2f || flattestMean > 0.8f);
    const bool fromOrToFlat = edgeDeviation < FlatDeviation;

    // Per block that changes: the largest one-frame step of its own progress (abruptness), and
    // how far its values in the mixed frames lie off the segment from its old to its new value.
    std::vector<double> steps;
    double residual = 0;
    double change = 0;
    for (int j = 0; j < BlockCount; ++j) {
        const float *old = &before.blocks[size_t(3 * j)];
        const float *now = &after.blocks[size_t(3 * j)];
        const double d[3] = {now[0] - old[0], now[1] - old[1], now[2] - old[2]};
        const double norm = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        const double blockChange = std::abs(d[0]) + std::abs(d[1]) + std::abs(d[2]);
        double previous = 0;
        double largest = 0;
        for (int64_t u = p + 1; u <= q; ++u) {
            const float *x = &features(u).blocks[size_t(3 * j)];
            if (blockChange >= 0.1) {
                const double da = std::abs(x[0] - old[0]) + std::abs(x[1] - old[1]) + std::abs(x[2] - old[2]);
                const double db = std::abs(x[0] - now[0]) + std::abs(x[1] - now[1]) + std::abs(x[2] - now[2]);
                const double pr = da + db > 0 ? da / (da + db) : 0.5;
                largest = std::max(largest, pr - previous);
                previous = pr;
            }
            if (u >= b.firstFrame && u <= b.lastFrame) {
                const double dot = (x[0] - old[0]) * d[0] + (x[1] - old[1]) * d[1] + (x[2] - old[2]) * d[2];
                const double alpha = norm > 0 ? std::clamp(dot / norm, 0.0, 1.0) : 0.0;
                for (int c = 0; c < 3; ++c)
                    residual += std::abs(x[c] - old[c] - alpha * d[c]);
                change += blockChange;
            }
        }
        if (blockChange >= 0.1)
            steps.push_back(largest);
    }
    if (!steps.empty()) {
        std::nth_element(steps.begin(), steps.begin() + long(steps.size() / 2), steps.end());
        b.abruptness = steps[steps.size() / 2];
    }
    b.blendError = change > 0 ? residual / change : 1.0;

    if (throughFlat || fromOrToFlat)
        b.kind = Kind::Fade;
    else if (b.abruptness >= WipeStep && b.abruptness * double(duration) >= WipeStepsPerDuration)
        b.kind = Kind::Wipe;
    else
        b.kind = Kind::Dissolve;
    // Content that changes fast on its own is not made of blends of two pictures. A fade is not
    // either (it passes through flat, off the segment), so it is exempt; valleys catch fades.
    if (b.kind != Kind::Fade && b.blendError > MaxBlendError)
        return;
    b.score = std::min(b.ratio / GradualRatio, b.distance / GradualDistance);
    if (b.score >= threshold(1.0))
        m_raw.push_back(b);
}

std::vector<SceneDetector::Valley> SceneDetector::findValleys() const
{
    // Near the flat end a fade changes slowly (xfade eases in and out), so a ramp goes on while
    // the deviation rises within the next few frames, not necessarily the next one.
    constexpr int64_t Ahead = 4;
    constexpr float Rising = 0.002f;
    const int64_t longest = m_scales.back().k;
    const int64_t frames = frameCount();
    auto deviation = [&](int64_t u) { return m_luma[size_t(u)].deviation; };
    auto risesFrom = [&](int64_t u, int64_t direction) {
        for (int64_t i = 1; i <= Ahead; ++i) {
            const int64_t v = u + direction * i;
            if (v < 0 || v >= frames)
                break;
            if (deviation(v) > deviation(u) + Rising)
                return true;
        }
        return false;
    };
    std::vector<Valley> valleys;
    for (int64_t u = 0; u < frames;) {
        if (deviation(u) >= FlatDeviation) {
            ++u;
            continue;
        }
        Valley v;
        v.flatFirst = u;
        while (u < frames && deviation(u) < FlatDeviation)
            ++u;
        v.flatLast = u - 1;
        if (v.flatFirst == 0 && v.flatLast == frames - 1)
            break; // a flat clip: nothing fades
        v.first = v.flatFirst;
        while (v.first > 0 && v.flatFirst - v.first < longest && risesFrom(v.first, -1))
            --v.first;
        v.last = v.flatLast;
        while (v.last + 1 < frames && v.last - v.flatLast < longest && risesFrom(v.last, +1))
            ++v.last;
        valleys.push_back(v);
    }
    return valleys;
}

void SceneDetector::refineFade(Boundary &b) const
{
    // A fade seen at a short scale may cover only its steepest part: walk down to the flattest
    // frame near it and out along the slopes, to where the pictures on either side hold steady.
    constexpr int64_t Ahead = 4;
    constexpr float Rising = 0.002f;
    const int64_t longest = m_scales.back().k;
    auto deviation = [&](int64_t u) { return m_luma[size_t(u)].deviation; };
    int64_t flattest = b.firstFrame;
    for (int64_t u = b.firstFrame; u <= b.lastFrame; ++u) {
        if (deviation(u) < deviation(flattest))
            flattest = u;
    }
    for (int64_t steps = 0; steps < longest; ++steps) {
        if (flattest + 1 < frameCount() && deviation(flattest + 1) < deviation(flattest) - 1e-4f)
            ++flattest;
        else if (flattest > 0 && deviation(flattest - 1) < deviation(flattest) - 1e-4f)
            --flattest;
        else
            break;
    }
    auto risesFrom = [&](int64_t u, int64_t direction) {
        for (int64_t i = 1; i <= Ahead; ++i) {
            const int64_t v = u + direction * i;
            if (v < 0 || v >= frameCount())
                break;
            if (deviation(v) > deviation(u) + Rising)
                return true;
        }
        return false;
    };
    int64_t first = flattest;
    while (first > 0 && flattest - first < longest && risesFrom(first, -1))
        --first;
    int64_t last = flattest;
    while (last + 1 < frameCount() && last - flattest < longest && risesFrom(last, +1))
        ++last;
    b.firstFrame = std::min(b.firstFrame, first);
    b.lastFrame = std::max(b.lastFrame, last);
    b.frame = flattest; // the new scene begins in the dark (or the white)
}

void SceneDetector::mergeCandidates()
{
    const std::vector<Valley> valleys = findValleys();
    for (Boundary &b : m_raw) {
        if (b.kind == Kind::Cut)
            continue;
        const auto valley = std::find_if(valleys.begin(), valleys.end(), [&](const Valley &v) {
            return b.firstFrame <= v.last && v.first <= b.lastFrame;
        });
        if (valley != valleys.end()) {
            // Fade out, hold, fade in: one transition whose boundary is the middle of the hold
            // (the hold's end when it opens the clip, its start when it closes the clip).
            b.kind = Kind::Fade;
            b.firstFrame = valley->first;
            b.lastFrame = valley->last;
            b.frame = valley->flatFirst == 0                 ? valley->flatLast + 1
                      : valley->flatLast == frameCount() - 1 ? valley->flatFirst
                                                             : (valley->flatFirst + valley->flatLast + 1) / 2;
        } else if (b.kind == Kind::Fade) {
            refineFade(b);
        }
    }
    // The same boundary is seen at several scales (a cut at all of them): keep the best-scored
    // reading of each, and drop readings that straddle two stronger ones.
    std::sort(m_raw.begin(), m_raw.end(), [](const Boundary &x, const Boundary &y) {
        return x.score != y.score ? x.score > y.score : x.frame < y.frame;
    });
    m_events.clear();
    std::map<int64_t, int64_t> taken; // first frame -> last frame of the kept ones (disjoint)
    for (const Boundary &b : m_raw) {
        // Kept spans are disjoint, so only the nearest one on either side can overlap.
        auto after = taken.lower_bound(b.firstFrame);
        if (after != taken.end() && after->first <= b.lastFrame + 1)
            continue;
        if (after != taken.begin() && std::prev(after)->second + 1 >= b.firstFrame)
            continue;
        taken.emplace(b.firstFrame, b.lastFrame);
        m_events.push_back(b);
    }
    std::sort(m_events.begin(), m_events.end(), [](const Boundary &x, const Boundary &y) { return x.frame < y.frame; });
}

double SceneDetector::threshold(double sensitivity)
{
    return std::pow(2.0, 1.0 - 2.0 * std::clamp(sensitivity, 0.0, 1.0));
}

std::vector<Boundary> SceneDetector::select(double sensitivity, int64_t minSceneFrames) const
{
    const double needed = threshold(sensitivity);
    const int64_t spacing = std::max<int64_t>(1, minSceneFrames);
    std::vector<Boundary> strongest;
    for (const Boundary &b : m_events) {
        if (b.score >= needed)
            strongest.push_back(b);
    }
    std::sort(strongest.begin(), strongest.end(), [](const Boundary &a, const Boundary &b) {
        return a.score != b.score ? a.score > b.score : a.frame < b.frame;
    });
    std::vector<Boundary> chosen;
    std::set<int64_t> frames; // of the chosen ones
    for (const Boundary &b : strongest) {
        if (b.frame < spacing || frameCount() - b.frame < spacing)
            continue;
        const auto next = frames.lower_bound(b.frame);
        if (next != frames.end() && *next - b.frame < spacing)
            continue;
        if (next != frames.begin() && b.frame - *std::prev(next) < spacing)
            continue;
        frames.insert(b.frame);
        chosen.push_back(b);
    }
    std::sort(chosen.begin(), chosen.end(), [](const Boundary &x, const Boundary &y) { return x.frame < y.frame; });
    return chosen;
}

} // namespace clipdeck::media::scenes
