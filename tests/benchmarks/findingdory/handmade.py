"""A hand-built ledger of a day (four objects moved in a four-room flat) whose answers are known by heart."""

from __future__ import annotations

from mindpalace.benchmarks.findingdory.clock import DayClock
from mindpalace.benchmarks.findingdory.ledger import FurnitureInfo, Interaction, Ledger, ObjectInfo, RoomInfo, Spot


def _piece(fid: int, kind: str, room: str, parts: dict[str, int] | None = None) -> FurnitureInfo:
    return FurnitureInfo(fid, f"{kind}_{fid}", kind, room, (0.0, 0.0, 1.0, 1.0), (0.5, 0.5, 0.8), parts or {})


def _object(
    oid: int,
    category: str,
    color: str,
    material: str,
    function: str,
    shape: str,
    first: Spot,
    final: Spot,
    rooms: tuple[str, str],
) -> ObjectInfo:
    return ObjectInfo(
        oid, f"{category}_{oid}", category, color, material, function, shape, rooms[0], rooms[1], first, final, (0.0, 0.0, 0.8)
    )


def handmade_ledger() -> Ledger:
    """Moves: first mug (30) counter -> sofa; apple (32) table -> coffee table; second mug (31) table -> nightstand
    drawer; keys (36) bed -> fridge (behind its door). Not moved: book 33, a third mug 34, toothbrush 35 (never seen)."""
    counter, fridge, table, sofa, coffee, bed, nightstand, counter2, vanity = (
        _piece(10, "counter", "kitchen", {"drawer_1": 11, "drawer_2": 12}),
        _piece(13, "fridge", "kitchen", {"door": 14}),
        _piece(15, "table", "kitchen"),
        _piece(16, "sofa", "living room"),
        _piece(17, "coffee_table", "living room"),
        _piece(18, "bed", "bedroom"),
        _piece(19, "nightstand", "bedroom", {"drawer_1": 20}),
        _piece(21, "counter", "living room"),
        _piece(22, "vanity", "bathroom"),
    )
    on = lambda f: Spot(f, "top", "on")  # noqa: E731
    objects = [
        _object(30, "mug", "red", "ceramic", "for drinking", "cylindrical", on(10), on(16), ("kitchen", "living room")),
        _object(
            31,
            "mug",
            "blue",
            "ceramic",
            "for drinking",
            "cylindrical",
            on(15),
            Spot(19, "drawer_1", "in", 20),
            ("kitchen", "bedroom"),
        ),
        _object(32, "apple", "red", "organic", "a fruit to eat", "round", on(15), on(17), ("kitchen", "living room")),
        _object(33, "book", "green", "paper", "for reading", "rectangular", on(16), on(16), ("living room", "living room")),
        _object(34, "mug", "white", "ceramic", "for drinking", "cylindrical", on(10), on(10), ("kitchen", "kitchen")),
        _object(
            35, "toothbrush", "blue", "plastic", "for brushing teeth", "rectangular", on(22), on(22), ("bathroom", "bathroom")
        ),
        _object(
            36,
            "keys",
            "silver",
            "metal",
            "for opening the front door",
            "rectangular",
            on(18),
            Spot(13, "shelf_1", "in", 14),
            ("bedroom", "kitchen"),
        ),
    ]
    interactions = [
        Interaction(0, 30, on(10), on(16), 10.0, 40.0, (10.0, 12.0), (38.0, 40.0)),
        Interaction(1, 32, on(15), on(17), 50.0, 70.0, (50.0, 52.0), (68.0, 70.0)),
        Interaction(2, 31, on(15), Spot(19, "drawer_1", "in", 20), 80.0, 130.0, (80.0, 82.0), (126.0, 130.0)),
        Interaction(3, 36, on(18), Spot(13, "shelf_1", "in", 14), 140.0, 175.0, (140.0, 142.0), (171.0, 175.0)),
    ]
    visits = [
        ("living room", 0.0, 5.0),
        ("kitchen", 5.0, 30.0),
        ("living room", 30.0, 45.0),
        ("kitchen", 45.0, 60.0),
        ("living room", 60.0, 75.0),
        ("kitchen", 75.0, 100.0),
        ("bedroom", 100.0, 160.0),
        ("kitchen", 160.0, 190.0),
        ("living room", 190.0, 200.0),
    ]
    distances = {
        "object:30": 6.0, "object:31": 9.0, "object:32": 5.0, "object:33": 6.0, "object:34": 2.0, "object:35": 10.0, "object:36": 3.0,
        "furniture:10": 2.0, "furniture:13": 3.0, "furniture:15": 2.5, "furniture:16": 6.0, "furniture:17": 5.0,
        "furniture:18": 8.0, "furniture:19": 9.5, "furniture:21": 7.0, "furniture:22": 10.0,
    }  # fmt: skip
    return Ledger(
        apartment_seed=7,
        day_seed=7,
        rooms=[
            RoomInfo("kitchen", "kitchen", (0.0, 0.0, 4.0, 4.0)),
            RoomInfo("living room", "living_room", (4.0, 0.0, 9.0, 5.0)),
            RoomInfo("bedroom", "bedroom", (0.0, 4.0, 4.0, 8.0)),
            RoomInfo("bathroom", "bathroom", (4.0, 5.0, 7.0, 8.0)),
        ],
        furniture=[counter, fridge, table, sofa, coffee, bed, nightstand, counter2, vanity],
        objects=objects,
        interactions=interactions,
        room_visits=visits,
        start_room="living room",
        end_room="living room",
        seen=[10, 11, 13, 15, 16, 17, 18, 19, 20, 21, 30, 31, 32, 33, 34, 36],
        test_start=(6.0, 2.0, 0.0),
        duration_s=200.0,
        clock=DayClock(duration_s=200.0).to_dict(),
        distances=distances,
    )
