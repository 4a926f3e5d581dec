"""Registries of named components with lazy "module:attribute" entry points.

Heavy optional dependencies (habitat-sim, ai2thor, rclpy, ray) are imported only when an entry
is first used, and a missing one is reported with the package to install.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RegistryError(LookupError):
    """An unknown name, a duplicate registration, or an entry point that cannot be loaded."""


@dataclass(frozen=True)
class Entry:
    name: str
    entry_point: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    install_hint: str = ""
    description: str = ""


class Registry(Generic[T]):
    """Maps names to lazily imported classes or factories, like Gymnasium's env registry."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(
        self,
        name: str,
        entry_point: str,
        *,
        install_hint: str = "",
        description: str = "",
        **kwargs: Any,
    ) -> None:
        """Register `name` -> "package.module:Attribute"; `kwargs` are default constructor arguments."""
        module_name, _, attribute = entry_point.partition(":")
        if not module_name or not attribute:
            raise RegistryError(f"entry point {entry_point!r} for {self.kind} {name!r} must be 'module:attribute'")
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = Entry(name, entry_point, dict(kwargs), install_hint, description)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entry(self, name: str) -> Entry:
        if name not in self._entries:
            raise RegistryError(f"unknown {self.kind} {name!r}; registered: {', '.join(self.names()) or 'none'}")
        return self._entries[name]

    def load(self, name: str) -> Any:
        """Import and return the attribute behind `name`."""
        entry = self.entry(name)
        module_name, attribute = entry.entry_point.split(":", 1)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            hint = f" Install it with: {entry.install_hint}" if entry.install_hint else ""
            raise RegistryError(f"{self.kind} {name!r} needs the module {error.name!r}, which is not installed.{hint}") from error
        try:
            return getattr(module, attribute)
        except AttributeError as error:
            raise RegistryError(f"{entry.entry_point!r} has no attribute {attribute!r}") from error

    def make(self, name: str, **kwargs: Any) -> T:
        """Construct `name` with its registered defaults overridden by `kwargs`."""
        factory = self.load(name)
        return factory(**{**self.entry(name).kwargs, **kwargs})
