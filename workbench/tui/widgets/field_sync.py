"""Where one field of a form stands with whoever takes its values (the draft, or a dialog).

A key changes a field at once, but the news travels in messages: the field's Changed reaches
the form, the form's announcement reaches the screen, and the draft's redraw comes back to the
form after that. A burst of keys (fast typing, a paste, keys batched over SSH) leaves the field
several values ahead of the draft, and each redraw on the way carries a value the field has
already left behind. Writing such a value back into the field lost every key typed after it:
"20" and ``End BackSpace BackSpace 3 0 0`` became 230, or 3, and that trained. A
:class:`FieldSync` tells a redraw that is only catching up with the typing (the field is left
alone) from a change made elsewhere (an undo, another experiment, the LR finder's value), which
the field then shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The most announcements kept while none comes back: a dialog collects values and redraws
#: nothing, so its fields would otherwise keep every value typed into them.
SENT_LIMIT = 64


def same(a: Any, b: Any) -> bool:
    """Equal and of one type: ``1`` is not ``1.0`` or ``True`` (the field would show it otherwise)."""
    return type(a) is type(b) and a == b


@dataclass
class FieldSync:
    """One field's content as last read, the taker's value as last seen, and what was sent since."""

    #: The field's content (its text, a checkbox's state, a choice) as the form last read or wrote it.
    shown: Any
    #: The value the taker was last seen to hold for this field.
    taken: Any
    #: Values announced since, oldest first, that no redraw has carried back yet.
    sent: list[Any] = field(default_factory=list)

    def read(self, content: Any) -> bool:
        """Take the field's current content; False when it was read already (a Changed message
        posted before the keys that followed it were handled says nothing new)."""
        if same(content, self.shown):
            return False
        self.shown = content
        return True

    def unread(self, content: Any) -> bool:
        """Whether the field holds content the form has not read yet: its Changed message is on
        the way and will announce it, so a redraw must not write over it."""
        return not same(content, self.shown)

    def announced(self, value: Any) -> None:
        """``value`` was announced to the taker; its redraw will come back with it."""
        self.sent.append(value)
        del self.sent[:-SENT_LIMIT]

    def catching_up(self, value: Any) -> bool:
        """Whether a redraw's ``value`` is one this field sent, or the taker's value from before
        them: the taker is on its way to what was typed, and the field must be left as it is."""
        for index, sent in enumerate(self.sent):
            if same(sent, value):
                del self.sent[: index + 1]
                self.taken = value
                return True
        return same(value, self.taken)

    def changed_elsewhere(self, value: Any) -> None:
        """The taker's value was changed by something other than this field: nothing sent is
        awaited any more (an undo came after the typing)."""
        self.sent.clear()
        self.taken = value
