pragma Singleton
import QtQuick

// Status colours that read on both light and dark palettes (WCAG AA against the base colour of
// the respective scheme); everything else comes from the system palette.
QtObject {
    function isDark(pal) {
        return pal.base.hslLightness < 0.5
    }

    function statusColor(status, dark) {
        switch (status) {
        case "running":  return dark ? "#7cb8ff" : "#0b5cad"
        case "pending":  return dark ? "#c7c7c7" : "#5a5a5a"
        case "paused":   return dark ? "#ffc857" : "#8a5a00"
        case "complete": return dark ? "#7fd68a" : "#1d7a2f"
        case "failed":   return dark ? "#ff8a80" : "#b3261e"
        case "canceled": return dark ? "#b8b8b8" : "#616161"
        }
        return dark ? "#c7c7c7" : "#5a5a5a"
    }

    function statusLabel(status) {
        switch (status) {
        case "pending":  return qsTr("Queued")
        case "running":  return qsTr("Running")
        case "paused":   return qsTr("Paused")
        case "complete": return qsTr("Done")
        case "failed":   return qsTr("Failed")
        case "canceled": return qsTr("Canceled")
        }
        return status
    }
}
