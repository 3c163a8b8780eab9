pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Controls
import QtTest
import Clipdeck
import Clipdeck.Testing

// JobRow, the monitor's delegate, over a real JobModel (JobFixture): what it shows for a job and
// which actions the job's status offers (decided by the model's capability roles).
// (TestCase itself is invisible: the items under test live in the visible root Item.)
Item {
    id: root
    width: 1000
    height: 400

    ListView {
        id: list
        anchors.fill: parent
        model: JobFixture.model
        delegate: JobRow {}
    }

TestCase {
    id: testCase
    name: "JobRow"
    when: windowShown
    width: 1000
    height: 400

    property int jobCount: 0

    function init() {
        JobFixture.reset()
    }

    // The row of one job, made of these fields (JobFixture.applyJob) over a running export.
    function makeRow(fields) {
        const job = Object.assign({ id: "job-" + (++jobCount), kind: "transcode", input: "/media/interview.mov",
                                    status: "running", progress: 42.7, stage: "encoding", eta: 83,
                                    fps: 61, realtime: 2.4, preset: "web-h264",
                                    startedAt: new Date(2024, 0, 1, 10, 0, 0) }, fields || {})
        for (const field in job) {
            if (job[field] === undefined)
                delete job[field] // (undefined: this job has none)
        }
        const key = JobFixture.applyJob(job)
        return rowOf(key)
    }

    // The delegate of the job `key` (the only row), once the view has taken in the model's change.
    function rowOf(key) {
        list.forceLayout()
        tryVerify(() => list.itemAtIndex(0) !== null && list.itemAtIndex(0).key === key, 2000, "the row of " + key)
        return list.itemAtIndex(0)
    }

    function visibleButtons(row) {
        const names = ["pauseButton", "resumeButton", "cancelButton", "openButton", "folderButton",
                       "retryButton", "removeButton", "copyErrorButton"]
        const shown = []
        for (const name of names) {
            const button = findChild(row, name)
            if (button && button.visible)
                shown.push(name)
        }
        return shown
    }

    function test_runningShowsProgress() {
        const row = makeRow()
        compare(findChild(row, "clipLabel").text, "interview.mov")
        compare(findChild(row, "kindLabel").text, "Export · web-h264")
        compare(findChild(row, "percentLabel").text, "42%")
        compare(findChild(row, "progressBar").value, 42.7)
        compare(findChild(row, "stageLabel").text, "encoding")
        verify(findChild(row, "stageLabel").visible)
        compare(findChild(row, "etaLabel").text, "ETA 1:23")
        compare(findChild(row, "speedLabel").text, "2.4× · 61 fps")
        compare(findChild(row, "statusLabel").text, "Running")
        compare(findChild(row, "sourceLabel").text, "on This computer")
        verify(!findChild(row, "waitingLabel").visible)
    }

    function test_kindsAndStatusesReadAsLabels_data() {
        return [
            { tag: "proxy, queued", kind: "proxy", status: "pending", kindText: "Proxy", statusText: "Queued" },
            { tag: "thumbnails, paused", kind: "thumbnails", status: "paused", kindText: "Thumbnails", statusText: "Paused" },
            { tag: "scenes, done", kind: "scenes", status: "complete", kindText: "Scenes", statusText: "Done" },
            { tag: "waveform, canceled", kind: "waveform", status: "canceled", kindText: "Waveform", statusText: "Canceled" },
            { tag: "unknown kind", kind: "stabilise", status: "running", kindText: "stabilise", statusText: "Running" },
        ]
    }

    function test_kindsAndStatusesReadAsLabels(data) {
        const row = makeRow({ kind: data.kind, status: data.status, preset: undefined })
        compare(findChild(row, "kindLabel").text, data.kindText)
        compare(findChild(row, "statusLabel").text, data.statusText)
        compare(findChild(row, "statusIcon").Accessible.name, data.statusText)
    }

    function test_retriedJobSaysWhichAttempt() {
        const row = makeRow({ status: "running", attempt: 3 })
        compare(findChild(row, "statusLabel").text, "Running (attempt 3)")
    }

    function test_queuedSaysItWaits() {
        const row = makeRow({ status: "pending", progress: 0, eta: -1, fps: 0, realtime: 0 })
        verify(findChild(row, "waitingLabel").visible)
        verify(!findChild(row, "etaLabel").visible)
        verify(!findChild(row, "speedLabel").visible)
    }

    function test_completeSaysHowLongItTook() {
        const row = makeRow({ status: "complete", progress: 100, finishedAt: new Date(2024, 0, 1, 10, 1, 5) })
        compare(findChild(row, "etaLabel").text, "took 1:05")
        verify(!findChild(row, "stageLabel").visible)
    }

    function test_unknownEtaSaysEstimating() {
        const row = makeRow({ eta: undefined, fps: undefined, realtime: undefined })
        compare(findChild(row, "etaLabel").text, "ETA estimating…")
        verify(!findChild(row, "speedLabel").visible)
    }

    function test_actionsPerStatus_data() {
        return [
            { tag: "pending", status: "pending", outputs: [], actions: ["pauseButton", "cancelButton"] },
            { tag: "running", status: "running", outputs: [], actions: ["pauseButton", "cancelButton"] },
            { tag: "paused", status: "paused", outputs: [], actions: ["resumeButton", "cancelButton"] },
            { tag: "complete", status: "complete", outputs: ["a.mp4"],
              actions: ["openButton", "folderButton", "removeButton"] },
            { tag: "complete without outputs", status: "complete", outputs: [], actions: ["removeButton"] },
            { tag: "failed", status: "failed", outputs: [], actions: ["retryButton", "removeButton", "copyErrorButton"] },
            { tag: "canceled", status: "canceled", outputs: [], actions: ["retryButton", "removeButton"] },
        ]
    }

    function test_actionsPerStatus(data) {
        const row = makeRow({ status: data.status, outputs: data.outputs,
                              errorCode: data.status === "failed" ? "not_media" : undefined,
                              errorMessage: data.status === "failed" ? "clip.mov is not a media file." : undefined })
        compare(visibleButtons(row).sort(), data.actions.slice().sort())
    }

    // A job that moves on changes its buttons with it (the model announces the derived roles).
    function test_actionsFollowTheStatus() {
        const row = makeRow({ status: "running" })
        compare(visibleButtons(row).sort(), ["cancelButton", "pauseButton"])
        JobFixture.applyJob({ id: row.key.split("\n")[1], status: "paused", progress: 50 })
        compare(rowOf(row.key), row) // the same delegate, updated
        compare(visibleButtons(row).sort(), ["cancelButton", "resumeButton"])
        JobFixture.applyJob({ id: row.key.split("\n")[1], status: "complete", progress: 100, outputs: ["a.mp4"] })
        compare(visibleButtons(row).sort(), ["folderButton", "openButton", "removeButton"])
        compare(findChild(row, "statusLabel").text, "Done")
    }

    function test_buttonsAskForTheirAction() {
        const row = makeRow({ status: "paused" })
        const resume = createTemporaryObject(signalSpyComponent, testCase, { target: row, signalName: "resumeRequested" })
        const cancel = createTemporaryObject(signalSpyComponent, testCase, { target: row, signalName: "cancelRequested" })
        const pause = createTemporaryObject(signalSpyComponent, testCase, { target: row, signalName: "pauseRequested" })
        mouseClick(findChild(row, "resumeButton"))
        mouseClick(findChild(row, "cancelButton"))
        compare(resume.count, 1)
        compare(cancel.count, 1)
        compare(pause.count, 0)
    }

    // A visible item under `item` (the window's overlay: popups) showing `text`.
    function shownText(item, text) {
        if (item.visible && item.text === text)
            return true
        for (let i = 0; i < item.children.length; ++i) {
            if (shownText(item.children[i], text))
                return true
        }
        return false
    }

    function test_actionButtonsSayWhatTheyDoOnHover() {
        const row = makeRow({ status: "running" })
        const overlay = Overlay.overlay // the window's popups
        verify(!shownText(overlay, "Pause the job (Space)"))
        mouseMove(findChild(row, "pauseButton"))
        tryVerify(() => shownText(overlay, "Pause the job (Space)"), 3000, "the pause button's tooltip")
        mouseMove(row, 1, 1)
        tryVerify(() => !shownText(overlay, "Pause the job (Space)"), 3000, "the tooltip goes")
    }

    function test_failedShowsErrorWithExpandableDetails() {
        const row = makeRow({ status: "failed", progress: 12, errorCode: "not_media",
                              errorMessage: "clip.mov is not a media file." })
        compare(findChild(row, "errorLabel").text, "clip.mov is not a media file.")
        verify(findChild(row, "errorLabel").visible)
        compare(row.errorText, "not_media: clip.mov is not a media file.")
        const details = findChild(row, "errorDetails")
        verify(!details.visible)
        mouseClick(findChild(row, "detailsButton"))
        verify(details.visible)
        verify(details.text.indexOf("not_media") >= 0)
        verify(!findChild(row, "etaLabel").visible)
        verify(!findChild(row, "stageLabel").visible)
    }

    Component {
        id: signalSpyComponent
        SignalSpy {}
    }
}
}
