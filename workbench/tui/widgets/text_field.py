"""The app's text field: Textual's Input, with every key applied in the order it was typed.

Textual's Input inserts a printable key where it receives it, but a key it has a binding for
(backspace, end, left, ctrl+u...) travels up to the app first, whose binding then runs the
action. Keys that arrive together (fast typing, a terminal over SSH that batches them) therefore
reach the text out of order: "20" with ``End BackSpace BackSpace 3 0 0`` became "3" (the
characters replaced the selected text before the cursor moved and deleted). This is Textual
issue #6605. :class:`KeysInOrder` runs the binding a key resolves to as soon as the field takes
the key, in its turn among the characters; what runs is what the app would have run (the same
chain of bindings, from the focused widget up), only not later. A key that waited behind one
that moved the focus (a choice list's ``enter`` opens its list) acts where the focus is now.
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
        if event.is_printable:
            return  # the field's own handler inserts it, here and now
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.binding.priority or not active.enabled:
            return  # priority keys were the app's before the field saw them; unbound keys do nothing
        event.stop()
        event.prevent_default()
        await self.app.run_action(active.binding.action, active.node)


class TextField(KeysInOrder, Input):
    """An Input that applies its editing keys in order with the characters typed around them."""
