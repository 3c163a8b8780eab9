pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Clipdeck.Client

// The job monitor: summary header, filter tabs and search over every job of every source, one
// JobRow per job, an empty state that says what to do. A row's actions on the job go to the
// model's invokables (pause, resume, cancel, retry, remove: JobModel routes them to the job's
// own source); what needs the desktop (open the output, show it in its folder, copy the error)
// goes out as a signal for the window to pass to the app (Main.qml), so the monitor works, and
// is tested, with a JobModel alone.
FocusScope {
    id: monitor

    required property JobModel jobModel
    // The tab: JobFilterModel.All, Active, Finished, Failed.
    property alias filter: filtered.filter
    property alias searchText: search.text
    readonly property alias view: list
    readonly property alias filterModel: filtered
    // The widest status label in the rows' bold font: every row's status column is this wide.
    readonly property real statusColumnWidth: {
        let w = 0
        for (const label of jobModel.statusLabels)
            w = Math.max(w, Theme.boldFontMetrics.advanceWidth(label))
        return Math.ceil(w)
    }

    signal addClipsRequested()
    // The job `key` asks for its main output opened / shown in the file manager.
    signal openOutputRequested(string key)
    signal showInFolderRequested(string key)
    // Text to put on the clipboard (a job's error).
    signal copyRequested(string text)

    function focusSearch() {
        search.forceActiveFocus()
        search.selectAll()
    }

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
            Layout.leftMargin: Theme.margin
            Layout.rightMargin: Theme.margin
            Layout.bottomMargin: Theme.marginSmall
            spacing: Theme.margin

            TabBar {
                id: tabs
                objectName: "filterTabs"
                readonly property var filters: [JobFilterModel.All, JobFilterModel.Active,
                                                JobFilterModel.Finished, JobFilterModel.Failed]
                currentIndex: Math.max(0, filters.indexOf(filtered.filter))
                onCurrentIndexChanged: filtered.filter = filters[currentIndex]
                TextTabButton { objectName: "tabAll"; text: qsTr("All") }
                TextTabButton { objectName: "tabActive"; text: qsTr("Active") }
                TextTabButton { objectName: "tabFinished"; text: qsTr("Finished") }
                TextTabButton { objectName: "tabFailed"; text: qsTr("Failed") }
            }
            Item { Layout.fillWidth: true }
            TextField {
                id: search
                objectName: "searchField"
                placeholderText: qsTr("Search (Ctrl+F)")
                selectByMouse: true
                Layout.preferredWidth: Theme.chars(36)
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
                anchors.margins: Theme.hairline // inside the frame
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
                    statusColumnWidth: monitor.statusColumnWidth
                    onPauseRequested: monitor.jobModel.pause(rowDelegate.key)
                    onResumeRequested: monitor.jobModel.resume(rowDelegate.key)
                    onCancelRequested: monitor.jobModel.cancel(rowDelegate.key)
                    onRetryRequested: monitor.jobModel.retry(rowDelegate.key)
                    onRemoveRequested: monitor.jobModel.remove(rowDelegate.key)
                    onOpenOutputRequested: monitor.openOutputRequested(rowDelegate.key)
                    onShowInFolderRequested: monitor.showInFolderRequested(rowDelegate.key)
                    onCopyErrorRequested: monitor.copyRequested(rowDelegate.errorText)
                }

                onActiveFocusChanged: if (activeFocus && currentIndex < 0 && count > 0) currentIndex = 0

                // The focus frame: where the keyboard is.
                Rectangle {
                    anchors.fill: parent
                    color: "transparent"
                    border.color: monitor.palette.highlight
                    border.width: Theme.lineWidth
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
                width: parent.width - 2 * Theme.gridUnit
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
