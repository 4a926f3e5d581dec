"""Typed dataclass configs: defaults in code, values from YAML, overrides from the command line."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

C = TypeVar("C")


class ConfigError(ValueError):
    """A config value with the wrong type, an unknown key, or a file that is not valid YAML."""


@dataclasses.dataclass
class Component:
    """An implementation chosen by name, with its own arguments (habitat-lab's and LeRobot's `type` key).

    In YAML a component is one mapping, `llm: {type: openai, model: gpt-4o-mini}`; on the command line
    `--set llm.type=openai --set llm.model=gpt-4o-mini`. `type` names an entry of a registry (envs,
    segmenters, LLM backends, ...); the other keys go to that implementation, which checks them when it is
    built, so its defaults live in one place: the implementation.
    """

    type: str
    args: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.args}


def _component(value: Any, key: str) -> Component:
    if isinstance(value, str) and value:
        return Component(value)
    if isinstance(value, Mapping) and isinstance(value.get("type"), str) and value["type"]:
        return Component(value["type"], {k: v for k, v in value.items() if k != "type"})
    raise ConfigError(f"{key}: expected a type name or a mapping with a 'type' key, got {value!r}")


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, key)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: {value!r} does not match {annotation}")
    if annotation is Component:
        return _component(value, key)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping for {annotation.__name__}, got {value!r}")
        return from_dict(annotation, value, prefix=f"{key}.")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        args = typing.get_args(annotation) or (Any, ...)
        if origin is list or (len(args) == 2 and args[1] is Ellipsis):
            items = [_coerce(item, args[0], key) for item in value]
            return items if origin is list else tuple(items)
        if len(value) != len(args):
            raise ConfigError(f"{key}: expected {len(args)} items, got {len(value)}: {value!r}")
        return tuple(_coerce(item, item_type, key) for item, item_type in zip(value, args))
    if origin is dict or annotation is Any:
        return value
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if annotation in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        try:
            number = annotation(value)
        except (TypeError, ValueError, OverflowError) as error:
            raise ConfigError(f"{key}: expected {annotation.__name__}, got {value!r}") from error
        if annotation is int and isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return number
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    return value


def from_dict(cls: type[C], data: Mapping[str, Any], prefix: str = "") -> C:
    """Build dataclass `cls` from a mapping, checking keys and coercing types."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"unknown config keys {sorted(prefix + k for k in unknown)}; known: {sorted(names)}")
    values = {key: _coerce(value, hints[key], prefix + key) for key, value in data.items()}
    missing = [
        f.name
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"missing config keys {[prefix + k for k in missing]}")
    return cls(**values)


def to_dict(config: Any) -> Any:
    """A config as plain YAML-ready data: dataclasses become mappings, components flat ones, tuples lists."""
    if isinstance(config, Component):
        return {"type": config.type, **{k: to_dict(v) for k, v in config.args.items()}}
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, (list, tuple)):
        return [to_dict(item) for item in config]
    if isinstance(config, dict):
        return {k: to_dict(v) for k, v in config.items()}
    return config


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML file's top-level mapping (empty for an empty file)."""
    import yaml

    try:
        data = yaml.load(Path(path).read_text(), Loader=_loader())
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config file: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return data


def load_yaml(cls: type[C], path: str | Path, overrides: list[str] | None = None) -> C:
    """Load `cls` from a YAML file, then apply "a.b=value" overrides (values parsed as YAML)."""
    return from_dict(cls, apply_overrides(read_yaml(path), overrides or []))


def load_config(cls: type[C], path: str | Path | None = None, overrides: list[str] | None = None) -> C:
    """`cls`'s defaults, then the YAML file (if any), then "a.b=value" overrides, in that order.

    A section given a different `type` starts afresh: the defaults of one implementation are not carried to another.
    """
    data = to_dict(cls())
    if path is not None:
        data = merge(data, read_yaml(path))
    return from_dict(cls, apply_overrides(data, overrides or []))


def merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated by `update`, mapping by mapping; a mapping whose `type` changes is replaced whole."""
    result = dict(base)
    for key, value in update.items():
        old = result.get(key)
        same_type = (
            not isinstance(value, Mapping)
            or "type" not in value
            or not isinstance(old, Mapping)
            or old.get("type") == value["type"]
        )
        if isinstance(old, Mapping) and isinstance(value, Mapping) and same_type:
            result[key] = merge(dict(old), value)
        else:
            result[key] = value
    return result


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of `data` with each "dotted.key=value" set; values are parsed as YAML scalars."""
    import yaml

    result: dict[str, Any] = dict(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key=value")
        dotted, raw = item.split("=", 1)
        *parents, leaf = dotted.strip().split(".")
        node = result
        for part in parents:
            child = node.get(part)
            node[part] = dict(child) if isinstance(child, dict) else ({"type": child} if isinstance(child, str) else {})
            node = node[part]
        value = yaml.load(raw, Loader=_loader())
        if leaf == "type" and node.get("type") not in (None, value):
            node.clear()  # another implementation: the old one's arguments do not apply to it
        node[leaf] = value
    return result


def _loader() -> type:
    """PyYAML's safe loader with YAML 1.2 integers: YAML 1.1 would read "12:30" as the base-60 number 750."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    int_tag = "tag:yaml.org,2002:int"
    Loader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != int_tag]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(int_tag, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
    return Loader
