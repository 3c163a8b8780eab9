import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Clipdeck.Client

// The job monitor: summary header, filter tabs and search over every job of every source, one
// JobRow per job, an empty state that says what to do. Row actions go to the model (cancel,
// pause, resume, retry, remove) or to the controller (open, show in folder, copy) — `controller`
// is the app's AppController, or anything with openOutput/showInFolder/copyText (tests).
FocusScope {
    id: monitor

    required property JobModel jobModel
    property QtObject controller: null
    // The tab: JobFilterModel.All, Active, Finished, Failed.
    property alias filter: filtered.filter
    property alias searchText: search.text
    readonly property alias view: list
    readonly property alias filterModel: filtered

    signal addClipsRequested()

    function focusSearch() {
        search.forceActiveFocus()
        search.selectAll()
    }

    // What a row asked for, sent where it belongs.
    function trigger(name, key, errorText) {
        switch (name) {
        case "cancel": jobModel.cancel(key); break
        case "pause": jobModel.pause(key); break
        case "resume": jobModel.resume(key); break
        case "retry": jobModel.retry(key); break
        case "remove": jobModel.remove(key); break
        case "open": if (controller) controller.openOutput(key, ""); break
        case "showInFolder": if (controller) controller.showInFolder(key, ""); break
        case "copyError": if (controller) controller.copyText(errorText); break
        }
    }

    FontMetrics { id: fontMetrics }

    JobFilterModel {
        id: filtered
        sourceModel: monitor.jobModel
        searchText: search.text
        filter: JobFilterModel.All
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        SummaryHeader {
            jobModel: monitor.jobModel
            Layout.fillWidth: true
            onClearFinished: monitor.jobModel.removeFinished()
        }

        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: fontMetrics.height * 0.6
            Layout.rightMargin: fontMetrics.height * 0.6
            Layout.bottomMargin: fontMetrics.height * 0.4
            spacing: fontMetrics.height * 0.6

            TabBar {
                id: tabs
                objectName: "filterTabs"
                readonly property var filters: [JobFilterModel.All, JobFilterModel.Active,
                                                JobFilterModel.Finished, JobFilterModel.Failed]
                currentIndex: Math.max(0, filters.indexOf(filtered.filter))
                onCurrentIndexChanged: filtered.filter = filters[currentIndex]
                TabButton { objectName: "tabAll"; leftPadding: fontMetrics.height; rightPadding: fontMetrics.height; text: qsTr("All"); width: implicitWidth }
                TabButton { objectName: "tabActive"; leftPadding: fontMetrics.height; rightPadding: fontMetrics.height; text: qsTr("Active"); width: implicitWidth }
                TabButton { objectName: "tabFinished"; leftPadding: fontMetrics.height; rightPadding: fontMetrics.height; text: qsTr("Finished"); width: implicitWidth }
                TabButton { objectName: "tabFailed"; leftPadding: fontMetrics.height; rightPadding: fontMetrics.height; text: qsTr("Failed"); width: implicitWidth }
            }
            Item { Layout.fillWidth: true }
            TextField {
                id: search
                objectName: "searchField"
                placeholderText: qsTr("Search (Ctrl+F)")
                selectByMouse: true
                Layout.preferredWidth: fontMetrics.averageCharacterWidth * 36
                Accessible.name: qsTr("Search jobs")
                Keys.onEscapePressed: { text = ""; list.forceActiveFocus() }
                Keys.onDownPressed: list.forceActiveFocus()
            }
        }

        Rectangle {
            Layout.fillWidth: true
            Layout.fillHeight: true
            color: monitor.palette.base
            border.color: monitor.palette.mid

            ListView {
                id: list
                objectName: "jobList"
                anchors.fill: parent
                anchors.margins: 1
                clip: true
                model: filtered
                focus: true
                activeFocusOnTab: true
                keyNavigationEnabled: true
                currentIndex: -1
                boundsBehavior: Flickable.StopAtBounds
                visible: filtered.count > 0
                ScrollBar.vertical: ScrollBar {}
                Accessible.name: qsTr("Jobs")
                Accessible.role: Accessible.List

                delegate: JobRow {
                    id: rowDelegate
                    onActionRequested: name => monitor.trigger(name, rowDelegate.key, rowDelegate.errorCode
                                                      ? rowDelegate.errorCode + ": " + rowDelegate.errorMessage
                                                      : rowDelegate.errorMessage)
                }

                onActiveFocusChanged: if (activeFocus && currentIndex < 0 && count > 0) currentIndex = 0

                // The focus frame: where the keyboard is.
                Rectangle {
                    anchors.fill: parent
                    color: "transparent"
                    border.color: monitor.palette.highlight
                    border.width: 2
                    visible: list.activeFocus
                    z: 10
                }
            }

            EmptyState {
                objectName: "emptyState"
                anchors.fill: parent
                visible: monitor.jobModel.count === 0
                onAddClipsRequested: monitor.addClipsRequested()
            }

            Label {
                objectName: "noMatches"
                anchors.centerIn: parent
                width: parent.width - 2 * fontMetrics.height
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.WordWrap
                visible: monitor.jobModel.count > 0 && filtered.count === 0
                text: search.text.length > 0 ? qsTr("No jobs match “%1”.").arg(search.text)
                                             : qsTr("No jobs here.")
                opacity: 0.8
            }
        }
    }
}
