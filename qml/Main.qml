import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Clipdeck.App

// The Clipdeck window: the new-job bar, the job monitor, drop-to-start, the message line.
// `app` is the AppController (app/desktop/appcontroller.h, QML module Clipdeck.App): it hands
// each view the part it needs, typed (the JobModel, the JobLauncher, the ServerSettings), and
// does what QML does not do itself (open files, show folders, the clipboard, the title).
ApplicationWindow {
    id: window

    required property AppController app
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

    width: Theme.windowWidth
    height: Theme.windowHeight
    minimumWidth: Theme.windowMinimumWidth
    minimumHeight: Theme.windowMinimumHeight
    visible: true
    title: app.windowTitle

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
        onAddClipsRequested: fileDialog.open()
    }
    // What the monitor asks of the desktop, to the app. (Functions, not `onX: key => ...`
    // handlers: Qt 6.4's qmllint checks the calls in these against AppController's type.)
    Connections {
        target: monitor
        function onOpenOutputRequested(key: string) { window.app.openOutput(key) }
        function onShowInFolderRequested(key: string) { window.app.showInFolder(key) }
        function onCopyRequested(text: string) { window.app.copyText(text) }
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
            anchors.margins: Theme.spacingWide
            visible: drop.containsDrag
            color: Qt.rgba(window.palette.highlight.r, window.palette.highlight.g, window.palette.highlight.b, 0.15)
            border.color: window.palette.highlight
            border.width: Theme.lineWidthThick
            radius: Theme.radiusLarge
            Label {
                anchors.centerIn: parent
                text: qsTr("Drop to start “%1” on %2").arg(bar.kindLabel).arg(bar.targetName)
                font.bold: true
            }
        }
    }

    footer: Pane {
        visible: window.app.message.length > 0
        padding: Theme.marginSmall
        background: Rectangle {
            color: window.palette.alternateBase
            Rectangle { width: parent.width; height: Theme.hairline; color: window.palette.mid }
        }
        RowLayout {
            anchors.fill: parent
            Label {
                objectName: "messageLabel"
                text: window.app.message
                wrapMode: Text.WordWrap
                Layout.fillWidth: true
            }
            ActionButton {
                text: qsTr("Dismiss")
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

    // (StandardKey is QKeySequence::StandardKey, which Qt 6.4's qmltypes do not declare: qmllint
    // reports it as unqualified; the engine knows it.)
    Shortcut {
        sequences: [StandardKey.Open] // qmllint disable unqualified
        onActivated: fileDialog.open()
    }
    Shortcut {
        sequences: [StandardKey.Find] // qmllint disable unqualified
        onActivated: monitor.focusSearch()
    }
}
