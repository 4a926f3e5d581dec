"""Every task kind against a hand-built ledger whose answers are known."""

from __future__ import annotations

import pytest

from mindpalace.benchmarks.findingdory.clock import DayClock, parse_hhmm
from mindpalace.benchmarks.findingdory.ledger import Ledger, Target
from mindpalace.benchmarks.findingdory.resolvers import RESOLVERS, Instance, furniture_phrase, object_phrase
from tests.benchmarks.findingdory.handmade import handmade_ledger


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return handmade_ledger()


def resolve(ledger: Ledger, kind: str, **params) -> list[Instance]:
    resolver = RESOLVERS[kind]
    return resolver.run(ledger, resolver.check(params))


def answers(instances: list[Instance]) -> dict[tuple[tuple[str, str], ...], list[str]]:
    """slots -> target keys, for comparing with what the day says."""
    return {tuple(sorted(i.slots.items())): [t.key for t in i.targets] for i in instances}


def objects(*ids: int) -> list[str]:
    return [f"object:{i}" for i in ids]


def furniture(*ids: int) -> list[str]:
    return [f"furniture:{i}" for i in ids]


def test_names_tell_repeated_kinds_apart(ledger: Ledger) -> None:
    assert [object_phrase(ledger, o) for o in (30, 32, 31, 36, 33)] == ["first mug", "apple", "second mug", "keys", "book"]
    assert furniture_phrase(ledger, 10) == "counter in the kitchen" and furniture_phrase(ledger, 16) == "sofa"


def test_object_recall(ledger: Ledger) -> None:
    assert answers(resolve(ledger, "recall_object", what="object")) == {
        (("category", "apple"),): objects(32),
        (("category", "book"),): objects(33),
        (("category", "keys"),): objects(36),
        (("category", "mug"),): objects(30, 31, 34),  # any mug, moved or not; the toothbrush was never seen
    }
    kinds = {slots[0][1] for slots in answers(resolve(ledger, "recall_furniture", what="furniture"))}
    assert kinds == {"counter", "fridge", "table", "sofa", "coffee table", "bed", "nightstand"}  # not the unseen vanity
    assert answers(resolve(ledger, "recall_furniture", what="furniture"))[(("furniture_type", "counter"),)] == furniture(10, 21)


def test_interaction(ledger: Ledger) -> None:
    expected = {
        "moved_objects": objects(30, 32, 31, 36),
        "unmoved_objects": objects(33, 34, 35),
        "source_furniture": furniture(10, 15, 18),
        "goal_furniture": furniture(16, 17, 19, 13),
        "used_furniture": furniture(10, 16, 15, 17, 19, 18, 13),
        "unused_furniture": furniture(21, 22),
    }
    for what, keys in expected.items():
        assert answers(resolve(ledger, "interaction_set", what=what)) == {(): keys}


def test_conditional_interaction(ledger: Ledger) -> None:
    assert answers(resolve(ledger, "object_of_category", moved=True)) == {
        (("category", "apple"),): objects(32),
        (("category", "keys"),): objects(36),
        (("category", "mug"),): objects(30, 31),
    }
    assert answers(resolve(ledger, "object_of_category", moved=False)) == {(("category", "mug"),): objects(34)}
    assert answers(resolve(ledger, "furniture_of_object", end="source")) == {
        (("object", "first mug"),): furniture(10),
        (("object", "apple"),): furniture(15),
        (("object", "second mug"),): furniture(15),
        (("object", "keys"),): furniture(18),
    }
    assert answers(resolve(ledger, "furniture_of_object", end="goal"))[(("object", "keys"),)] == furniture(13)
    assert answers(resolve(ledger, "object_of_furniture", end="source")) == {
        (("furniture", "counter in the kitchen"),): objects(30),
        (("furniture", "table"),): objects(32, 31),
        (("furniture", "bed"),): objects(36),
    }
    assert answers(resolve(ledger, "object_of_furniture", end="goal"))[(("furniture", "nightstand"),)] == objects(31)
    assert answers(resolve(ledger, "furniture_of_type", end="goal")) == {
        (("furniture_type", "coffee table"),): furniture(17),
        (("furniture_type", "fridge"),): furniture(13),
        (("furniture_type", "nightstand"),): furniture(19),
        (("furniture_type", "sofa"),): furniture(16),
    }


def test_object_attributes(ledger: Ledger) -> None:
    assert answers(resolve(ledger, "attribute", attribute="color")) == {
        (("color", "blue"),): objects(31),
        (("color", "red"),): objects(30, 32),
        (("color", "silver"),): objects(36),
    }
    assert answers(resolve(ledger, "attribute", attribute="shape"))[(("shape", "round"),)] == objects(32)
    assert answers(resolve(ledger, "attribute", attribute="material"))[(("material", "metal"),)] == objects(36)
    assert answers(resolve(ledger, "attribute", attribute="function"))[(("function", "for drinking"),)] == objects(30, 31)
    assert RESOLVERS["attribute"].slots_for({"attribute": "shape"}) == ("shape",)


def test_spatial_relationship_is_asked_only_with_a_clear_farthest(ledger: Ledger) -> None:
    assert answers(resolve(ledger, "farthest", what="goal_furniture")) == {(): furniture(19)}
    assert answers(resolve(ledger, "farthest", what="moved_objects")) == {(): objects(31)}
    assert answers(resolve(ledger, "farthest", what="unused_furniture")) == {(): furniture(22)}
    close = handmade_ledger()
    close.distances["furniture:16"] = 9.3  # the sofa almost as far as the nightstand: too close to call
    assert resolve(close, "farthest", what="goal_furniture") == []


def test_room_visitation(ledger: Ledger) -> None:
    assert answers(resolve(ledger, "room_of_object", end="source")) == {
        (("object", "first mug"),): ["room:kitchen"],
        (("object", "apple"),): ["room:kitchen"],
        (("object", "second mug"),): ["room:kitchen"],
        (("object", "keys"),): ["room:bedroom"],
    }
    assert answers(resolve(ledger, "room_of_object", end="goal"))[(("object", "second mug"),)] == ["room:bedroom"]
    assert answers(resolve(ledger, "room_of_nth", end="goal")) == {
        (("ordinal", "first"),): ["room:living room"],
        (("ordinal", "second"),): ["room:living room"],
        (("ordinal", "third"),): ["room:bedroom"],
        (("ordinal", "fourth"),): ["room:kitchen"],
    }
    assert answers(resolve(ledger, "unvisited_room")) == {(): ["room:bathroom"]}
    assert answers(resolve(ledger, "start_room")) == {(): ["room:living room"]}
    everywhere = handmade_ledger()
    everywhere.room_visits.append(("bathroom", 200.0, 201.0))
    assert resolve(everywhere, "unvisited_room") == []


def test_interaction_order(ledger: Ledger) -> None:
    assert answers(resolve(ledger, "nth_object", which="nth"))[(("ordinal", "second"),)] == objects(32)
    assert answers(resolve(ledger, "nth_object", which="last")) == {(): objects(36)}
    assert answers(resolve(ledger, "nth_furniture", end="source"))[(("ordinal", "third"),)] == furniture(15)
    assert answers(resolve(ledger, "nth_furniture", end="goal"))[(("ordinal", "fourth"),)] == furniture(13)
    assert answers(resolve(ledger, "relative_object", direction="after")) == {
        (("object", "first mug"),): objects(32),
        (("object", "apple"),): objects(31),
        (("object", "second mug"),): objects(36),
    }
    assert answers(resolve(ledger, "relative_object", direction="before"))[(("object", "apple"),)] == objects(30)
    after_n = answers(resolve(ledger, "relative_object_n", direction="after"))
    assert after_n[(("n", "two"), ("object", "first mug"))] == objects(31)
    assert after_n[(("n", "three"), ("object", "first mug"))] == objects(36)
    assert answers(resolve(ledger, "relative_object_n", direction="before"))[(("n", "two"), ("object", "keys"))] == objects(32)
    between = answers(resolve(ledger, "object_between"))
    assert between[(("object", "first mug"), ("object_b", "second mug"))] == objects(32)
    assert between[(("object", "first mug"), ("object_b", "keys"))] == objects(32, 31)


def test_time_asks_only_for_minutes_inside_one_interaction(ledger: Ledger) -> None:
    clock = DayClock.from_dict(ledger.clock)
    for kind, spans in (
        ("object", {f"object:{i.object}": [(i.start_s, i.end_s)] for i in ledger.interactions}),
        ("room", {}),
    ):
        instances = resolve(ledger, "at_time", what=kind)
        assert len(instances) > 20
        for instance in instances:
            minute = parse_hhmm(instance.slots["time"])
            start, end = clock.time_s(minute), clock.time_s(minute + 59.999)
            if kind == "object":
                assert any(a <= start and end <= b for a, b in spans[instance.targets[0].key])
            else:
                room = str(instance.targets[0].ref)
                assert any(r == room and a <= start and end <= b for r, a, b in ledger.room_visits)
    furniture_minutes = answers(resolve(ledger, "at_time", what="furniture"))
    assert {k for keys in furniture_minutes.values() for k in keys} == set(furniture(10, 16, 15, 17, 19, 18, 13))
    assert resolve(Ledger.from_dict({**ledger.to_dict(), "clock": {}}), "at_time", what="object") == []


def test_duration_needs_a_clear_winner(ledger: Ledger) -> None:
    assert answers(resolve(ledger, "duration", what="object", extreme="longest")) == {(): objects(31)}
    assert answers(resolve(ledger, "duration", what="object", extreme="shortest")) == {(): objects(32)}
    assert answers(resolve(ledger, "duration", what="room", extreme="longest")) == {(): ["room:kitchen"]}
    assert answers(resolve(ledger, "duration", what="room", extreme="shortest")) == {(): ["room:living room"]}
    tie = handmade_ledger()
    tie.interactions[3] = type(tie.interactions[3])(
        3, 36, tie.interactions[3].source, tie.interactions[3].goal, 140.0, 189.0, (140.0, 142.0), (185.0, 189.0)
    )
    assert resolve(tie, "duration", what="object", extreme="longest") == []  # 50 s and 49 s: too close to call


def test_revisitation(ledger: Ledger) -> None:
    assert answers(resolve(ledger, "all_of", what="moved_objects")) == {(): objects(30, 32, 31, 36)}
    assert answers(resolve(ledger, "all_of", what="goal_furniture")) == {(): furniture(16, 17, 19, 13)}
    assert answers(resolve(ledger, "all_of_category")) == {(("category", "mug"),): objects(30, 31)}
    assert answers(resolve(ledger, "in_order", what="moved_objects", reverse=True)) == {(): objects(36, 31, 32, 30)}
    assert answers(resolve(ledger, "in_order", what="source_furniture")) == {(): furniture(10, 15, 18)}


def test_every_kind_is_covered_here() -> None:
    source = open(__file__).read()
    assert all(f'"{name}"' in source for name in RESOLVERS), [n for n in RESOLVERS if f'"{n}"' not in source]
    assert Target.from_key("room:living room") == Target("room", "living room")
