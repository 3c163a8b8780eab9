import QtQuick
import QtQuick.Controls

// A flat text button for an action on something shown beside it (a job row's Pause, Retry, ...;
// a message's Dismiss), with an optional tooltip (what it does, its key).
Button {
    id: control

    // Shown when the pointer rests on the button; none when empty.
    property string toolTip

    flat: true
    ToolTip.visible: hovered && toolTip.length > 0
    ToolTip.text: toolTip
    ToolTip.delay: Theme.toolTipDelay
}
