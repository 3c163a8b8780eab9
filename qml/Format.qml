pragma Singleton
import QtQuick

// How numbers read in the monitor: durations, speeds, percents.
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
    function speed(realtime, fps) {
        const parts = []
        if (realtime > 0)
            parts.push(realtime.toFixed(realtime < 10 ? 1 : 0) + "×")
        if (fps > 0)
            parts.push(Math.round(fps) + " fps")
        return parts.join(" · ")
    }

    function kindLabel(kind) {
        switch (kind) {
        case "transcode":  return qsTr("Export")
        case "proxy":      return qsTr("Proxy")
        case "thumbnails": return qsTr("Thumbnails")
        case "scenes":     return qsTr("Scenes")
        case "waveform":   return qsTr("Waveform")
        case "probe":      return qsTr("Probe")
        }
        return kind
    }
}
