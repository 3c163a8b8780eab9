import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Shapes

// What the monitor shows before the first job: what to do next.
Item {
    id: empty
    signal addClipsRequested()

    FontMetrics { id: fontMetrics }

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * fontMetrics.height, fontMetrics.averageCharacterWidth * 60)
        spacing: fontMetrics.height * 0.8

        // A clip with an arrow into it.
        Shape {
            Layout.alignment: Qt.AlignHCenter
            implicitWidth: fontMetrics.height * 5
            implicitHeight: fontMetrics.height * 4
            ShapePath {
                strokeColor: empty.palette.mid
                strokeWidth: 2
                fillColor: "transparent"
                capStyle: ShapePath.RoundCap
                joinStyle: ShapePath.RoundJoin
                scale: Qt.size(fontMetrics.height * 5 / 50, fontMetrics.height * 4 / 40)
                PathSvg { path: "M 5 14 L 45 14 L 45 38 L 5 38 Z M 5 20 L 45 20 M 5 32 L 45 32 M 12 14 L 12 20 M 20 14 L 20 20 M 28 14 L 28 20 M 36 14 L 36 20 M 12 32 L 12 38 M 20 32 L 20 38 M 28 32 L 28 38 M 36 32 L 36 38 M 25 1 L 25 11 M 20 6 L 25 11 L 30 6" }
            }
        }
        Label {
            objectName: "emptyTitle"
            text: qsTr("No jobs yet")
            font.pixelSize: Math.round(fontMetrics.height * 1.4)
            font.bold: true
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
