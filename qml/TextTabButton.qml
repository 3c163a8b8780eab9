import QtQuick
import QtQuick.Controls

// A tab as wide as its label, with room on either side (a TabBar otherwise gives every tab the
// same width, which cuts long labels and pads short ones).
TabButton {
    leftPadding: Theme.spacingWide
    rightPadding: Theme.spacingWide
    width: implicitWidth
}
