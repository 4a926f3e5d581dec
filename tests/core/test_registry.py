"""Registry: defaults and overrides, lazy imports, and the errors for bad names and entry points."""

from __future__ import annotations

import sys
import types

import pytest

from mindpalace.core.registry import Entry, Registry, RegistryError

MISSING = "mindpalace_no_such_module_for_tests"


@pytest.fixture
def registry() -> Registry:
    return Registry("widget")


def test_make_overrides_registered_defaults(registry):
    registry.register("ns", "types:SimpleNamespace", a=1, b=2)
    assert registry.make("ns") == types.SimpleNamespace(a=1, b=2)
    assert registry.make("ns", b=3, c=4) == types.SimpleNamespace(a=1, b=3, c=4)
    # Overrides of one call do not leak into the registered defaults.
    assert registry.entry("ns").kwargs == {"a": 1, "b": 2}
    assert registry.make("ns") == types.SimpleNamespace(a=1, b=2)


def test_register_records_entry(registry):
    registry.register("ns", "types:SimpleNamespace", install_hint="pip install x", description="a bag", a=1)
    assert registry.entry("ns") == Entry("ns", "types:SimpleNamespace", {"a": 1}, "pip install x", "a bag")
    assert registry.load("ns") is types.SimpleNamespace
    registry.register("b", "types:SimpleNamespace")
    assert registry.names() == ["b", "ns"]


def test_registering_does_not_import(registry, tmp_path, monkeypatch):
    name = "mindpalace_lazy_probe_module"
    (tmp_path / f"{name}.py").write_text("class Thing:\n    def __init__(self, **kw):\n        self.kw = kw\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    registry.register("thing", f"{name}:Thing", size=2)
    assert name not in sys.modules
    thing = registry.make("thing", colour="red")
    assert name in sys.modules
    assert thing.kw == {"size": 2, "colour": "red"}
    monkeypatch.delitem(sys.modules, name)


def test_missing_module_registers_but_load_names_it_and_the_hint(registry):
    registry.register("heavy", f"{MISSING}.sub:Env", install_hint="pip install heavy-sim")
    assert "heavy" in registry.names()
    for call in (registry.load, registry.make):
        with pytest.raises(RegistryError) as info:
            call("heavy")
        message = str(info.value)
        assert repr(MISSING) in message
        assert "widget 'heavy'" in message
        assert "pip install heavy-sim" in message
        assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_missing_module_without_hint(registry):
    registry.register("heavy", f"{MISSING}:Env")
    with pytest.raises(RegistryError, match=MISSING) as info:
        registry.load("heavy")
    assert "Install it with" not in str(info.value)


def test_duplicate_name_raises(registry):
    registry.register("ns", "types:SimpleNamespace")
    with pytest.raises(RegistryError, match="'ns' is already registered"):
        registry.register("ns", "types:ModuleType")
    assert registry.load("ns") is types.SimpleNamespace  # the first registration stands


@pytest.mark.parametrize("entry_point", ["types.SimpleNamespace", "types", ""])
def test_entry_point_without_colon_raises(registry, entry_point):
    with pytest.raises(RegistryError, match="must be 'module:attribute'"):
        registry.register("bad", entry_point)
    assert registry.names() == []


def test_unknown_name_lists_registered_names(registry):
    with pytest.raises(RegistryError, match=r"unknown widget 'x'; registered: none"):
        registry.make("x")
    registry.register("beta", "types:SimpleNamespace")
    registry.register("alpha", "types:SimpleNamespace")
    for call in (registry.entry, registry.load, registry.make):
        with pytest.raises(RegistryError, match=r"unknown widget 'gamma'; registered: alpha, beta"):
            call("gamma")


def test_missing_attribute_raises(registry):
    registry.register("ghost", "types:NoSuchThing")
    with pytest.raises(RegistryError, match=r"'types:NoSuchThing' has no attribute 'NoSuchThing'") as info:
        registry.make("ghost")
    assert isinstance(info.value.__cause__, AttributeError)


def test_registry_error_is_a_lookup_error():
    assert issubclass(RegistryError, LookupError)


def test_empty_module_entry_point_is_a_registry_error(registry):
    with pytest.raises(RegistryError):
        registry.register("bad", ":Thing")
        registry.load("bad")


class Gadget:
    def __init__(self, size: int, colour: str = "red") -> None:
        self.size, self.colour = size, colour


def test_arguments_an_implementation_does_not_take_are_named_with_the_ones_it_does(registry):
    registry.register("gadget", f"{__name__}:Gadget")
    assert registry.make("gadget", size=2).colour == "red"
    with pytest.raises(RegistryError, match=r"widget 'gadget' takes no argument 'color'; it takes: colour, size"):
        registry.make("gadget", size=2, color="blue")
    with pytest.raises(RegistryError, match="takes no argument 'color'"):
        registry.check("gadget", color="blue")
    registry.check("gadget", size=1)  # checking builds nothing
