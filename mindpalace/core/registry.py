"""Registries of named components with lazy "module:attribute" entry points.

Heavy optional dependencies (habitat-sim, ai2thor, rclpy, ray) are imported only when an entry
is first used, and a missing one is reported with the package to install.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RegistryError(LookupError):
    """An unknown name, a duplicate registration, or an entry point that cannot be loaded."""


class ArgumentError(RegistryError, ValueError):
    """Arguments an implementation does not take, or values it refuses (a ValueError, like the implementation's own)."""


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

    def check(self, name: str, **kwargs: Any) -> None:
        """Raise `RegistryError` if `name` is unknown or does not take one of `kwargs` (imports it, builds nothing).

        An implementation that takes `**kwargs` may check them itself with a `check_arguments(**kwargs)` classmethod.
        """
        factory = self.load(name)
        own_check = getattr(factory, "check_arguments", None)
        if callable(own_check):
            try:
                own_check(**{**self.entry(name).kwargs, **kwargs})
            except (TypeError, ValueError) as error:
                raise ArgumentError(f"{self.kind} {name!r}: {error}") from error
        accepted = _parameters(factory)
        unknown = sorted(set({**self.entry(name).kwargs, **kwargs}) - accepted) if accepted is not None else []
        if unknown:
            raise ArgumentError(
                f"{self.kind} {name!r} takes no argument {', '.join(map(repr, unknown))}; "
                f"it takes: {', '.join(sorted(accepted or ())) or 'none'}"
            )

    def make(self, name: str, **kwargs: Any) -> T:
        """Construct `name` with its registered defaults overridden by `kwargs` (checked first, see `check`)."""
        self.check(name, **kwargs)
        return self.load(name)(**{**self.entry(name).kwargs, **kwargs})


def _parameters(factory: Any) -> set[str] | None:
    """The keyword arguments a factory accepts, or None when it takes any (**kwargs) or cannot be inspected."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return {
        name
        for name, p in signature.parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
