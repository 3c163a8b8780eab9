import QtQuick
import QtTest
import Clipdeck
import Clipdeck.Client
import Clipdeck.Testing

// JobMonitor over a real JobModel (JobFixture, jobfixture.h): the empty state, the filter tabs
// and the search, the summary, and actions routed to the job's source or out to the window.
Item {
    id: root
    width: 1100
    height: 700

TestCase {
    id: testCase
    name: "JobMonitor"
    when: windowShown
    width: 1100
    height: 700

    Component {
        id: monitorComponent
        JobMonitor {
            width: 1100
            height: 700
            jobModel: JobFixture.model
        }
    }

    function init() {
        JobFixture.reset()
    }

    function makeMonitor() {
        const monitor = createTemporaryObject(monitorComponent, root)
        verify(monitor)
        return monitor
    }

    // The delegate of a row, once the view has made it.
    function rowAt(list, index) {
        tryVerify(() => list.itemAtIndex(index) !== null, 2000, "row " + index)
        return list.itemAtIndex(index)
    }

    function addJobs() {
        JobFixture.applyJob({ id: "run", kind: "transcode", input: "/m/interview.mov", status: "running",
                             progress: 30, stage: "encoding", eta: 20, fps: 50, realtime: 2, preset: "web-h264" })
        JobFixture.applyJob({ id: "wait", kind: "proxy", input: "/m/broll.mov", status: "pending" })
        JobFixture.applyJob({ id: "done", kind: "thumbnails", input: "/m/drone.mp4", status: "complete",
                             progress: 100, outputs: ["drone.contact.jpg"] })
        JobFixture.applyJob({ id: "bad", kind: "scenes", input: "/m/notes.txt", status: "failed",
                             errorCode: "not_media", errorMessage: "notes.txt is not a media file." })
    }

    function test_emptyStateSaysWhatToDo() {
        const monitor = makeMonitor()
        const empty = findChild(monitor, "emptyState")
        verify(empty.visible)
        compare(findChild(monitor, "emptyText").text, "Drop clips here or click Add clips to start a job")
        const spy = createTemporaryObject(spyComponent, testCase, { target: monitor, signalName: "addClipsRequested" })
        mouseClick(findChild(monitor, "emptyAddButton"))
        compare(spy.count, 1)
        verify(!findChild(monitor, "jobList").visible)

        JobFixture.applyJob({ id: "a", status: "running", progress: 5 })
        tryCompare(empty, "visible", false)
        verify(findChild(monitor, "jobList").visible)
    }

    function test_filterTabsChangeTheFilter() {
        addJobs()
        const monitor = makeMonitor()
        const list = findChild(monitor, "jobList")
        tryCompare(list, "count", 4)

        mouseClick(findChild(monitor, "tabActive"))
        compare(monitor.filter, JobFilterModel.Active)
        tryCompare(list, "count", 2)

        mouseClick(findChild(monitor, "tabFinished"))
        compare(monitor.filter, JobFilterModel.Finished)
        tryCompare(list, "count", 1)

        mouseClick(findChild(monitor, "tabFailed"))
        compare(monitor.filter, JobFilterModel.Failed)
        tryCompare(list, "count", 1)
        verify(!findChild(monitor, "noMatches").visible)

        mouseClick(findChild(monitor, "tabAll"))
        compare(monitor.filter, JobFilterModel.All)
        tryCompare(list, "count", 4)
    }

    function test_searchAndNoMatches() {
        addJobs()
        const monitor = makeMonitor()
        const list = findChild(monitor, "jobList")
        monitor.searchText = "drone"
        tryCompare(list, "count", 1)
        monitor.searchText = "nothing like this"
        tryCompare(list, "count", 0)
        verify(findChild(monitor, "noMatches").visible)
        verify(!findChild(monitor, "emptyState").visible)
    }

    function test_rowsShowTheModel() {
        addJobs()
        const monitor = makeMonitor()
        const list = findChild(monitor, "jobList")
        tryCompare(list, "count", 4)
        const row = rowAt(list, 0)
        verify(row)
        compare(row.clipName, "interview.mov")
        compare(findChild(row, "percentLabel").text, "30%")
        compare(findChild(row, "stageLabel").text, "encoding")
        compare(findChild(row, "etaLabel").text, "ETA 0:20")
        // The summary header reads the model.
        compare(findChild(monitor, "runningLabel").text, "1 running")
        compare(findChild(monitor, "queuedLabel").text, "1 queued")
        compare(findChild(monitor, "failedLabel").text, "1 failed")
    }

    function test_actionsGoToTheSourceOrTheWindow() {
        addJobs()
        JobFixture.applyJob({ id: "held", kind: "proxy", input: "/m/held.mov", status: "paused", progress: 20 })
        JobFixture.applyJob({ id: "stopped", kind: "proxy", input: "/m/stopped.mov", status: "canceled" })
        const monitor = makeMonitor()
        const list = findChild(monitor, "jobList")
        tryCompare(list, "count", 6)
        const open = createTemporaryObject(spyComponent, testCase, { target: monitor, signalName: "openOutputRequested" })
        const folder = createTemporaryObject(spyComponent, testCase, { target: monitor, signalName: "showInFolderRequested" })
        const copy = createTemporaryObject(spyComponent, testCase, { target: monitor, signalName: "copyRequested" })

        // What acts on the job goes to the model, which routes it to the job's source.
        mouseClick(findChild(rowAt(list, 0), "pauseButton"))
        mouseClick(findChild(rowAt(list, 1), "cancelButton"))
        mouseClick(findChild(rowAt(list, 3), "retryButton"))
        mouseClick(findChild(rowAt(list, 4), "resumeButton"))
        mouseClick(findChild(rowAt(list, 5), "removeButton"))
        compare(JobFixture.actions, ["pause:run", "cancel:wait", "retry:bad", "resume:held", "remove:stopped"])

        // What needs the desktop goes out to the window, by key.
        mouseClick(findChild(rowAt(list, 2), "openButton"))
        mouseClick(findChild(rowAt(list, 2), "folderButton"))
        mouseClick(findChild(rowAt(list, 3), "copyErrorButton"))
        compare(open.count, 1)
        compare(open.signalArguments[0][0], "local\ndone")
        compare(folder.count, 1)
        compare(folder.signalArguments[0][0], "local\ndone")
        compare(copy.count, 1)
        compare(copy.signalArguments[0][0], "not_media: notes.txt is not a media file.")
        compare(JobFixture.actions.length, 5) // nothing of that reached the source
    }

    // Every row's status column is as wide as the widest status label: the chip, the status and
    // "on …" line up from row to row whatever each job's status.
    function test_statusColumnLinesUp() {
        addJobs()
        const monitor = makeMonitor()
        const list = findChild(monitor, "jobList")
        tryCompare(list, "count", 4)
        verify(monitor.statusColumnWidth > 0)
        for (let i = 0; i < 4; ++i) {
            const status = findChild(rowAt(list, i), "statusLabel")
            compare(status.width, monitor.statusColumnWidth, "row " + i + ": " + status.text)
        }
        const running = findChild(rowAt(list, 0), "statusLabel")
        const done = findChild(rowAt(list, 2), "statusLabel")
        compare(running.mapToItem(list, 0, 0).x, done.mapToItem(list, 0, 0).x)
    }

    function test_keyboardSpaceAndDelete() {
        addJobs()
        const monitor = makeMonitor()
        const list = findChild(monitor, "jobList")
        tryCompare(list, "count", 4)
        list.forceActiveFocus()
        tryVerify(() => list.activeFocus)
        list.currentIndex = 0
        keyClick(Qt.Key_Space)                  // running: pause
        list.currentIndex = 2
        keyClick(Qt.Key_Space)                  // complete: nothing to pause
        keyClick(Qt.Key_Delete)                 // complete: remove
        list.currentIndex = 1
        keyClick(Qt.Key_Delete)                 // pending: not removed
        compare(JobFixture.actions, ["pause:run", "remove:done"])
    }

    Component {
        id: spyComponent
        SignalSpy {}
    }
}
}
