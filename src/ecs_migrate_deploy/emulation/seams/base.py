"""What every seam shares: `MOTO_VERSION`, the `Seam` base and its reversible `_Patches` (package doc)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

MOTO_VERSION = "5.2.5"
"""The moto release these seams were written against (pyproject pins it exactly)."""


class _Patches:
    """Attribute replacements that can be undone exactly, in reverse order.

    An attribute that was inherited (not in the owner's own __dict__) is deleted on restore
    rather than re-set, so the class looks exactly as before.
    """

    def __init__(self) -> None:
        self._undo: list[tuple[object, str, bool, Any]] = []

    def set(self, owner: object, name: str, value: Any) -> None:
        own = name in vars(owner)
        self._undo.append((owner, name, own, vars(owner).get(name)))
        setattr(owner, name, value)

    def restore(self) -> None:
        while self._undo:
            owner, name, own, original = self._undo.pop()
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)

    def __bool__(self) -> bool:
        return bool(self._undo)


class Seam:
    """Base of every seam: a reversible set of patches, usable as a context manager."""

    def __init__(self) -> None:
        self._patches = _Patches()

    @property
    def installed(self) -> bool:
        return bool(self._patches)

    def install(self) -> Self:
        if self.installed:
            raise RuntimeError(f"{type(self).__name__} is already installed")
        self._apply(self._patches)
        return self

    def uninstall(self) -> None:
        self._patches.restore()
        self._reset()

    def _apply(self, patches: _Patches) -> None:
        raise NotImplementedError

    def _reset(self) -> None:
        """Forget per-world bookkeeping (called on uninstall)."""

    def __enter__(self) -> Self:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()


def _now() -> datetime:
    return datetime.now(UTC)
