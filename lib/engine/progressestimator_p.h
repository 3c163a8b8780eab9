#pragma once

// Internal to the engine: turns a job's raw progress reports into what its events show (ETA,
// current speed), and decides when a progress event may go out. Pure logic on a caller-supplied
// monotonic clock (milliseconds), so tests drive it without sleeping.

#include "jobs/job.h"
#include "media/operation.h"

#include <deque>
#include <optional>

namespace clipdeck::engine {

// ETA from the average rate since the attempt started, and speed over a short sliding window.
// Paused time counts for neither: the estimator runs on "active time", a clock that stops while
// the job is paused.
class ProgressEstimator
{
public:
    struct Config
    {
        qint64 warmUpMs = 1000;       // no ETA before this much active time ...
        double warmUpFraction = 0.02; // ... unless this much of the work is already done
        qint64 speedWindowMs = 2000;  // speed is measured over about this much active time
        qint64 minSpeedSpanMs = 200;  // and not at all over less (too noisy)
    };

    ProgressEstimator() = default;
    explicit ProgressEstimator(Config config) : m_config(config) { }

    // A new attempt starts now: forgets everything measured before.
    void start(qint64 nowMs);
    void pause(qint64 nowMs);
    void resume(qint64 nowMs);
    bool isPaused() const { return m_pausedAtMs >= 0; }

    // A report from the operation. The fraction never goes backwards (an operation that reports
    // less than before is ignored on that point) and is clamped to 0..1.
    void update(const media::Progress &progress, qint64 nowMs);

    double fraction() const { return m_fraction; }
    const QString &stage() const { return m_stage; }

    // Active (unpaused) time since start().
    qint64 activeMs(qint64 nowMs) const;

    // Seconds left at nowMs, rounded to 0.1 s; nullopt during warm-up or with no progress yet.
    std::optional<double> etaSeconds(qint64 nowMs) const;

    // fps (mean of what the operation reported over the window, 0.1 precision) and x realtime
    // (media seconds per active second over the window, 0.01 precision); nullopt while neither
    // is known.
    std::optional<jobs::Speed> speed() const;

private:
    struct Sample
    {
        qint64 activeMs;
        double mediaSeconds;
        double fps;
    };

    Config m_config;
    qint64 m_startMs = 0;
    qint64 m_pausedTotalMs = 0;
    qint64 m_pausedAtMs = -1;
    double m_fraction = 0;
    qint64 m_fractionAtMs = 0; // active time of the last report that moved the fraction
    QString m_stage;
    std::deque<Sample> m_window;
};

// At most one progress event per interval per job, coalescing: a report that arrives too soon
// is not dropped but published when the interval ends (the latest one wins), so no progress is
// ever delayed by more than the interval. State changes are published at once by the engine and
// restart the interval.
class ProgressThrottle
{
public:
    explicit ProgressThrottle(qint64 intervalMs = 100) : m_intervalMs(intervalMs) { }

    // A report arrived at nowMs: returns when it may be published (<= nowMs: now).
    qint64 dueAt(qint64 nowMs) const { return m_lastMs < 0 ? nowMs : std::max(nowMs, m_lastMs + m_intervalMs); }
    // An event for this job (of any kind) went out at nowMs.
    void published(qint64 nowMs) { m_lastMs = nowMs; }
    void reset() { m_lastMs = -1; }
    qint64 intervalMs() const { return m_intervalMs; }

private:
    qint64 m_intervalMs;
    qint64 m_lastMs = -1;
};

} // namespace clipdeck::engine
