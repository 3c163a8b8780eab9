pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Clipdeck.Client
import Clipdeck.App

// Clipdeck servers: the configured ones with their connection state, removal, and a form to add
// one (URL + access token) with "Test connection" on the spot. `servers` is the app's
// ServerSettings (app/desktop/serversettings.h).
Dialog {
    id: dialog

    required property ServerSettings servers

    title: qsTr("Servers")
    modal: true
    standardButtons: Dialog.Close
    anchors.centerIn: Overlay.overlay
    width: parent ? Math.min(parent.width * 0.9, Theme.chars(90)) : Theme.chars(90)
    readonly property bool dark: Theme.isDark(palette)
    // Fusion's dialog hugs its frame; a little air reads as a settings page, not a tooltip.
    padding: Theme.spacingLarge
    topPadding: Theme.spacing

    ColumnLayout {
        anchors.fill: parent
        spacing: Theme.margin

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
                id: server
                required property int index
                required property string displayName
                required property string url
                // JobSource.ConnectionState. (Not "state": that is every Item's own state machine.)
                required property int connectionState
                required property string stateText
                required property string error
                required property bool sessionOnly
                width: serverList.width
                spacing: Theme.spacing
                ColumnLayout {
                    spacing: 0
                    Layout.fillWidth: true
                    Label { text: server.displayName; font.bold: true; elide: Text.ElideRight; Layout.fillWidth: true }
                    Label {
                        text: server.sessionOnly ? qsTr("%1 · for this run only (--server)").arg(server.url) : server.url
                        opacity: 0.8
                        elide: Text.ElideMiddle
                        Layout.fillWidth: true
                    }
                }
                Label {
                    objectName: "serverStateLabel"
                    text: server.error.length > 0 && server.connectionState !== JobSource.Connected
                          ? qsTr("%1 — %2").arg(server.stateText).arg(server.error) : server.stateText
                    color: Theme.connectionColor(server.connectionState, dialog.dark)
                    elide: Text.ElideRight
                    Layout.maximumWidth: Theme.chars(40)
                }
                Button {
                    text: qsTr("Remove")
                    onClicked: dialog.servers.removeServer(server.index)
                    Accessible.name: qsTr("Remove %1").arg(server.displayName)
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
                columnSpacing: Theme.spacing
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
                Item {} // (the label column)
                RowLayout {
                    Button {
                        objectName: "testButton"
                        text: qsTr("Test connection")
                        enabled: urlField.text.length > 0 && dialog.servers.testState !== ServerSettings.Testing
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
                Item { visible: testLabel.visible } // (the label column)
                Label {
                    id: testLabel
                    objectName: "testLabel"
                    visible: dialog.servers.testMessage.length > 0
                    text: dialog.servers.testMessage
                    wrapMode: Text.WordWrap
                    Layout.fillWidth: true
                    color: {
                        switch (dialog.servers.testState) {
                        case ServerSettings.Ok: return Theme.statusColor(JobModel.Complete, dialog.dark)
                        case ServerSettings.AuthFailed:
                        case ServerSettings.Unreachable:
                        case ServerSettings.Error: return Theme.statusColor(JobModel.Failed, dialog.dark)
                        }
                        return dialog.palette.windowText
                    }
                }
            }
        }
    }
}
