pragma Singleton
import QtQuick
import Clipdeck.Client

// Every size, space, line, font and status colour the views use, in one place. Sizes are in units
// of the application font: gridUnit is the height of a line of text and chars(n) the width of n
// average characters, so the views follow the user's font size and stay crisp at any scale
// factor. No view holds a pixel size of its own: a view that needs a new kind of size adds it
// here (in units), and a new view picks from what is here. At the default 9 pt font gridUnit is
// 14 px.
//
// Colours come from the system palette (Fusion follows it; CLIPDECK_COLOR_SCHEME=dark forces a
// dark one, app/desktop/main.cpp), except the status colours below, which read on light and dark
// palettes alike (WCAG AA against the base colour of each).
QtObject {
    id: theme

    // The application font and its measures.
    readonly property FontMetrics fontMetrics: FontMetrics {}
    readonly property FontMetrics boldFontMetrics: FontMetrics { font.bold: true }

    // The unit every size is made of.
    readonly property real gridUnit: fontMetrics.height
    // The width of n average characters: for fields and columns sized to what they hold.
    function chars(n: real): real {
        return n * fontMetrics.averageCharacterWidth
    }

    // Spacing between items, tight to loose.
    readonly property int spacingTiny: Math.max(1, Math.round(gridUnit * 0.12))  // the buttons of one group
    readonly property int spacingSmall: Math.round(gridUnit * 0.3)              // the lines of one block
    readonly property int spacing: Math.round(gridUnit * 0.5)                   // items in a row; a row's padding
    readonly property int spacingLarge: Math.round(gridUnit * 0.9)             // groups of items
    readonly property int spacingWide: Math.round(gridUnit)                     // items that must not read as one

    // A pane's or a page's edges.
    readonly property int marginSmall: Math.round(gridUnit * 0.4)
    readonly property int margin: Math.round(gridUnit * 0.6)

    // Lines and corners.
    readonly property int hairline: 1                                          // separators, frames
    readonly property int lineWidth: Math.max(2, Math.round(gridUnit * 0.12))  // focus frames, drawings
    readonly property int lineWidthThick: Math.max(3, Math.round(gridUnit * 0.2))
    readonly property int radiusSmall: Math.max(2, Math.round(gridUnit * 0.15))
    readonly property int radius: Math.round(gridUnit * 0.2)
    readonly property int radiusLarge: Math.round(gridUnit * 0.6)

    // Sizes of the monitor's parts.
    readonly property int iconSize: Math.round(gridUnit * 1.15)                   // StatusIcon
    readonly property int accentWidth: Math.max(4, Math.round(gridUnit * 0.3))    // a job row's status bar
    readonly property int progressBarHeight: Math.max(8, Math.round(gridUnit * 0.85))
    readonly property int progressBarWidth: Math.round(gridUnit * 8.6)            // when nothing stretches it
    readonly property int chipHorizontalPadding: Math.round(gridUnit * 0.43)
    readonly property int chipVerticalPadding: hairline
    // The widest percent a progress bar's label shows, in this font: a fixed column.
    readonly property real percentColumnWidth: percentMetrics.advanceWidth
    readonly property TextMetrics percentMetrics: TextMetrics { text: "100%" }

    // The main window: 1180 × 760, at least 640 × 420, at the default font.
    readonly property int windowWidth: Math.round(gridUnit * 84.5)
    readonly property int windowHeight: Math.round(gridUnit * 54.4)
    readonly property int windowMinimumWidth: Math.round(gridUnit * 45.8)
    readonly property int windowMinimumHeight: Math.round(gridUnit * 30.07)

    // Fonts beyond the application's (and its bold).
    readonly property font headingFont: Qt.font({ family: fontMetrics.font.family,
                                                  pixelSize: Math.round(gridUnit * 1.4), bold: true })

    // How long a pointer rests on something before its tooltip shows (ms).
    readonly property int toolTipDelay: 600

    function isDark(pal: var): bool {
        return pal.base.hslLightness < 0.5
    }

    // A job's status (JobModel.JobStatus) as a colour.
    function statusColor(status: int, dark: bool): color {
        switch (status) {
        case JobModel.Running:  return dark ? "#7cb8ff" : "#0b5cad"
        case JobModel.Pending:  return dark ? "#c7c7c7" : "#5a5a5a"
        case JobModel.Paused:   return dark ? "#ffc857" : "#8a5a00"
        case JobModel.Complete: return dark ? "#7fd68a" : "#1d7a2f"
        case JobModel.Failed:   return dark ? "#ff8a80" : "#b3261e"
        case JobModel.Canceled: return dark ? "#b8b8b8" : "#616161"
        }
        return dark ? "#c7c7c7" : "#5a5a5a"
    }

    // A source's connection (JobSource.ConnectionState) in the status colours: connected reads
    // as done, (re)connecting as paused, a refused token as failed, offline as canceled.
    function connectionColor(state: int, dark: bool): color {
        switch (state) {
        case JobSource.Connected: return statusColor(JobModel.Complete, dark)
        case JobSource.Connecting:
        case JobSource.Reconnecting: return statusColor(JobModel.Paused, dark)
        case JobSource.AuthFailed: return statusColor(JobModel.Failed, dark)
        }
        return statusColor(JobModel.Canceled, dark)
    }
}
