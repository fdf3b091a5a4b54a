"""The app's text field: Textual's Input, with every key applied in the order it was typed.

Textual's Input inserts a printable key where it receives it, but a key it has a binding for
(backspace, end, left, ctrl+u...) travels up to the app first, whose binding then runs the
action. Keys that arrive together (fast typing, a terminal over SSH that batches them) therefore
reach the text out of order: "20" with ``End BackSpace BackSpace 3 0 0`` became "3" (the
characters replaced the selected text before the cursor moved and deleted). This is Textual
issue #6605. :class:`KeysInOrder` runs the binding a key resolves to as soon as the field takes
the key, in its turn among the characters; what runs is what the app would have run (the same
chain of bindings, from the focused widget up), only not later. A key that waited behind one
that moved the focus (``down`` to the next field, a choice's ``enter`` opening its list) goes on
to the widget that has the focus now.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Input


class KeysInOrder:
    """Mixed into a field (a Widget): the keys it is bound to act in order with the keys around
    them. Not a Widget itself, so the field's own ``can_focus`` and the like stay as they are."""

    async def _on_key(self, event: events.Key) -> None:
        assert isinstance(self, Widget)
        focused = self.app.focused
        if focused is not None and self not in focused.ancestors_with_self:
            # A key before this one moved the focus on (down, tab): this key was typed for the
            # field that has it now, as it would have been typed slowly. (Focus inside this
            # widget, a choice's open list, takes the key below, where its bindings act.)
            event.stop()
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))
            return
        if event.is_printable:
            return  # the field's own handler inserts it, here and now
        # The app's own resolution, run now instead of after the trip up: each binding of the
        # chain from the focused widget up, until one acts (a field that cannot scroll passes
        # ``down`` on to its form). Priority bindings were tried before the field saw the key.
        if await self.app._check_bindings(event.key):
            event.stop()
            event.prevent_default()


class TextField(KeysInOrder, Input):
    """An Input that applies its editing keys in order with the characters typed around them."""
