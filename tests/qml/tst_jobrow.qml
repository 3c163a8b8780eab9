import QtQuick
import QtQuick.Controls
import QtTest
import Clipdeck

// (TestCase itself is invisible: the items under test live in the visible root Item.)
// JobRow, the monitor's delegate: what it shows for a job and which actions its status offers.
Item {
    id: root
    width: 1000
    height: 400

TestCase {
    id: testCase
    name: "JobRow"
    when: windowShown
    width: 1000
    height: 400

    Component {
        id: rowComponent
        JobRow {
            width: 1000
            index: 0
            key: "local\njob-1"
            clipName: "interview.mov"
            kind: "transcode"
            status: "running"
            progress: 42.7
            stage: "encoding"
            etaSeconds: 83
            speedFps: 61
            speedRealtime: 2.4
            errorCode: ""
            errorMessage: ""
            sourceName: "This computer"
            attempt: 1
            params: ({ preset: "web-h264" })
            outputs: []
            startedAt: new Date(2024, 0, 1, 10, 0, 0)
            finishedAt: undefined
        }
    }

    function makeRow(props) {
        const row = createTemporaryObject(rowComponent, root, props || {})
        verify(row, "JobRow created")
        return row
    }

    function visibleButtons(row) {
        const names = ["pauseButton", "resumeButton", "cancelButton", "openButton", "folderButton",
                       "retryButton", "removeButton", "copyErrorButton"]
        return names.filter(n => {
            const b = findChild(row, n)
            return b && b.visible
        })
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
    }

    function test_completeSaysHowLongItTook() {
        const row = makeRow({ status: "complete", progress: 100, finishedAt: new Date(2024, 0, 1, 10, 1, 5) })
        compare(findChild(row, "etaLabel").text, "took 1:05")
        verify(!findChild(row, "stageLabel").visible)
    }

    function test_unknownEtaSaysEstimating() {
        const row = makeRow({ etaSeconds: -1, speedFps: 0, speedRealtime: 0 })
        compare(findChild(row, "etaLabel").text, "ETA estimating…")
        verify(!findChild(row, "speedLabel").visible)
    }

    function test_actionsPerStatus_data() {
        return [
            { tag: "pending", status: "pending", outputs: [], actions: ["pauseButton", "cancelButton"] },
            { tag: "running", status: "running", outputs: [], actions: ["pauseButton", "cancelButton"] },
            { tag: "paused", status: "paused", outputs: [], actions: ["resumeButton", "cancelButton"] },
            { tag: "complete", status: "complete", outputs: [{ name: "a.mp4" }],
              actions: ["openButton", "folderButton", "removeButton"] },
            { tag: "complete without outputs", status: "complete", outputs: [], actions: ["removeButton"] },
            { tag: "failed", status: "failed", outputs: [], actions: ["retryButton", "removeButton", "copyErrorButton"] },
            { tag: "canceled", status: "canceled", outputs: [], actions: ["retryButton", "removeButton"] },
        ]
    }

    function test_actionsPerStatus(data) {
        const row = makeRow({ status: data.status, outputs: data.outputs,
                              errorCode: data.status === "failed" ? "not_media" : "",
                              errorMessage: data.status === "failed" ? "clip.mov is not a media file." : "" })
        compare(visibleButtons(row).sort(), data.actions.slice().sort())
    }

    function test_buttonsAskForTheirAction() {
        const row = makeRow({ status: "paused" })
        const spy = createTemporaryObject(signalSpyComponent, testCase, { target: row, signalName: "actionRequested" })
        mouseClick(findChild(row, "resumeButton"))
        mouseClick(findChild(row, "cancelButton"))
        compare(spy.count, 2)
        compare(spy.signalArguments[0][0], "resume")
        compare(spy.signalArguments[1][0], "cancel")
    }

    function test_failedShowsErrorWithExpandableDetails() {
        const row = makeRow({ status: "failed", progress: 12, errorCode: "not_media",
                              errorMessage: "clip.mov is not a media file." })
        compare(findChild(row, "errorLabel").text, "clip.mov is not a media file.")
        verify(findChild(row, "errorLabel").visible)
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
