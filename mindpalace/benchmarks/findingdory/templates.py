"""Task templates as data, and the tasks a day supports (benchmark side).

A templates file (YAML) lists templates; each has an `id` (unique), a `category` (one of FindingDory's 11),
a `goal` (single, multi_unordered or multi_ordered), a `kind` with optional `params` (how its targets resolve
from the ledger: a name in `resolvers.RESOLVERS`) and a `text` with {slots} that kind fills:

    version: 1
    templates:
      - id: object_before
        category: interaction_order
        goal: single
        kind: relative_object
        params: {direction: before}
        text: "Go to the object you moved just before the {object}."

The shipped `templates.yaml` is the default; `--templates FILE` runs a user's own file of the same schema.
Agents see only the instruction text, so any wording works as long as the kind stays the same.
"""

from __future__ import annotations

import string
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mindpalace.benchmarks.findingdory.ledger import Ledger, Target
from mindpalace.benchmarks.findingdory.resolvers import RESOLVERS

SHIPPED = Path(__file__).with_name("templates.yaml")
PARAPHRASED = Path(__file__).with_name("templates_paraphrased.yaml")
CATEGORIES = (
    "object_recall",
    "interaction",
    "conditional_interaction",
    "object_attributes",
    "spatial_relationship",
    "room_visitation",
    "interaction_order",
    "time",
    "duration",
    "unordered_revisitation",
    "ordered_revisitation",
)
GOALS = ("single", "multi_unordered", "multi_ordered")
FIELDS = {"id", "category", "goal", "kind", "params", "text"}


class TemplateError(ValueError):
    """A templates file that does not follow the schema; the message names the file, the template and the problem."""


@dataclass(frozen=True)
class Template:
    id: str
    category: str
    goal: str
    kind: str
    params: dict[str, Any]
    text: str

    @property
    def slots(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.text) if name is not None]


@dataclass(frozen=True)
class Task:
    """One instruction of one day, with the targets that satisfy it (the targets are ground truth)."""

    id: str  # the template's id: unique within a day
    category: str
    goal: str
    kind: str
    text: str
    targets: tuple[Target, ...]
    slots: dict[str, str]

    @property
    def stops(self) -> int:
        """How many stops the task asks for: one, or one per target for a multi-goal task."""
        return 1 if self.goal == "single" else len(self.targets)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "goal": self.goal,
            "kind": self.kind,
            "text": self.text,
            "targets": [t.key for t in self.targets],
            "slots": dict(self.slots),
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Task:
        return Task(
            data["id"],
            data["category"],
            data["goal"],
            data["kind"],
            data["text"],
            tuple(Target.from_key(k) for k in data["targets"]),
            dict(data["slots"]),
        )


def load_templates(path: Path | str | None = None) -> list[Template]:
    """The templates of a file (the shipped ones by default), validated; `TemplateError` says what is wrong."""
    source = Path(path) if path is not None else SHIPPED
    try:
        data = yaml.safe_load(source.read_text())
    except OSError as error:
        raise TemplateError(f"{source}: cannot read it ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        raise TemplateError(f"{source}: not valid YAML ({error})") from error
    return parse_templates(data, str(source))


def parse_templates(data: Any, source: str = "<templates>") -> list[Template]:
    if not isinstance(data, dict) or not isinstance(data.get("templates"), list):
        raise TemplateError(f"{source}: expected a mapping with a 'templates' list (and 'version: 1')")
    if data.get("version", 1) != 1:
        raise TemplateError(f"{source}: version {data.get('version')!r}; this mindpalace reads version 1")
    templates: list[Template] = []
    seen: set[str] = set()
    for number, entry in enumerate(data["templates"], 1):
        where = f"{source}: template {number}"
        if not isinstance(entry, dict):
            raise TemplateError(f"{where}: expected a mapping, got {type(entry).__name__}")
        if isinstance(entry.get("id"), str):
            where += f" ({entry['id']!r})"
        missing = sorted({"id", "category", "goal", "kind", "text"} - set(entry))
        unknown = sorted(set(entry) - FIELDS)
        if missing or unknown:
            problem = f"missing {', '.join(missing)}" if missing else f"unknown field {unknown[0]!r}"
            raise TemplateError(f"{where}: {problem}; the fields are {sorted(FIELDS)}")
        if not all(isinstance(entry[k], str) and entry[k].strip() for k in ("id", "category", "goal", "kind", "text")):
            raise TemplateError(f"{where}: id, category, goal, kind and text must be non-empty strings")
        if entry["id"] in seen:
            raise TemplateError(f"{where}: the id is used twice")
        seen.add(entry["id"])
        if entry["category"] not in CATEGORIES:
            raise TemplateError(f"{where}: unknown category {entry['category']!r}; known: {', '.join(CATEGORIES)}")
        if entry["goal"] not in GOALS:
            raise TemplateError(f"{where}: unknown goal {entry['goal']!r}; known: {', '.join(GOALS)}")
        resolver = RESOLVERS.get(entry["kind"])
        if resolver is None:
            raise TemplateError(f"{where}: unknown kind {entry['kind']!r}; known: {', '.join(sorted(RESOLVERS))}")
        if entry["goal"] not in resolver.goals:
            raise TemplateError(
                f"{where}: kind {resolver.name!r} makes {' or '.join(resolver.goals)} goals, not {entry['goal']!r}"
            )
        params = entry.get("params") or {}
        if not isinstance(params, dict):
            raise TemplateError(f"{where}: params must be a mapping")
        try:
            params = resolver.check(params)
        except ValueError as error:
            raise TemplateError(f"{where}: {error}") from error
        template = Template(entry["id"], entry["category"], entry["goal"], entry["kind"], params, " ".join(entry["text"].split()))
        _check_text(template, resolver.slots_for(params), where)
        templates.append(template)
    if not templates:
        raise TemplateError(f"{source}: no templates")
    return templates


def _check_text(template: Template, provided: tuple[str, ...], where: str) -> None:
    try:
        fields = list(string.Formatter().parse(template.text))
    except ValueError as error:
        raise TemplateError(f"{where}: text {template.text!r} is not a valid template ({error})") from error
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"{where}: slot {{{name}}} must be a plain name like {{object}} (no format specs)")
        if name not in provided:
            raise TemplateError(
                f"{where}: kind {template.kind!r} does not fill {{{name}}}; it fills: {', '.join('{' + s + '}' for s in provided) or 'nothing'}"
            )


def instantiate(templates: list[Template], ledger: Ledger, seed: int = 0) -> list[Task]:
    """The tasks a day supports: each template at most once, its instance drawn with a seed of (seed, day, template id)."""
    tasks = []
    for template in templates:
        instances = RESOLVERS[template.kind].run(ledger, template.params)
        if not instances:
            continue
        rng = np.random.default_rng([seed, ledger.apartment_seed, ledger.day_seed, zlib.crc32(template.id.encode())])
        instance = instances[int(rng.integers(len(instances)))]
        tasks.append(
            Task(
                template.id,
                template.category,
                template.goal,
                template.kind,
                template.text.format_map(instance.slots),
                instance.targets,
                dict(instance.slots),
            )
        )
    return tasks
