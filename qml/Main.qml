import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts

// The Clipdeck window: the new-job bar, the job monitor, drop-to-start, the message line.
// `app` is the AppController (app/desktop/appcontroller.h): jobModel, launcher, servers, and the
// actions QML does not do itself.
ApplicationWindow {
    id: window

    required property QtObject app
    // Palette roles to set on the window ({"window": "#2b2d31", ...}); empty: the system's.
    // main.cpp fills it for CLIPDECK_COLOR_SCHEME=dark.
    property var paletteOverride: ({})
    // `clipdeck --show-settings`: the Servers dialog open from the start.
    property bool showSettingsAtStart: false

    Component.onCompleted: {
        for (const role in paletteOverride)
            palette[role] = paletteOverride[role]
        if (showSettingsAtStart)
            settings.open()
    }

    width: 1180
    height: 760
    minimumWidth: 640
    minimumHeight: 420
    visible: true
    title: app.windowTitle

    FontMetrics { id: fontMetrics }

    header: NewJobBar {
        id: bar
        launcher: window.app.launcher
        onAddClipsRequested: fileDialog.open()
        onSettingsRequested: settings.open()
    }

    JobMonitor {
        id: monitor
        anchors.fill: parent
        focus: true
        jobModel: window.app.jobModel
        controller: window.app
        onAddClipsRequested: fileDialog.open()
    }

    // Files dropped anywhere on the window start jobs with the bar's choices.
    DropArea {
        id: drop
        anchors.fill: parent
        keys: ["text/uri-list"]
        onEntered: drag => drag.accepted = drag.hasUrls
        onDropped: drop => {
            if (drop.hasUrls) {
                bar.submit(drop.urls)
                drop.acceptProposedAction()
            }
        }
        Rectangle {
            anchors.fill: parent
            anchors.margins: fontMetrics.height
            visible: drop.containsDrag
            color: Qt.rgba(window.palette.highlight.r, window.palette.highlight.g, window.palette.highlight.b, 0.15)
            border.color: window.palette.highlight
            border.width: 3
            radius: 8
            Label {
                anchors.centerIn: parent
                text: qsTr("Drop to start “%1” on %2").arg(bar.kind).arg(bar.targetName)
                font.bold: true
            }
        }
    }

    footer: Pane {
        visible: window.app.message.length > 0
        padding: fontMetrics.height * 0.4
        background: Rectangle {
            color: window.palette.alternateBase
            Rectangle { width: parent.width; height: 1; color: window.palette.mid }
        }
        RowLayout {
            anchors.fill: parent
            Label {
                objectName: "messageLabel"
                text: window.app.message
                wrapMode: Text.WordWrap
                Layout.fillWidth: true
            }
            Button {
                text: qsTr("Dismiss")
                flat: true
                onClicked: window.app.clearMessage()
            }
        }
    }

    FileDialog {
        id: fileDialog
        title: qsTr("Add clips")
        fileMode: FileDialog.OpenFiles
        nameFilters: [qsTr("Media files (*.mp4 *.mov *.mkv *.webm *.avi *.mxf *.m4v *.mts *.mpg *.wav *.mp3 *.m4a *.aac *.flac *.ogg *.opus)"),
                      qsTr("All files (*)")]
        onAccepted: bar.submit(selectedFiles)
    }

    SettingsDialog {
        id: settings
        servers: window.app.servers
    }

    Shortcut {
        sequences: [StandardKey.Open]
        onActivated: fileDialog.open()
    }
    Shortcut {
        sequences: [StandardKey.Find]
        onActivated: monitor.focusSearch()
    }
}
