import QtQuick
import QtQuick.Controls

// Fusion's ProgressBar with a groove that can be seen on every palette. Fusion paints the empty
// part in palette.base, which is the colour of the list rows themselves: on a dark scheme a
// queued or failed job's 0% bar was a black box and a running job's bar looked as short as its
// progress. The groove here is the base tinted towards palette.mid (more so in dark, where mid
// is closer to base), edged with mid, so it reads as an empty track in light and dark alike;
// the fill stays Fusion's (palette.highlight: the row's status colour).
ProgressBar {
    id: control

    readonly property bool dark: Theme.isDark(palette)

    // Slimmer than Fusion's fixed 24 px and tied to the font, so it scales with it (200%).
    implicitHeight: Theme.progressBarHeight

    background: Rectangle {
        implicitWidth: Theme.progressBarWidth
        implicitHeight: control.implicitHeight
        radius: Theme.radiusSmall
        color: Qt.tint(control.palette.base, Qt.rgba(control.palette.mid.r, control.palette.mid.g,
                                                       control.palette.mid.b, control.dark ? 0.5 : 0.3))
        border.color: control.palette.mid
    }
}
