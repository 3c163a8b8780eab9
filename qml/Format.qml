pragma Singleton
import QtQuick

// How numbers read in the monitor: durations, speeds, percents. (Words for kinds and statuses
// come from the model: JobModel's kindLabel and statusLabel roles.)
QtObject {
    // 75 -> "1:15", 3725 -> "1:02:05"; "" when unknown (< 0).
    function duration(seconds) {
        if (seconds === undefined || seconds === null || seconds < 0 || !isFinite(seconds))
            return ""
        const s = Math.round(seconds)
        const h = Math.floor(s / 3600)
        const m = Math.floor((s % 3600) / 60)
        const sec = s % 60
        const pad = n => (n < 10 ? "0" : "") + n
        return h > 0 ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec)
    }

    function percent(progress) {
        return Math.floor(Math.max(0, Math.min(100, progress))) + "%"
    }

    // "2.4× · 61 fps"; "" when unknown.
    function speed(realtime: real, fps: real): string {
        const times = realtime > 0 ? realtime.toFixed(realtime < 10 ? 1 : 0) + "×" : ""
        const frames = fps > 0 ? Math.round(fps) + " fps" : ""
        return times && frames ? times + " · " + frames : times + frames
    }
}
