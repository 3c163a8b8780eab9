import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Clipdeck.Client

// One job in the monitor: what (clip, kind), where it runs, its status, progress, stage, ETA and
// speed, the actions the job allows, and for a failed job the error with expandable details.
// Everything it shows comes from JobModel's roles, decided there (which actions a job allows:
// canPause ... canOpenOutput; the labels); the row only shows them and asks: each action is a
// signal, which JobMonitor sends to the model (pause, resume, cancel, retry, remove) or on to the
// window (open the output, show it in its folder, copy the error).
ItemDelegate {
    id: row

    required property int index
    required property string key
    required property string clipName
    required property string kindLabel
    required property int jobStatus // JobModel.JobStatus
    required property string statusLabel
    required property bool isTerminal
    required property real progress
    required property string stage
    required property real etaSeconds
    required property real speedFps
    required property real speedRealtime
    required property string errorCode
    required property string errorMessage
    required property string sourceName
    required property int attempt
    required property var params
    required property var startedAt
    required property var finishedAt
    required property bool canPause
    required property bool canResume
    required property bool canCancel
    required property bool canRetry
    required property bool canRemove
    required property bool canOpenOutput

    // The status column's width: the widest status label (JobMonitor measures it once for all
    // rows), so the columns line up from row to row.
    property real statusColumnWidth: 0
    property bool expanded: false
    readonly property bool dark: Theme.isDark(palette)
    readonly property color statusColor: Theme.statusColor(jobStatus, dark)

    // The line under the progress bar, piece by piece (tests read them by objectName).
    readonly property string percentText: Format.percent(progress)
    readonly property string etaText: {
        if (jobStatus === JobModel.Running)
            return etaSeconds >= 0 ? qsTr("ETA %1").arg(Format.duration(etaSeconds)) : qsTr("ETA estimating…")
        if (jobStatus === JobModel.Paused)
            return etaSeconds >= 0 ? qsTr("%1 left when resumed").arg(Format.duration(etaSeconds)) : ""
        if (jobStatus === JobModel.Complete && startedAt && finishedAt && !isNaN(startedAt) && !isNaN(finishedAt))
            return qsTr("took %1").arg(Format.duration((finishedAt - startedAt) / 1000))
        return ""
    }
    readonly property string speedText: jobStatus === JobModel.Running ? Format.speed(speedRealtime, speedFps) : ""
    readonly property string presetName: params && params.preset ? params.preset : ""
    readonly property bool showsError: jobStatus === JobModel.Failed && (errorMessage.length > 0 || errorCode.length > 0)
    // What "Copy error" copies: "code: message".
    readonly property string errorText: errorCode.length > 0 ? errorCode + ": " + errorMessage : errorMessage

    signal pauseRequested()
    signal resumeRequested()
    signal cancelRequested()
    signal retryRequested()
    signal removeRequested()
    signal openOutputRequested()
    signal showInFolderRequested()
    signal copyErrorRequested()

    width: ListView.view ? ListView.view.width : implicitWidth
    padding: Theme.spacing
    // The accent bar, then as much air.
    leftPadding: padding + 2 * Theme.accentWidth
    highlighted: ListView.isCurrentItem
    focusPolicy: Qt.ClickFocus
    onClicked: if (ListView.view) ListView.view.currentIndex = index

    // The selected row's keys (the list gives its current row the focus): Space pauses or resumes,
    // Delete removes a finished job. Handled before ItemDelegate's own Space (a click).
    Keys.onPressed: event => {
        if (event.key === Qt.Key_Space && event.modifiers === Qt.NoModifier) {
            if (row.canPause)
                row.pauseRequested()
            else if (row.canResume)
                row.resumeRequested()
            event.accepted = true
        } else if (event.key === Qt.Key_Delete) {
            if (row.canRemove)
                row.removeRequested()
            event.accepted = true
        }
    }
    Keys.onReleased: event => { if (event.key === Qt.Key_Space) event.accepted = true }

    Accessible.name: qsTr("%1, %2, %3, %4").arg(clipName).arg(kindLabel).arg(statusLabel).arg(percentText)

    background: Rectangle {
        color: row.highlighted ? Qt.rgba(row.palette.highlight.r, row.palette.highlight.g, row.palette.highlight.b, 0.18)
                               : (row.index % 2 ? row.palette.alternateBase : row.palette.base)
        Rectangle { // the accent bar: the status's colour
            width: Theme.accentWidth
            height: parent.height
            color: row.statusColor
        }
        Rectangle {
            anchors.bottom: parent.bottom
            width: parent.width
            height: Theme.hairline
            color: row.palette.mid
            opacity: 0.5
        }
    }

    contentItem: ColumnLayout {
        spacing: Theme.spacingSmall

        RowLayout {
            spacing: Theme.spacing
            Layout.fillWidth: true

            StatusIcon {
                objectName: "statusIcon"
                status: row.jobStatus
                label: row.statusLabel
                color: row.statusColor
            }
            Label {
                objectName: "clipLabel"
                text: row.clipName
                font.bold: true
                elide: Text.ElideMiddle
                Layout.fillWidth: true
                Layout.minimumWidth: Theme.chars(12)
            }
            Chip {
                objectName: "kindLabel"
                text: row.presetName ? qsTr("%1 · %2").arg(row.kindLabel).arg(row.presetName) : row.kindLabel
            }
            Label {
                objectName: "statusLabel"
                text: row.attempt > 1 ? qsTr("%1 (attempt %2)").arg(row.statusLabel).arg(row.attempt) : row.statusLabel
                color: row.statusColor
                font.bold: true
                // As wide as the widest status, so the chip, the status and "on …" line up from
                // row to row instead of shifting with "Done" / "Running".
                Layout.preferredWidth: Math.max(implicitWidth, row.statusColumnWidth)
            }
            Label {
                objectName: "sourceLabel"
                text: qsTr("on %1").arg(row.sourceName)
                opacity: 0.8
            }

            JobActions {
                canPause: row.canPause
                canResume: row.canResume
                canCancel: row.canCancel
                canOpenOutput: row.canOpenOutput
                canRetry: row.canRetry
                canRemove: row.canRemove
                onPauseRequested: row.pauseRequested()
                onResumeRequested: row.resumeRequested()
                onCancelRequested: row.cancelRequested()
                onOpenOutputRequested: row.openOutputRequested()
                onShowInFolderRequested: row.showInFolderRequested()
                onRetryRequested: row.retryRequested()
                onRemoveRequested: row.removeRequested()
            }
        }

        // The bar takes the whole width but the percent, which has a fixed column ("100%" in
        // this font): every row's bar starts and ends at the same x, whatever the job says
        // about itself (that goes on the line below).
        RowLayout {
            spacing: Theme.margin
            Layout.fillWidth: true

            JobProgressBar {
                objectName: "progressBar"
                from: 0; to: 100
                value: row.progress
                indeterminate: row.jobStatus === JobModel.Running && row.progress <= 0
                palette.highlight: row.statusColor
                // Finished bars step back so the ones still moving are what the eye finds.
                opacity: !row.isTerminal || row.jobStatus === JobModel.Failed ? 1 : 0.6
                Layout.fillWidth: true
                Accessible.name: qsTr("Progress")
            }
            Label {
                objectName: "percentLabel"
                text: row.percentText
                horizontalAlignment: Text.AlignRight
                Layout.preferredWidth: Theme.percentColumnWidth
            }
        }

        // What the job says about itself: stage, ETA, speed while it runs, how long it took
        // once done. Always one line high (also when empty), so rows keep one height whatever
        // their status and nothing jumps when a job starts or ends; a failed job shows its
        // error here instead.
        RowLayout {
            objectName: "infoLine"
            visible: !row.showsError
            spacing: Theme.spacingWide
            Layout.fillWidth: true
            Layout.minimumHeight: Theme.gridUnit

            Label {
                objectName: "waitingLabel"
                text: qsTr("Waiting to start")
                visible: row.jobStatus === JobModel.Pending
                opacity: 0.7
            }
            Label {
                objectName: "stageLabel"
                text: row.stage
                visible: text.length > 0 && !row.isTerminal
                opacity: 0.85
            }
            Label {
                objectName: "etaLabel"
                text: row.etaText
                visible: text.length > 0
            }
            Label {
                objectName: "speedLabel"
                text: row.speedText
                visible: text.length > 0
                opacity: 0.85
            }
            Item { Layout.fillWidth: true }
        }

        // A failed job: the error in a sentence, the details (code, full text) on demand.
        ColumnLayout {
            visible: row.showsError
            spacing: Theme.spacingTiny
            Layout.fillWidth: true

            RowLayout {
                Layout.fillWidth: true
                Label {
                    objectName: "errorLabel"
                    text: row.errorMessage.length > 0 ? row.errorMessage : row.errorCode
                    color: row.statusColor
                    elide: Text.ElideRight
                    maximumLineCount: 1
                    Layout.fillWidth: true
                }
                ActionButton {
                    objectName: "detailsButton"
                    text: row.expanded ? qsTr("Hide details") : qsTr("Details")
                    onClicked: row.expanded = !row.expanded
                }
                ActionButton {
                    objectName: "copyErrorButton"
                    text: qsTr("Copy error")
                    toolTip: qsTr("Copy the error code and message")
                    onClicked: row.copyErrorRequested()
                }
            }
            TextArea {
                objectName: "errorDetails"
                visible: row.expanded
                readOnly: true
                selectByMouse: true
                wrapMode: TextEdit.Wrap
                text: qsTr("Error code: %1\n%2").arg(row.errorCode).arg(row.errorMessage)
                Layout.fillWidth: true
            }
        }
    }
}
