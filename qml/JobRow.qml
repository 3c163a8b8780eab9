import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// One job in the monitor: what (clip, kind), where it runs, its status, progress, stage, ETA and
// speed, the actions its status allows, and for a failed job the error with expandable details.
// It only shows and asks: `actionRequested(name)` goes to whoever holds the model ("cancel", "pause",
// "resume", "retry", "remove", "open", "showInFolder", "copyError").
ItemDelegate {
    id: row

    required property int index
    required property string key
    required property string clipName
    required property string kind
    required property string status
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
    required property var outputs
    required property var startedAt
    required property var finishedAt

    property bool expanded: false
    readonly property bool dark: Theme.isDark(palette)
    readonly property color statusColor: Theme.statusColor(status, dark)
    readonly property bool active: status === "pending" || status === "running" || status === "paused"

    // The line under the progress bar, piece by piece (tests read them by objectName).
    readonly property string percentText: Format.percent(progress)
    readonly property string etaText: {
        if (status === "running")
            return etaSeconds >= 0 ? qsTr("ETA %1").arg(Format.duration(etaSeconds)) : qsTr("ETA estimating…")
        if (status === "paused")
            return etaSeconds >= 0 ? qsTr("%1 left when resumed").arg(Format.duration(etaSeconds)) : ""
        if (status === "complete" && startedAt && finishedAt && !isNaN(startedAt) && !isNaN(finishedAt))
            return qsTr("took %1").arg(Format.duration((finishedAt - startedAt) / 1000))
        return ""
    }
    readonly property string speedText: status === "running" ? Format.speed(speedRealtime, speedFps) : ""
    readonly property string presetName: params && params.preset ? params.preset : ""
    readonly property bool showsError: status === "failed" && (errorMessage.length > 0 || errorCode.length > 0)
    // The widest status word in this font (bold), for the status column.
    readonly property real statusColumnWidth: {
        let w = 0
        for (const s of ["pending", "running", "paused", "complete", "failed", "canceled"])
            w = Math.max(w, boldMetrics.advanceWidth(Theme.statusLabel(s)))
        return Math.ceil(w)
    }

    signal actionRequested(string name)

    width: ListView.view ? ListView.view.width : implicitWidth
    padding: Math.round(fontMetrics.height * 0.5)
    leftPadding: padding + accent.width + 4
    highlighted: ListView.isCurrentItem
    focusPolicy: Qt.ClickFocus
    onClicked: if (ListView.view) ListView.view.currentIndex = index

    // The selected row's keys (the list gives its current row the focus): Space pauses or resumes,
    // Delete removes a finished job. Handled before ItemDelegate's own Space (a click).
    Keys.onPressed: event => {
        if (event.key === Qt.Key_Space && event.modifiers === Qt.NoModifier) {
            if (status === "running" || status === "pending")
                actionRequested("pause")
            else if (status === "paused")
                actionRequested("resume")
            event.accepted = true
        } else if (event.key === Qt.Key_Delete) {
            if (!active)
                actionRequested("remove")
            event.accepted = true
        }
    }
    Keys.onReleased: event => { if (event.key === Qt.Key_Space) event.accepted = true }

    Accessible.name: qsTr("%1, %2, %3, %4").arg(clipName).arg(Format.kindLabel(kind))
                         .arg(Theme.statusLabel(status)).arg(percentText)

    FontMetrics { id: fontMetrics }
    FontMetrics { id: boldMetrics; font.bold: true }

    background: Rectangle {
        color: row.highlighted ? Qt.rgba(row.palette.highlight.r, row.palette.highlight.g, row.palette.highlight.b, 0.18)
                               : (row.index % 2 ? row.palette.alternateBase : row.palette.base)
        Rectangle {
            id: accent
            width: 4
            height: parent.height
            color: row.statusColor
        }
        Rectangle {
            anchors.bottom: parent.bottom
            width: parent.width
            height: 1
            color: row.palette.mid
            opacity: 0.5
        }
    }

    contentItem: ColumnLayout {
        spacing: Math.round(fontMetrics.height * 0.3)

        RowLayout {
            spacing: Math.round(fontMetrics.height * 0.5)
            Layout.fillWidth: true

            StatusIcon {
                objectName: "statusIcon"
                status: row.status
                color: row.statusColor
            }
            Label {
                objectName: "clipLabel"
                text: row.clipName
                font.bold: true
                elide: Text.ElideMiddle
                Layout.fillWidth: true
                Layout.minimumWidth: fontMetrics.averageCharacterWidth * 12
            }
            Label {
                objectName: "kindLabel"
                text: row.presetName ? qsTr("%1 · %2").arg(Format.kindLabel(row.kind)).arg(row.presetName)
                                     : Format.kindLabel(row.kind)
                leftPadding: 6; rightPadding: 6; topPadding: 1; bottomPadding: 1
                background: Rectangle { radius: 3; color: row.palette.button; border.color: row.palette.mid }
            }
            Label {
                objectName: "statusLabel"
                text: row.attempt > 1 ? qsTr("%1 (attempt %2)").arg(Theme.statusLabel(row.status)).arg(row.attempt)
                                      : Theme.statusLabel(row.status)
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

            // Actions: what the status allows, nothing else. The area is as wide as the widest
            // set a status can show, and the buttons sit at its right end: the columns to the
            // left stay put whatever the status.
            RowLayout {
                id: actions
                spacing: 2
                // (A layout fills by default: it would take a share of the clip name's room.)
                Layout.fillWidth: false
                Layout.preferredWidth: Math.max(
                    openButton.implicitWidth + folderButton.implicitWidth + removeButton.implicitWidth,
                    retryButton.implicitWidth + removeButton.implicitWidth,
                    pauseButton.implicitWidth + cancelButton.implicitWidth,
                    resumeButton.implicitWidth + cancelButton.implicitWidth) + 2 * spacing
                Item { Layout.fillWidth: true }
                Button {
                    id: pauseButton
                    objectName: "pauseButton"; text: qsTr("Pause"); flat: true
                    visible: row.status === "running" || row.status === "pending"
                    onClicked: row.actionRequested("pause")
                }
                Button {
                    id: resumeButton
                    objectName: "resumeButton"; text: qsTr("Resume"); flat: true
                    visible: row.status === "paused"
                    onClicked: row.actionRequested("resume")
                }
                Button {
                    id: cancelButton
                    objectName: "cancelButton"; text: qsTr("Cancel"); flat: true
                    visible: row.active
                    onClicked: row.actionRequested("cancel")
                }
                Button {
                    id: openButton
                    objectName: "openButton"; text: qsTr("Open"); flat: true
                    visible: row.status === "complete" && row.outputs && row.outputs.length > 0
                    onClicked: row.actionRequested("open")
                }
                Button {
                    id: folderButton
                    objectName: "folderButton"; text: qsTr("Show in folder"); flat: true
                    visible: row.status === "complete" && row.outputs && row.outputs.length > 0
                    onClicked: row.actionRequested("showInFolder")
                }
                Button {
                    id: retryButton
                    objectName: "retryButton"; text: qsTr("Retry"); flat: true
                    visible: row.status === "failed" || row.status === "canceled"
                    onClicked: row.actionRequested("retry")
                }
                Button {
                    id: removeButton
                    objectName: "removeButton"; text: qsTr("Remove"); flat: true
                    visible: !row.active
                    onClicked: row.actionRequested("remove")
                }
            }
        }

        // The bar takes the whole width but the percent, which has a fixed column ("100%" in
        // this font): every row's bar starts and ends at the same x, whatever the job says
        // about itself (that goes on the line below).
        RowLayout {
            spacing: Math.round(fontMetrics.height * 0.6)
            Layout.fillWidth: true

            JobProgressBar {
                objectName: "progressBar"
                from: 0; to: 100
                value: row.progress
                indeterminate: row.status === "running" && row.progress <= 0
                palette.highlight: row.statusColor
                // Finished bars step back so the ones still moving are what the eye finds.
                opacity: row.active || row.status === "failed" ? 1 : 0.6
                Layout.fillWidth: true
                Accessible.name: qsTr("Progress")
            }
            Label {
                objectName: "percentLabel"
                text: row.percentText
                horizontalAlignment: Text.AlignRight
                Layout.preferredWidth: percentMetrics.advanceWidth
                TextMetrics { id: percentMetrics; text: "100%" }
            }
        }

        // What the job says about itself: stage, ETA, speed while it runs, how long it took
        // once done. Always one line high (also when empty), so rows keep one height whatever
        // their status and nothing jumps when a job starts or ends; a failed job shows its
        // error here instead.
        RowLayout {
            objectName: "infoLine"
            visible: !row.showsError
            spacing: fontMetrics.height
            Layout.fillWidth: true
            Layout.minimumHeight: fontMetrics.height

            Label {
                objectName: "waitingLabel"
                text: qsTr("Waiting to start")
                visible: row.status === "pending"
                opacity: 0.7
            }
            Label {
                objectName: "stageLabel"
                text: row.stage
                visible: text.length > 0 && row.active
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
            spacing: 2
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
                Button {
                    objectName: "detailsButton"
                    text: row.expanded ? qsTr("Hide details") : qsTr("Details")
                    flat: true
                    onClicked: row.expanded = !row.expanded
                }
                Button {
                    objectName: "copyErrorButton"; text: qsTr("Copy error"); flat: true
                    onClicked: row.actionRequested("copyError")
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
