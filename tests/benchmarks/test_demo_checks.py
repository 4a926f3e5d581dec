"""The demo's answer check: an answer succeeds only when it says the thing is at the right furniture."""

from __future__ import annotations

import pytest

from mindpalace.benchmarks.demo import answer_names


@pytest.mark.parametrize(
    "answer",
    [
        "I put the mug #7 on the table #3 in the kitchen.",  # what the robot's memory answers
        "On the table.",
        "table",
        "It's on the TABLE, in the kitchen's drawer-free corner.",
    ],
)
def test_right_answers_pass(answer: str) -> None:
    ok, why = answer_names(answer, "table")
    assert ok, why


@pytest.mark.parametrize(
    "answer,why",
    [
        ("not the table", "negated"),
        ("It isn't on the table.", "negated"),
        ("I don't know, maybe the table?", "negated"),
        ("No idea where the table is.", "negated"),
        ("I put it on the coffee table.", "names coffee table"),  # another furniture that contains the word
        ("On the sofa.", "names sofa"),
        ("On the table or the sofa.", "names table, sofa"),
        ("In the kitchen.", "names no furniture"),
        ("", "no answer"),
        ("!!!", "no answer"),
    ],
)
def test_wrong_negated_or_hedged_answers_fail(answer: str, why: str) -> None:
    ok, message = answer_names(answer, "table")
    assert not ok and why in message, message


def test_multi_word_furniture_and_plurals() -> None:
    assert answer_names("I left it on the coffee table #12.", "coffee table")[0]
    assert answer_names("on the tv_stand", "tv stand")[0]
    assert not answer_names("on the table", "coffee table")[0]
    assert answer_names("on one of the tables", "table")[0]
