import QtQuick
import QtQuick.Controls

// A short label in a rounded box: what kind of thing something is (a job's kind and preset).
Label {
    id: chip

    leftPadding: Theme.chipHorizontalPadding
    rightPadding: Theme.chipHorizontalPadding
    topPadding: Theme.chipVerticalPadding
    bottomPadding: Theme.chipVerticalPadding
    background: Rectangle {
        radius: Theme.radius
        color: chip.palette.button
        border.color: chip.palette.mid
    }
}
