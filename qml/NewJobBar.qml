import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Clipdeck.App

// The bar above the monitor: what to make (kind, preset), where it runs (this computer or a
// server), "Add clips…" and Settings. Dropped or picked files are submitted with these choices
// through the launcher (app/desktop/joblauncher.h).
ToolBar {
    id: bar

    required property JobLauncher launcher
    signal addClipsRequested()
    signal settingsRequested()

    readonly property string kind: kindBox.currentValue !== undefined ? kindBox.currentValue : "thumbnails"
    // The kind as the chooser shows it ("Export (transcode)").
    readonly property string kindLabel: kindBox.currentText
    readonly property bool usesPreset: kindBox.currentIndex >= 0 && launcher.kinds[kindBox.currentIndex].usesPreset
    readonly property string preset: usesPreset && presetBox.currentValue !== undefined ? presetBox.currentValue : ""
    readonly property string target: targetBox.currentValue !== undefined ? targetBox.currentValue : "local"
    readonly property string targetName: targetBox.currentText

    // Starts one job per file with the bar's choices; returns how many were handed on.
    function submit(urls) {
        return launcher.submit(urls, kind, preset, target)
    }

    RowLayout {
        anchors.fill: parent
        spacing: Theme.spacing

        Button {
            objectName: "addClipsButton"
            text: qsTr("Add clips…")
            highlighted: true
            onClicked: bar.addClipsRequested()
            ToolTip.visible: hovered
            ToolTip.text: qsTr("Pick clips to run the job on (Ctrl+O)")
        }
        Label { text: qsTr("Make:") }
        ComboBox {
            id: kindBox
            objectName: "kindBox"
            model: bar.launcher.kinds
            textRole: "label"
            valueRole: "kind"
            Accessible.name: qsTr("Job kind")
            Component.onCompleted: currentIndex = Math.max(0, indexOfValue("transcode"))
            implicitContentWidthPolicy: ComboBox.WidestText
        }
        Label {
            text: qsTr("Preset:")
            visible: bar.usesPreset
        }
        ComboBox {
            id: presetBox
            objectName: "presetBox"
            visible: bar.usesPreset
            model: bar.launcher.presetsFor(bar.kind)
            textRole: "label"
            valueRole: "name"
            Accessible.name: qsTr("Preset")
            onModelChanged: currentIndex = bar.launcher.defaultPresetIndex(bar.kind)
            implicitContentWidthPolicy: ComboBox.WidestText
            ToolTip.visible: hovered && currentIndex >= 0
            ToolTip.text: currentIndex >= 0 && model[currentIndex] ? model[currentIndex].description : ""
            ToolTip.delay: Theme.toolTipDelay
        }
        Label { text: qsTr("Run on:") }
        ComboBox {
            id: targetBox
            objectName: "targetBox"
            model: bar.launcher.targets
            textRole: "name"
            valueRole: "sourceId"
            Accessible.name: qsTr("Where the job runs")
            implicitContentWidthPolicy: ComboBox.WidestText
        }
        Item { Layout.fillWidth: true }
        Button {
            objectName: "settingsButton"
            text: qsTr("Servers…")
            onClicked: bar.settingsRequested()
        }
    }
}
