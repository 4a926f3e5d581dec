"""Typed dataclass configs: from_dict coercion, unknown keys, YAML loading and overrides."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from mindpalace.core.config import Component, ConfigError, apply_overrides, from_dict, load_config, load_yaml, to_dict


@dataclass
class Inner:
    b: int = 1
    c: float = 0.5


@dataclass
class Cfg:
    count: int = 0
    ratio: float = 1.0
    flag: bool = False
    name: str = "n"
    limit: int | None = None
    size: tuple[int, int] = (1, 2)
    tags: list[str] = field(default_factory=list)
    a: Inner = field(default_factory=Inner)


# --- from_dict ---------------------------------------------------------------------------


def test_empty_mapping_gives_defaults():
    assert from_dict(Cfg, {}) == Cfg()


def test_every_field_kind():
    cfg = from_dict(
        Cfg,
        {
            "count": 3,
            "ratio": 2.5,
            "flag": True,
            "name": "x",
            "limit": 7,
            "size": [4, 5],
            "tags": ["p", "q"],
            "a": {"b": 9, "c": 1.25},
        },
    )
    assert cfg == Cfg(3, 2.5, True, "x", 7, (4, 5), ["p", "q"], Inner(9, 1.25))
    assert type(cfg.size) is tuple
    assert type(cfg.tags) is list
    assert type(cfg.a) is Inner


def test_nested_dataclass_partial():
    cfg = from_dict(Cfg, {"a": {"c": 3}})
    assert cfg.a == Inner(b=1, c=3.0)
    assert type(cfg.a.c) is float


def test_int_for_float_becomes_float():
    cfg = from_dict(Cfg, {"ratio": 2})
    assert cfg.ratio == 2.0 and type(cfg.ratio) is float


def test_integral_float_for_int_becomes_int():
    cfg = from_dict(Cfg, {"count": 2.0})
    assert cfg.count == 2 and type(cfg.count) is int


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"count": 2.5}, "count"),
        ({"count": "1.5"}, "count"),
        ({"count": "many"}, "count"),
        ({"count": None}, "count"),
        ({"count": math.nan}, "count"),
        ({"count": True}, "count"),
        ({"ratio": "fast"}, "ratio"),
        ({"ratio": False}, "ratio"),
        ({"ratio": [1.0]}, "ratio"),
        ({"name": 3}, "name"),
        ({"name": None}, "name"),
        ({"flag": "maybe"}, "flag"),
        ({"flag": None}, "flag"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"size": 3}, "size"),
        ({"size": ["a", 2]}, "size"),
        ({"tags": "p"}, "tags"),
        ({"tags": ["p", 2]}, "tags"),
        ({"a": 3}, "a"),
        ({"a": {"b": "x"}}, "a.b"),
    ],
)
def test_bad_values_raise_config_error_naming_the_key(data, key):
    with pytest.raises(ConfigError) as info:
        from_dict(Cfg, data)
    assert str(info.value).startswith(f"{key}:")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("false", False),
        ("True", True),
        ("FALSE", False),
        ("yes", True),
        ("no", False),
        ("1", True),
        ("0", False),
        (True, True),
        (False, False),
    ],
)
def test_bool_coercion(raw, expected):
    assert from_dict(Cfg, {"flag": raw}).flag is expected


def test_optional_int():
    assert from_dict(Cfg, {"limit": None}).limit is None
    assert from_dict(Cfg, {"limit": 4}).limit == 4
    assert type(from_dict(Cfg, {"limit": 4.0}).limit) is int


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_unknown_keys_are_listed():
    with pytest.raises(ConfigError, match="unknown config keys") as info:
        from_dict(Cfg, {"count": 1, "zeta": 1, "alpha": 2})
    message = str(info.value)
    assert "['alpha', 'zeta']" in message
    assert "count" in message.split("known:")[1]  # the known keys are listed too


def test_unknown_nested_key_has_dotted_name():
    with pytest.raises(ConfigError, match=r"\['a\.x'\]"):
        from_dict(Cfg, {"a": {"x": 1}})


@pytest.mark.parametrize("value", [[1], [1, 2, 3]])
def test_tuple_length_is_checked(value):
    with pytest.raises(ConfigError, match="size"):
        from_dict(Cfg, {"size": value})


@dataclass
class Mixed:
    pair: tuple[str, int] = ("a", 1)


def test_heterogeneous_tuple():
    assert from_dict(Mixed, {"pair": ["b", 2]}).pair == ("b", 2)


def test_infinite_value_for_int_is_config_error():
    with pytest.raises(ConfigError, match="count"):
        from_dict(Cfg, {"count": math.inf})


# --- overrides and YAML ------------------------------------------------------------------


def test_apply_overrides_parses_yaml_scalars_and_copies():
    data = {"a": {"b": 1}, "name": "y"}
    result = apply_overrides(data, ["a.b=3", "name=x", "flag=true", "ratio=2.5", "limit=null", "a.c = 4"])
    assert result == {"a": {"b": 3, "c": 4}, "name": "x", "flag": True, "ratio": 2.5, "limit": None}
    assert data == {"a": {"b": 1}, "name": "y"}  # the input is untouched
    assert apply_overrides(data, ["tags=[u, v]"])["tags"] == ["u", "v"]
    assert apply_overrides(data, ["name=a=b"])["name"] == "a=b"  # split at the first "="


def write(tmp_path, text: str):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_load_yaml_with_overrides(tmp_path):
    path = write(tmp_path, "count: 2\nname: y\nsize: [3, 4]\na:\n  b: 5\n  c: 0.25\n")
    cfg = load_yaml(Cfg, path, ["a.b=3", "name=x"])
    assert cfg == Cfg(count=2, name="x", size=(3, 4), a=Inner(b=3, c=0.25))
    assert load_yaml(Cfg, str(path)) == Cfg(count=2, name="y", size=(3, 4), a=Inner(b=5, c=0.25))


def test_load_yaml_override_creates_missing_section(tmp_path):
    cfg = load_yaml(Cfg, write(tmp_path, "count: 1\n"), ["a.c=2", "flag=yes"])
    assert cfg.a == Inner(b=1, c=2.0) and cfg.flag is True


def test_load_yaml_override_is_type_checked(tmp_path):
    with pytest.raises(ConfigError, match="count"):
        load_yaml(Cfg, write(tmp_path, "count: 1\n"), ["count=lots"])
    with pytest.raises(ConfigError, match=r"a\.zzz"):
        load_yaml(Cfg, write(tmp_path, "count: 1\n"), ["a.zzz=1"])


def test_load_empty_yaml_gives_defaults(tmp_path):
    assert load_yaml(Cfg, write(tmp_path, "")) == Cfg()
    assert load_yaml(Cfg, write(tmp_path, "# only a comment\n")) == Cfg()


@pytest.mark.parametrize("override", ["name", "a.b", ""])
def test_override_without_equals_raises(tmp_path, override):
    with pytest.raises(ConfigError, match="key=value"):
        load_yaml(Cfg, write(tmp_path, "count: 1\n"), [override])


@pytest.mark.parametrize("text", ["count: [1, 2\n", "a: b: c\n", "count: 1\n  name: x\n- y\n"])
def test_invalid_yaml_raises(tmp_path, text):
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        load_yaml(Cfg, write(tmp_path, text))
    assert "cfg.yaml" in str(info.value)


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "just a string\n", "42\n"])
def test_non_mapping_top_level_raises(tmp_path, text):
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_yaml(Cfg, write(tmp_path, text))


@pytest.mark.parametrize("text", ["[]\n", "false\n", "0\n"])
def test_falsy_non_mapping_top_level_raises(tmp_path, text):
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_yaml(Cfg, write(tmp_path, text))


# ------------------------------------------------------------------ components chosen by a type key
@dataclass
class WithParts:
    seed: int = 0
    llm: Component = field(default_factory=lambda: Component("local", {"threads": 2}))
    env: Component = field(default_factory=lambda: Component("household", {"n_rooms": 4}))


def test_a_component_is_a_type_and_its_arguments() -> None:
    config = from_dict(WithParts, {"llm": {"type": "openai", "model": "m"}, "env": "tabletop"})
    assert config.llm == Component("openai", {"model": "m"}) and config.env == Component("tabletop")
    with pytest.raises(ConfigError, match="llm: expected a type name or a mapping with a 'type' key"):
        from_dict(WithParts, {"llm": {"model": "m"}})


def test_load_config_layers_defaults_yaml_and_overrides(tmp_path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("seed: 3\nenv: {n_rooms: 6}\n")
    config = load_config(WithParts, path, ["llm.threads=4"])
    assert config.seed == 3
    assert config.env == Component("household", {"n_rooms": 6})  # the same type: merged with the defaults
    assert config.llm == Component("local", {"threads": 4})
    assert to_dict(config) == {"seed": 3, "llm": {"type": "local", "threads": 4}, "env": {"type": "household", "n_rooms": 6}}


def test_another_type_does_not_inherit_the_old_ones_arguments(tmp_path) -> None:
    switched = load_config(WithParts, None, ["llm.type=openai", "llm.model=m"])
    assert switched.llm == Component("openai", {"model": "m"})  # no "threads": that was the local backend's
    path = tmp_path / "agent.yaml"
    path.write_text("env: {type: tabletop, cameras: 4}\n")
    assert load_config(WithParts, path).env == Component("tabletop", {"cameras": 4})


def test_load_config_names_unknown_keys_and_unreadable_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"unknown config keys \['sede'\]; known: \['env', 'llm', 'seed'\]"):
        load_config(WithParts, None, ["sede=1"])
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(WithParts, tmp_path / "missing.yaml")
