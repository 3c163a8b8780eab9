import QtQuick
import QtQuick.Controls

// A flat text button for an action on something shown beside it (a job row's Pause, Retry, ...;
// a message's Dismiss), with an optional tooltip (what it does, its key).
Button {
    id: control

    // Shown when the pointer rests on the button; none when empty.
    property string toolTip

    flat: true
    // The tooltip is asked for on hover, not bound: a bound ToolTip.visible would make an attached
    // tooltip object for every button of every row as the list creates it.
    onHoveredChanged: {
        if (toolTip.length === 0)
            return
        if (hovered) {
            ToolTip.delay = Theme.toolTipDelay
            ToolTip.show(toolTip)
        } else {
            ToolTip.hide()
        }
    }
}
