"""Templates as data: the shipped files, a user's own file, and clear errors for a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from mindpalace.benchmarks.findingdory.templates import (
    CATEGORIES,
    PARAPHRASED,
    SHIPPED,
    TemplateError,
    instantiate,
    load_templates,
    parse_templates,
)
from tests.benchmarks.findingdory.handmade import handmade_ledger


def test_the_shipped_templates_cover_all_eleven_categories() -> None:
    templates = load_templates()
    assert len(templates) >= 50
    assert {t.category for t in templates} == set(CATEGORIES)
    assert {t.goal for t in templates} == {"single", "multi_unordered", "multi_ordered"}


def test_a_day_instantiates_each_template_at_most_once_and_deterministically() -> None:
    ledger = handmade_ledger()
    tasks = instantiate(load_templates(), ledger, seed=3)
    assert len({t.id for t in tasks}) == len(tasks) >= 45
    assert [t.to_dict() for t in tasks] == [t.to_dict() for t in instantiate(load_templates(), handmade_ledger(), seed=3)]
    assert all("{" not in t.text for t in tasks)
    by_id = {t.id: t for t in tasks}
    assert "room_unvisited" in by_id and by_id["room_unvisited"].targets[0].ref == "bathroom"
    assert by_id["moved_in_order"].stops == 4 and by_id["moved_any"].stops == 1


def test_paraphrased_templates_ask_the_same_tasks_in_other_words() -> None:
    ledger = handmade_ledger()
    shipped = {t.id: t for t in instantiate(load_templates(SHIPPED), ledger, seed=1)}
    paraphrased = {t.id: t for t in instantiate(load_templates(PARAPHRASED), ledger, seed=1)}
    assert shipped.keys() == paraphrased.keys()
    for task_id, task in shipped.items():
        other = paraphrased[task_id]
        assert (other.targets, other.goal, other.category, other.slots) == (task.targets, task.goal, task.category, task.slots)
        assert other.text != task.text


def test_a_users_file_runs(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "version: 1\n"
        "templates:\n"
        "  - id: fetch\n    category: interaction_order\n    goal: single\n    kind: nth_object\n"
        "    params: {which: last}\n    text: 'Which thing did you tidy last? Stand next to it.'\n"
        "  - id: tour\n    category: ordered_revisitation\n    goal: multi_ordered\n    kind: in_order\n"
        "    params: {what: moved_objects}\n    text: 'Show me everything you tidied, in order.'\n"
    )
    tasks = instantiate(load_templates(path), handmade_ledger())
    assert [(t.id, [x.key for x in t.targets]) for t in tasks] == [
        ("fetch", ["object:36"]),
        ("tour", ["object:30", "object:32", "object:31", "object:36"]),
    ]


def entry(**changes) -> dict:
    base = {
        "id": "t",
        "category": "interaction",
        "goal": "single",
        "kind": "interaction_set",
        "params": {"what": "moved_objects"},
        "text": "Go.",
    }
    return {"version": 1, "templates": [{**base, **changes}]}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "telepathy"}, "unknown kind 'telepathy'; known: all_of"),
        ({"category": "smell"}, "unknown category 'smell'"),
        ({"goal": "multi_ordered"}, "makes single goals, not 'multi_ordered'"),
        ({"params": {"what": "everything"}}, "what must be one of"),
        ({"params": {"colour": "red"}}, "takes no parameter 'colour'"),
        ({"text": "Go to the {object}."}, "does not fill {object}; it fills: nothing"),
        ({"text": "Go to {0}."}, "must be a plain name"),
        ({"text": "Go to {object!r}."}, "must be a plain name"),
        ({"text": ""}, "must be non-empty strings"),
        ({"speed": 3}, "unknown field 'speed'"),
    ],
)
def test_a_broken_template_is_named_with_its_problem(changes: dict, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("{", r"\{").replace("}", r"\}").replace("(", r"\(")):
        parse_templates(entry(**changes), "mine.yaml")


def test_a_broken_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read it"):
        load_templates(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("templates: [unclosed")
    with pytest.raises(TemplateError, match="not valid YAML"):
        load_templates(tmp_path / "bad.yaml")
    with pytest.raises(TemplateError, match="used twice"):
        parse_templates({"templates": entry()["templates"] * 2})
    with pytest.raises(TemplateError, match="version 2"):
        parse_templates({**entry(), "version": 2})
    with pytest.raises(TemplateError, match="a 'templates' list"):
        parse_templates(["nope"])
