import QtQuick
import QtQuick.Shapes
import Clipdeck.Client

// A job's status as a small vector icon in its status colour: a filled disc with a glyph for
// running (play), paused (bars), complete (check), failed (cross), canceled (bar); a ring with
// clock hands for queued. Scales with the font (Theme.iconSize).
//
// Every glyph is its own Shape with a fixed path, shown or hidden: Qt 6.4's Shape can miss a path
// that changes twice between two frames (a job that goes pending → running → complete at once).
Item {
    id: root
    property int status: JobModel.Pending // JobModel.JobStatus
    // What the icon says, for screen readers: the status's label (JobModel's statusLabel role).
    property string label
    property color color: palette.mid
    property color glyphColor: palette.base

    implicitWidth: Theme.iconSize
    implicitHeight: implicitWidth

    Accessible.role: Accessible.Graphic
    Accessible.name: label

    component Glyph: Shape {
        id: glyph
        property string path
        property color stroke
        property color fill: "transparent"
        property real lineWidth: 1.8
        anchors.fill: parent
        antialiasing: true
        // Drawn on a 16×16 grid (the paths and line widths are in its units).
        transform: Scale { xScale: glyph.width / 16; yScale: glyph.height / 16 }
        ShapePath {
            strokeColor: glyph.stroke
            strokeWidth: glyph.lineWidth
            fillColor: glyph.fill
            capStyle: ShapePath.RoundCap
            joinStyle: ShapePath.RoundJoin
            PathSvg { path: glyph.path }
        }
    }

    readonly property string disc: "M 15 8 A 7 7 0 1 1 1 8 A 7 7 0 1 1 15 8 Z"

    Glyph { visible: root.status !== JobModel.Pending; path: root.disc; stroke: root.color; fill: root.color; lineWidth: 0.5 }
    Glyph { visible: root.status === JobModel.Pending; path: "M 14.2 8 A 6.2 6.2 0 1 1 1.8 8 A 6.2 6.2 0 1 1 14.2 8 Z"; stroke: root.color; lineWidth: 1.6 }
    Glyph { visible: root.status === JobModel.Pending; path: "M 8 4.5 L 8 8 L 10.5 9.5"; stroke: root.color }
    Glyph { visible: root.status === JobModel.Running; path: "M 6 4.5 L 11.5 8 L 6 11.5 Z"; stroke: root.glyphColor; fill: root.glyphColor; lineWidth: 0.5 }
    Glyph { visible: root.status === JobModel.Paused; path: "M 5 4.5 L 7 4.5 L 7 11.5 L 5 11.5 Z M 9 4.5 L 11 4.5 L 11 11.5 L 9 11.5 Z"; stroke: root.glyphColor; fill: root.glyphColor; lineWidth: 0.5 }
    Glyph { visible: root.status === JobModel.Complete; path: "M 4.5 8.2 L 7 10.7 L 11.5 5.5"; stroke: root.glyphColor }
    Glyph { visible: root.status === JobModel.Failed; path: "M 5.5 5.5 L 10.5 10.5 M 10.5 5.5 L 5.5 10.5"; stroke: root.glyphColor }
    Glyph { visible: root.status === JobModel.Canceled; path: "M 4.8 8 L 11.2 8"; stroke: root.glyphColor }
}
