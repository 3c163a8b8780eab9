import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Shapes

// What the monitor shows before the first job: what to do next.
Item {
    id: empty
    signal addClipsRequested()

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.gridUnit, Theme.chars(60))
        spacing: Theme.spacingLarge

        // A clip with an arrow into it: drawn on a 50 × 40 grid, shown 5 × 4 grid units.
        Shape {
            id: picture
            Layout.alignment: Qt.AlignHCenter
            implicitWidth: Theme.gridUnit * 5
            implicitHeight: Theme.gridUnit * 4
            ShapePath {
                strokeColor: empty.palette.mid
                strokeWidth: Theme.lineWidth
                fillColor: "transparent"
                capStyle: ShapePath.RoundCap
                joinStyle: ShapePath.RoundJoin
                scale: Qt.size(picture.implicitWidth / 50, picture.implicitHeight / 40)
                PathSvg { path: "M 5 14 L 45 14 L 45 38 L 5 38 Z M 5 20 L 45 20 M 5 32 L 45 32 M 12 14 L 12 20 M 20 14 L 20 20 M 28 14 L 28 20 M 36 14 L 36 20 M 12 32 L 12 38 M 20 32 L 20 38 M 28 32 L 28 38 M 36 32 L 36 38 M 25 1 L 25 11 M 20 6 L 25 11 L 30 6" }
            }
        }
        Label {
            objectName: "emptyTitle"
            text: qsTr("No jobs yet")
            font: Theme.headingFont
            horizontalAlignment: Text.AlignHCenter
            Layout.fillWidth: true
        }
        Label {
            objectName: "emptyText"
            text: qsTr("Drop clips here or click Add clips to start a job")
            wrapMode: Text.WordWrap
            horizontalAlignment: Text.AlignHCenter
            Layout.fillWidth: true
        }
        Label {
            text: qsTr("Choose what to make and where it runs in the bar above: exports, editing proxies, thumbnails, scene markers, waveforms. Jobs run on this computer unless you pick a server.")
            wrapMode: Text.WordWrap
            horizontalAlignment: Text.AlignHCenter
            opacity: 0.8
            Layout.fillWidth: true
        }
        Button {
            objectName: "emptyAddButton"
            text: qsTr("Add clips…")
            highlighted: true
            Layout.alignment: Qt.AlignHCenter
            onClicked: empty.addClipsRequested()
        }
    }
}
