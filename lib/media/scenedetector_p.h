#pragma once

// Internal to lib/media: the scene-boundary detector behind runScenes(), free of FFmpeg (but for
// analyseFrame) so it can be fed synthetic frames. The algorithm is described at the top of
// scenedetector.cpp.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

struct AVFrame;

namespace clipdeck::media {
class FrameScaler;
}

namespace clipdeck::media::scenes {

// Every frame is analysed as a small YUV 4:2:0 picture of this size (the decoder's frames are
// scaled down to it): big enough for a 16×9 grid of 8×8 luma blocks, small enough that the
// analysis costs a fraction of decoding.
inline constexpr int AnalysisWidth = 128;
inline constexpr int AnalysisHeight = 72;
inline constexpr int GridColumns = 16;
inline constexpr int GridRows = 9;
inline constexpr int BlockCount = GridColumns * GridRows;
inline constexpr int LumaBins = 32;
inline constexpr int ChromaBins = 8;

// What the detector keeps of one frame (~2 KB).
struct FrameFeatures
{
    // Per block: mean Y, U, V in 0..1, interleaved (block j at 3j, 3j+1, 3j+2).
    std::array<float, BlockCount * 3> blocks{};
    // Luma histogram (soft-binned), then U and V histograms; each part sums to 1.
    std::array<float, LumaBins + 2 * ChromaBins> histogram{};
    float lumaMean = 0;      // 0..1
    float lumaDeviation = 0; // standard deviation of luma, 0..1
};

// Computes the features of an AnalysisWidth×AnalysisHeight YUV 4:2:0 picture.
FrameFeatures extractFeatures(const uint8_t *y, int yStride, const uint8_t *u, int uStride, const uint8_t *v,
                              int vStride);

// Scales a decoded frame (any pixel format) down to the analysis size and computes its
// features, as runScenes() does; nullopt when swscale cannot convert it. Frames at least 4× the
// analysis height are read every other line, by changing `frame`'s line sizes and height:
// pass a reference of your own (av_frame_clone), not the decoder's frame. (In scenes.cpp.)
std::optional<FrameFeatures> analyseFrame(AVFrame *frame, FrameScaler &scaler);

enum class Kind { Cut, Fade, Dissolve, Wipe };
const char *kindName(Kind kind);

// One detected boundary. For a cut, `frame` is the first frame of the new scene and the span is
// that one frame; for a gradual transition, `frame` is its middle and [firstFrame, lastFrame]
// the frames that mix the two scenes (or fade through black/white).
struct Boundary
{
    int64_t frame = 0;
    int64_t firstFrame = 0;
    int64_t lastFrame = 0;
    Kind kind = Kind::Cut;
    // Confidence: 1.0 sits exactly at the default sensitivity's threshold; higher is surer.
    double score = 0;
    // Diagnostics (bench_scenes --candidates prints them): the time scale in frames at which the
    // boundary was seen, the distance across it and its ratio to the change around it, how
    // suddenly blocks change (~1/duration for a dissolve, more for a wipe), and how far the
    // frames in between are from blends of the two scenes (0 = exactly blends).
    int scale = 0;
    double distance = 0;
    double ratio = 0;
    double abruptness = 0;
    double blendError = 0;

    int64_t durationFrames() const { return kind == Kind::Cut ? 0 : lastFrame - firstFrame + 1; }
};

class SceneDetector
{
public:
    // `frameRate` sets the longest transition looked for (LongestTransitionSeconds).
    explicit SceneDetector(double frameRate);

    // Frames in presentation order.
    void push(const FrameFeatures &features);
    // No more frames: evaluates what was waiting for frames after it.
    void finish();

    int64_t frameCount() const { return int64_t(m_luma.size()); }
    float lumaDeviation(int64_t frame) const { return m_luma[size_t(frame)].deviation; }

    // Every distinct boundary candidate that the most sensitive setting would accept, ordered by
    // frame (after finish()). Independent of sensitivity: select() only thresholds and spaces
    // these.
    const std::vector<Boundary> &candidates() const { return m_events; }

    // The boundaries at `sensitivity` (0..1; 0.5 is the default) with no two closer than
    // `minSceneFrames` (nor closer than that to the first or last frame), ordered by frame.
    // A lower sensitivity never yields more boundaries: it only raises one score threshold, and
    // spacing is decided strongest first.
    std::vector<Boundary> select(double sensitivity, int64_t minSceneFrames) const;

    // The score a boundary needs at `sensitivity`.
    static double threshold(double sensitivity);

    static constexpr double LongestTransitionSeconds = 2.5;

private:
    struct Scale
    {
        int k = 1;
        std::vector<float> distance; // distance(frame t, frame t-k), NaN for t < k
        bool inRun = false;
        int64_t runStart = 0;
        int64_t runBest = 0;
        double runBestRatio = 0;
    };
    struct Luma
    {
        float mean = 0;
        float deviation = 0;
    };
    // A run of flat frames [flatFirst, flatLast] and the slopes around it [first, last].
    struct Valley
    {
        int64_t first = 0;
        int64_t flatFirst = 0;
        int64_t flatLast = 0;
        int64_t last = 0;
    };

    const FrameFeatures &features(int64_t frame) const;
    double ratioAt(const Scale &scale, int64_t t, int64_t lastFrame) const;
    void advance(Scale &scale, int64_t t, int64_t lastFrame);
    void closeRun(Scale &scale);
    void evaluate(int k, int64_t t, double ratio);
    std::vector<Valley> findValleys() const;
    void refineFade(Boundary &b) const;
    void mergeCandidates();

    std::vector<Scale> m_scales;
    std::vector<FrameFeatures> m_ring; // the last m_ring.size() frames' features
    std::vector<Luma> m_luma;          // every frame
    std::vector<Boundary> m_raw;       // one per run per scale, before merging
    std::vector<Boundary> m_events;
    bool m_finished = false;
};

} // namespace clipdeck::media::scenes
