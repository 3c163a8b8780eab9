import QtQuick
import QtQuick.Shapes

// A job's status as a small vector icon in its status colour: a filled disc with a glyph for
// running (play), paused (bars), complete (check), failed (cross), canceled (bar); a ring with
// clock hands for queued. Scales with the font.
//
// Every glyph is its own Shape with a fixed path, shown or hidden: Qt 6.4's Shape can miss a path
// that changes twice between two frames (a job that goes pending → running → complete at once).
Item {
    id: root
    property string status: "pending"
    property color color: "gray"
    property color glyphColor: palette.base

    implicitWidth: Math.round(fontMetrics.height * 1.15)
    implicitHeight: implicitWidth

    Accessible.role: Accessible.Graphic
    Accessible.name: Theme.statusLabel(status)

    FontMetrics { id: fontMetrics }

    component Glyph: Shape {
        id: glyph
        property string path
        property color stroke: root.glyphColor
        property color fill: "transparent"
        property real lineWidth: 1.8
        anchors.fill: parent
        antialiasing: true
        // Drawn on a 16×16 grid.
        transform: Scale { xScale: root.width / 16; yScale: root.height / 16 }
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

    Glyph { visible: root.status !== "pending"; path: root.disc; stroke: root.color; fill: root.color; lineWidth: 0.5 }
    Glyph { visible: root.status === "pending"; path: "M 14.2 8 A 6.2 6.2 0 1 1 1.8 8 A 6.2 6.2 0 1 1 14.2 8 Z"; stroke: root.color; lineWidth: 1.6 }
    Glyph { visible: root.status === "pending"; path: "M 8 4.5 L 8 8 L 10.5 9.5"; stroke: root.color }
    Glyph { visible: root.status === "running"; path: "M 6 4.5 L 11.5 8 L 6 11.5 Z"; fill: root.glyphColor; lineWidth: 0.5 }
    Glyph { visible: root.status === "paused"; path: "M 5 4.5 L 7 4.5 L 7 11.5 L 5 11.5 Z M 9 4.5 L 11 4.5 L 11 11.5 L 9 11.5 Z"; fill: root.glyphColor; lineWidth: 0.5 }
    Glyph { visible: root.status === "complete"; path: "M 4.5 8.2 L 7 10.7 L 11.5 5.5" }
    Glyph { visible: root.status === "failed"; path: "M 5.5 5.5 L 10.5 10.5 M 10.5 5.5 L 5.5 10.5" }
    Glyph { visible: root.status === "canceled"; path: "M 4.8 8 L 11.2 8" }
}
