import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Clipdeck.Client

// The monitor's summary: how many jobs run, wait and failed, the overall progress and the time
// until everything active is done; "Clear finished".
Pane {
    id: header
    required property JobModel jobModel
    signal clearFinished()

    padding: Theme.margin

    readonly property bool dark: Theme.isDark(palette)

    background: Rectangle { color: header.palette.window }

    contentItem: RowLayout {
        spacing: Theme.spacingLarge

        // Nothing active: one calm word instead of "0 running 0 queued".
        Label {
            objectName: "idleLabel"
            visible: header.jobModel.activeCount === 0
            text: qsTr("Nothing running")
            opacity: 0.8
        }
        Label {
            objectName: "runningLabel"
            visible: header.jobModel.activeCount > 0
            text: qsTr("%1 running").arg(header.jobModel.runningCount)
            color: header.jobModel.runningCount > 0 ? Theme.statusColor(JobModel.Running, header.dark) : header.palette.windowText
            font.bold: true
        }
        Label {
            objectName: "queuedLabel"
            visible: header.jobModel.activeCount > 0
            text: qsTr("%1 queued").arg(header.jobModel.queuedCount)
        }
        Label {
            objectName: "failedLabel"
            text: qsTr("%1 failed").arg(header.jobModel.failedCount)
            visible: header.jobModel.failedCount > 0
            color: Theme.statusColor(JobModel.Failed, header.dark)
        }
        Label {
            objectName: "totalLabel"
            visible: header.jobModel.count > 0
            text: header.jobModel.count === 1 ? qsTr("1 job") : qsTr("%1 jobs").arg(header.jobModel.count)
            opacity: 0.8
        }
        JobProgressBar {
            objectName: "overallProgress"
            from: 0; to: 100
            value: Math.max(0, header.jobModel.overallProgress)
            visible: header.jobModel.activeCount > 0
            Layout.fillWidth: true
            Layout.maximumWidth: Theme.chars(40)
            Accessible.name: qsTr("Overall progress")
        }
        Label {
            objectName: "etaLabel"
            visible: header.jobModel.activeCount > 0
            text: header.jobModel.totalEtaSeconds >= 0
                  ? qsTr("%1 · all done in %2").arg(Format.percent(header.jobModel.overallProgress))
                                              .arg(Format.duration(header.jobModel.totalEtaSeconds))
                  : qsTr("%1 · estimating…").arg(Format.percent(Math.max(0, header.jobModel.overallProgress)))
        }
        Item { Layout.fillWidth: true }
        Button {
            objectName: "clearFinishedButton"
            text: qsTr("Clear finished")
            enabled: header.jobModel.count > header.jobModel.activeCount
            onClicked: header.clearFinished()
        }
    }
}
