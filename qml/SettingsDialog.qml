import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Clipdeck servers: the configured ones with their connection state, removal, and a form to add
// one (URL + access token) with "Test connection" on the spot. `servers` is the app's
// ServerSettings (app/desktop/serversettings.h).
Dialog {
    id: dialog

    required property QtObject servers

    title: qsTr("Servers")
    modal: true
    standardButtons: Dialog.Close
    anchors.centerIn: Overlay.overlay
    width: Math.min(parent ? parent.width * 0.9 : 800, fontMetrics.averageCharacterWidth * 90)
    readonly property bool dark: Theme.isDark(palette)
    // Fusion's dialog hugs its frame; a little air reads as a settings page, not a tooltip.
    padding: Math.round(fontMetrics.height * 0.9)
    topPadding: Math.round(fontMetrics.height * 0.5)

    FontMetrics { id: fontMetrics }

    function stateColor(state) {
        switch (state) {
        case "connected": return Theme.statusColor("complete", dark)
        case "connecting":
        case "reconnecting": return Theme.statusColor("paused", dark)
        case "auth_failed": return Theme.statusColor("failed", dark)
        }
        return Theme.statusColor("canceled", dark)
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: fontMetrics.height * 0.6

        Label {
            text: qsTr("Jobs run on this computer unless you choose a server in “Run on”. A server's jobs appear in the monitor beside the local ones.")
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
        }

        ListView {
            id: serverList
            objectName: "serverList"
            model: dialog.servers
            interactive: false
            Layout.fillWidth: true
            implicitHeight: contentHeight
            visible: count > 0
            delegate: RowLayout {
                required property int index
                required property string displayName
                required property string url
                // (Not "state": that is every Item's own state-machine property.)
                required property string connectionState
                required property string stateText
                required property string error
                required property bool sessionOnly
                width: serverList.width
                spacing: fontMetrics.height * 0.5
                ColumnLayout {
                    spacing: 0
                    Layout.fillWidth: true
                    Label { text: displayName; font.bold: true; elide: Text.ElideRight; Layout.fillWidth: true }
                    Label {
                        text: sessionOnly ? qsTr("%1 · for this run only (--server)").arg(url) : url
                        opacity: 0.8
                        elide: Text.ElideMiddle
                        Layout.fillWidth: true
                    }
                }
                Label {
                    objectName: "serverStateLabel"
                    text: error.length > 0 && connectionState !== "connected" ? qsTr("%1 — %2").arg(stateText).arg(error) : stateText
                    color: dialog.stateColor(connectionState)
                    elide: Text.ElideRight
                    Layout.maximumWidth: fontMetrics.averageCharacterWidth * 40
                }
                Button {
                    text: qsTr("Remove")
                    onClicked: dialog.servers.removeServer(index)
                    Accessible.name: qsTr("Remove %1").arg(displayName)
                }
            }
        }
        Label {
            visible: serverList.count === 0
            text: qsTr("No servers yet.")
            opacity: 0.8
        }

        GroupBox {
            title: qsTr("Add a server")
            Layout.fillWidth: true
            GridLayout {
                anchors.fill: parent
                columns: 2
                columnSpacing: fontMetrics.height * 0.5
                Label { text: qsTr("Address:") }
                TextField {
                    id: urlField
                    objectName: "urlField"
                    placeholderText: "http://render.example.com:8470"
                    selectByMouse: true
                    Layout.fillWidth: true
                    Accessible.name: qsTr("Server address")
                    onTextEdited: dialog.servers.clearTest()
                }
                Label { text: qsTr("Access token:") }
                TextField {
                    id: tokenField
                    objectName: "tokenField"
                    echoMode: TextInput.Password
                    placeholderText: qsTr("printed by clipdeck-server when it starts")
                    selectByMouse: true
                    Layout.fillWidth: true
                    Accessible.name: qsTr("Access token")
                    onTextEdited: dialog.servers.clearTest()
                }
                Item { width: 1; height: 1 }
                RowLayout {
                    Button {
                        objectName: "testButton"
                        text: qsTr("Test connection")
                        enabled: urlField.text.length > 0 && dialog.servers.testState !== "testing"
                        onClicked: dialog.servers.testConnection(urlField.text, tokenField.text)
                    }
                    Button {
                        objectName: "addServerButton"
                        text: qsTr("Add server")
                        enabled: urlField.text.length > 0
                        onClicked: {
                            if (dialog.servers.addServer(urlField.text, tokenField.text)) {
                                urlField.text = ""
                                tokenField.text = ""
                            }
                        }
                    }
                }
                Item { width: 1; height: 1; visible: testLabel.visible }
                Label {
                    id: testLabel
                    objectName: "testLabel"
                    visible: dialog.servers.testMessage.length > 0
                    text: dialog.servers.testMessage
                    wrapMode: Text.WordWrap
                    Layout.fillWidth: true
                    color: {
                        switch (dialog.servers.testState) {
                        case "ok": return Theme.statusColor("complete", dialog.dark)
                        case "testing": return dialog.palette.windowText
                        case "auth_failed":
                        case "unreachable":
                        case "error": return Theme.statusColor("failed", dialog.dark)
                        }
                        return dialog.palette.windowText
                    }
                }
            }
        }
    }
}
