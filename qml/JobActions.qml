import QtQuick
import QtQuick.Layouts

// A job row's action buttons: the ones the job allows (JobModel's capability roles), nothing
// else. The area is as wide as the widest set a job can show, and the buttons sit at its right
// end: the columns to their left stay put whatever the status.
RowLayout {
    id: actions

    property bool canPause
    property bool canResume
    property bool canCancel
    property bool canOpenOutput
    property bool canRetry
    property bool canRemove

    signal pauseRequested()
    signal resumeRequested()
    signal cancelRequested()
    signal openOutputRequested()
    signal showInFolderRequested()
    signal retryRequested()
    signal removeRequested()

    spacing: Theme.spacingTiny
    // (A layout fills by default: it would take a share of its neighbours' room.)
    Layout.fillWidth: false
    Layout.preferredWidth: Math.max(
        openButton.implicitWidth + folderButton.implicitWidth + removeButton.implicitWidth,
        retryButton.implicitWidth + removeButton.implicitWidth,
        pauseButton.implicitWidth + cancelButton.implicitWidth,
        resumeButton.implicitWidth + cancelButton.implicitWidth) + 2 * spacing

    Item { Layout.fillWidth: true }
    ActionButton {
        id: pauseButton
        objectName: "pauseButton"
        text: qsTr("Pause")
        toolTip: qsTr("Pause the job (Space)")
        visible: actions.canPause
        onClicked: actions.pauseRequested()
    }
    ActionButton {
        id: resumeButton
        objectName: "resumeButton"
        text: qsTr("Resume")
        toolTip: qsTr("Resume the job (Space)")
        visible: actions.canResume
        onClicked: actions.resumeRequested()
    }
    ActionButton {
        id: cancelButton
        objectName: "cancelButton"
        text: qsTr("Cancel")
        toolTip: qsTr("Stop the job")
        visible: actions.canCancel
        onClicked: actions.cancelRequested()
    }
    ActionButton {
        id: openButton
        objectName: "openButton"
        text: qsTr("Open")
        toolTip: qsTr("Open the result with its application")
        visible: actions.canOpenOutput
        onClicked: actions.openOutputRequested()
    }
    ActionButton {
        id: folderButton
        objectName: "folderButton"
        text: qsTr("Show in folder")
        toolTip: qsTr("Show the result in the file manager")
        visible: actions.canOpenOutput
        onClicked: actions.showInFolderRequested()
    }
    ActionButton {
        id: retryButton
        objectName: "retryButton"
        text: qsTr("Retry")
        toolTip: qsTr("Run the job again")
        visible: actions.canRetry
        onClicked: actions.retryRequested()
    }
    ActionButton {
        id: removeButton
        objectName: "removeButton"
        text: qsTr("Remove")
        toolTip: qsTr("Remove the job from the list (Delete)")
        visible: actions.canRemove
        onClicked: actions.removeRequested()
    }
}
