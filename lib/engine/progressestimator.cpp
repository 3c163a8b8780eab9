#include "engine/progressestimator_p.h"

#include <algorithm>
#include <cmath>

namespace clipdeck::engine {

namespace {
// Rounds to 1/perUnit (10: tenths). Dividing by an integer power of ten yields the double
// nearest the decimal, so the JSON shows "12.3", not "12.300000000000001".
double roundTo(double value, double perUnit)
{
    return std::round(value * perUnit) / perUnit;
}
} // namespace

void ProgressEstimator::start(qint64 nowMs)
{
    m_startMs = nowMs;
    m_pausedTotalMs = 0;
    m_pausedAtMs = -1;
    m_fraction = 0;
    m_fractionAtMs = 0;
    m_stage.clear();
    m_window.clear();
    // The run starts with nothing processed: the anchor that the first window measures from.
    m_window.push_back({0, 0, 0});
}

void ProgressEstimator::pause(qint64 nowMs)
{
    if (m_pausedAtMs < 0)
        m_pausedAtMs = nowMs;
}

void ProgressEstimator::resume(qint64 nowMs)
{
    if (m_pausedAtMs >= 0) {
        m_pausedTotalMs += nowMs - m_pausedAtMs;
        m_pausedAtMs = -1;
    }
}

qint64 ProgressEstimator::activeMs(qint64 nowMs) const
{
    const qint64 end = m_pausedAtMs >= 0 ? m_pausedAtMs : nowMs;
    return std::max<qint64>(0, end - m_startMs - m_pausedTotalMs);
}

void ProgressEstimator::update(const media::Progress &progress, qint64 nowMs)
{
    const qint64 t = activeMs(nowMs);
    const double f = std::clamp(std::isfinite(progress.fraction) ? progress.fraction : 0.0, 0.0, 1.0);
    if (f > m_fraction) {
        m_fraction = f;
        m_fractionAtMs = t;
    }
    if (!progress.stage.isEmpty())
        m_stage = progress.stage;

    const double media = std::isfinite(progress.mediaSeconds) ? std::max(0.0, progress.mediaSeconds) : 0.0;
    const double fps = std::isfinite(progress.framesPerSecond) ? std::max(0.0, progress.framesPerSecond) : 0.0;
    if (!m_window.empty() && m_window.back().activeMs == t)
        m_window.back() = {t, std::max(media, m_window.back().mediaSeconds), fps};
    else
        m_window.push_back({t, media, fps});
    // Keep one sample at or before the window's start as the anchor the window measures from.
    while (m_window.size() > 2 && m_window[1].activeMs <= t - m_config.speedWindowMs)
        m_window.pop_front();
}

std::optional<double> ProgressEstimator::etaSeconds(qint64 nowMs) const
{
    if (m_fraction <= 0 || m_fractionAtMs <= 0)
        return std::nullopt;
    if (m_fraction >= 1)
        return 0.0;
    const qint64 now = activeMs(nowMs);
    if (now < m_config.warmUpMs && m_fraction < m_config.warmUpFraction)
        return std::nullopt;
    // Average rate up to the last report; time since that report already counts against the rest.
    const double msPerUnit = double(m_fractionAtMs) / m_fraction;
    const double remainingMs = (1.0 - m_fraction) * msPerUnit - double(now - m_fractionAtMs);
    return roundTo(std::max(0.0, remainingMs) / 1000.0, 10);
}

std::optional<jobs::Speed> ProgressEstimator::speed() const
{
    if (m_window.size() < 2)
        return std::nullopt;
    const Sample &first = m_window.front();
    const Sample &last = m_window.back();
    double fpsSum = 0;
    int fpsCount = 0;
    for (std::size_t i = 1; i < m_window.size(); ++i) { // the anchor's fps is not from this window
        if (m_window[i].fps > 0) {
            fpsSum += m_window[i].fps;
            ++fpsCount;
        }
    }
    jobs::Speed speed;
    speed.fps = fpsCount ? roundTo(fpsSum / fpsCount, 10) : 0.0;
    const qint64 span = last.activeMs - first.activeMs;
    if (span >= m_config.minSpeedSpanMs && last.mediaSeconds > first.mediaSeconds)
        speed.realtime = roundTo((last.mediaSeconds - first.mediaSeconds) * 1000.0 / double(span), 100);
    if (speed.fps <= 0 && speed.realtime <= 0)
        return std::nullopt;
    return speed;
}

} // namespace clipdeck::engine
