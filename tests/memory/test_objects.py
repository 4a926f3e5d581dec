"""ObjectMap: percepts associated across frames into persistent objects; negative evidence and moves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mindpalace.memory.spatial.objects import ObjectMap, ObjectMapConfig

MUG_CENTER = np.array([2.01, 0.01, 0.05])
MUG_HALF = np.array([0.04, 0.04, 0.05])
EYE = np.array([0.0, 0.0, 1.2])
# The test camera is 160x120: a mug 2.3 m away covers ~20 px, below the default for "would have been seen".
SMALL_VISIBLE = ObjectMapConfig(min_expected_pixels=10)


@pytest.fixture
def mug_views(mem):
    """Two views of one mug at 2 cm spacing: from the front (-x face + top) and from the side (+y face + top)."""
    front = mem.percept("mug", mem.box_faces(MUG_CENTER, MUG_HALF, ("-x", "+z"), 0.02), time_s=1.0)
    side = mem.percept("mug", mem.box_faces(MUG_CENTER, MUG_HALF, ("+y", "+z"), 0.02), time_s=2.0)
    return front, side


def _far_depth(mem, center, extra: float):
    """A camera at EYE looking at `center`, and a constant depth image reading `extra` m beyond it."""
    pose = mem.look_at(EYE, center)
    z = float(np.linalg.norm(np.asarray(center) - EYE))
    depth = np.full((mem.camera.height, mem.camera.width), z + extra, np.float32)
    return depth, pose


def _mark_missing(mem, objects: ObjectMap, center, times: int) -> list[list[int]]:
    depth, pose = _far_depth(mem, center, 1.0)
    return [
        [u.object_id for u in objects.note_absences([], depth, mem.camera, pose) if u.kind == "missing"] for _ in range(times)
    ]


# ------------------------------------------------------------------ association and fusion
def test_two_views_of_one_object_fuse(mem, mug_views):
    """The side view of a mug joins the object made from the front view: one object, 2 observations, more points."""
    front, side = mug_views
    objects = ObjectMap()
    (first,) = objects.integrate([front], 1.0)
    (second,) = objects.integrate([side], 2.0)
    assert first.kind == "new" and second.kind == "seen" and second.object_id == first.object_id
    assert len(objects.objects) == 1
    obj = objects.objects[first.object_id]
    assert obj.observations == 2 and obj.first_seen == 1.0 and obj.last_seen == 2.0
    assert len(front.points) < len(obj.points) < len(front.points) + len(side.points)  # the shared top is not doubled
    np.testing.assert_allclose(obj.aabb_min, MUG_CENTER - MUG_HALF, atol=1e-9)
    np.testing.assert_allclose(obj.aabb_max, MUG_CENTER + MUG_HALF, atol=1e-9)
    np.testing.assert_allclose(second.previous_center, front.points.min(0) / 2 + front.points.max(0) / 2)
    np.testing.assert_allclose(second.center, MUG_CENTER, atol=1e-9)


def test_different_labels_at_the_same_place_stay_apart(mem, mug_views):
    """A book percept where the mug is does not fuse into the mug: meaning must agree."""
    front, _ = mug_views
    objects = ObjectMap()
    objects.integrate([front], 1.0)
    (update,) = objects.integrate([mem.percept("book", front.points)], 2.0)
    assert update.kind == "new" and len(objects.objects) == 2
    assert sorted(o.label for o in objects.objects.values()) == ["book", "mug"]


def test_real_embeddings_decide_same_kind(mem, embedder, mug_views):
    """With the text model: "coffee mug" fuses into a "mug", while a "cup" at the same place stays separate."""
    front, side = mug_views
    vectors = dict(zip(["mug", "coffee mug", "cup"], embedder.embed(["mug", "coffee mug", "cup"])))
    objects = ObjectMap()
    objects.integrate([mem.percept("mug", front.points, vectors["mug"])], 1.0)
    (same,) = objects.integrate([mem.percept("coffee mug", side.points, vectors["coffee mug"])], 2.0)
    (other,) = objects.integrate([mem.percept("cup", side.points, vectors["cup"])], 3.0)
    assert same.kind == "seen" and other.kind == "new" and len(objects.objects) == 2


def test_same_label_half_a_metre_apart_are_two_objects(mem, mug_views):
    """Two mugs 0.5 m apart are two objects, in one frame or over two frames."""
    front, _ = mug_views
    shifted = mem.percept("mug", front.points + [0.0, 0.5, 0.0])
    objects = ObjectMap()
    updates = objects.integrate([front, shifted], 1.0)
    assert [u.kind for u in updates] == ["new", "new"] and len(objects.objects) == 2
    later = ObjectMap()
    later.integrate([front], 1.0)
    assert later.integrate([shifted], 2.0)[0].kind == "new" and len(later.objects) == 2


def test_one_object_takes_at_most_one_percept_per_frame(mem, mug_views):
    """Two same-label percepts at one place in one frame cannot both be the same object."""
    front, side = mug_views
    objects = ObjectMap()
    objects.integrate([front], 1.0)
    updates = objects.integrate([front, side], 2.0)
    assert sorted(u.kind for u in updates) == ["new", "seen"] and len(objects.objects) == 2


def test_max_points_cap_holds_after_fusion(mem):
    """However many views are fused, an object keeps at most max_points points."""
    objects = ObjectMap(ObjectMapConfig(max_points=50))
    dense = mem.box_faces(MUG_CENTER, MUG_HALF, ("-x", "+z"), 0.005)
    objects.integrate([mem.percept("mug", dense)], 1.0)
    for t, faces in enumerate([("+y", "+z"), ("-y", "+x"), ("-x", "-y")], start=2):
        objects.integrate([mem.percept("mug", mem.box_faces(MUG_CENTER, MUG_HALF, faces, 0.005))], float(t))
    (obj,) = objects.objects.values()
    assert obj.observations == 4 and 0 < len(obj.points) <= 50


def test_max_points_cap_holds_for_an_object_seen_once(mem):
    """An object made from a single large percept is held to max_points too."""
    objects = ObjectMap(ObjectMapConfig(max_points=50))
    objects.integrate([mem.percept("mug", mem.box_faces(MUG_CENTER, MUG_HALF, ("-x", "+z"), 0.005))], 1.0)
    (obj,) = objects.objects.values()
    assert len(obj.points) <= 50


def test_score_grows_with_observations(mem, mug_views):
    """The same detector score gives a higher object score with every repeated observation, below the score."""
    front, side = mug_views
    objects = ObjectMap()
    (update,) = objects.integrate([front], 1.0)
    scores = [objects.score(update.object_id)]
    for t in range(2, 5):
        objects.integrate([side if t % 2 else front], float(t))
        scores.append(objects.score(update.object_id))
    assert all(a < b for a, b in itertools.pairwise(scores))
    assert 0 < scores[0] and scores[-1] < 0.9 + 1e-9
    assert objects.objects[update.object_id].confidence == pytest.approx(0.9)


def test_within_returns_objects_in_radius(mem, mug_views):
    """within(centre, r) lists the objects whose centre is at most r away."""
    front, _ = mug_views
    objects = ObjectMap()
    objects.integrate([front, mem.percept("book", front.points + [1.0, 0.0, 0.0])], 1.0)
    assert [o.label for o in objects.within(MUG_CENTER, 0.3)] == ["mug"]
    assert len(objects.within(MUG_CENTER, 1.5)) == 2


# ------------------------------------------------------------------ negative evidence and moves
def test_seen_missing_then_found_elsewhere_is_a_move(mem, mug_views):
    """After depth twice sees past its place, a mug found 1 m away is the same mug, moved."""
    front, _ = mug_views
    objects = ObjectMap(SMALL_VISIBLE)
    (new,) = objects.integrate([front], 1.0)
    old_center = objects.objects[new.object_id].center.copy()
    assert _mark_missing(mem, objects, old_center, 2) == [[], [new.object_id]]
    moved_points = front.points + [0.0, 1.0, 0.0]
    (update,) = objects.integrate([mem.percept("mug", moved_points)], 5.0)
    assert update.kind == "moved" and update.object_id == new.object_id and len(objects.objects) == 1
    obj = objects.objects[new.object_id]
    np.testing.assert_allclose(update.previous_center, old_center)
    np.testing.assert_allclose(update.center, old_center + [0.0, 1.0, 0.0], atol=1e-9)
    assert len(obj.moves) == 1
    when, origin, target = obj.moves[0]
    assert when == 5.0
    np.testing.assert_allclose(origin, old_center)
    np.testing.assert_allclose(target, old_center + [0.0, 1.0, 0.0], atol=1e-9)
    assert obj.missing_count == 0 and obj.observations == 2 and obj.last_seen == 5.0


def test_without_missing_evidence_a_far_percept_is_a_new_object(mem, mug_views):
    """With no (or not enough) negative evidence, a mug 1 m away is another mug."""
    front, _ = mug_views
    for absences in (0, 1):
        objects = ObjectMap(SMALL_VISIBLE)
        objects.integrate([front], 1.0)
        _mark_missing(mem, objects, objects.objects[1].center, absences)
        (update,) = objects.integrate([mem.percept("mug", front.points + [0.0, 1.0, 0.0])], 5.0)
        assert update.kind == "new" and len(objects.objects) == 2, absences
        assert objects.objects[1].moves == []


def test_a_missing_object_does_not_claim_another_kind(mem, mug_views):
    """A missing mug does not become a book found elsewhere."""
    front, _ = mug_views
    objects = ObjectMap(SMALL_VISIBLE)
    objects.integrate([front], 1.0)
    _mark_missing(mem, objects, objects.objects[1].center, 2)
    (update,) = objects.integrate([mem.percept("book", front.points + [0.0, 1.0, 0.0])], 5.0)
    assert update.kind == "new" and objects.objects[1].moves == []


def test_not_missing_when_the_same_kind_is_seen_there(mem, mug_views):
    """Depth past the place does not count while a percept of the same kind is at the place (and resets the count)."""
    front, side = mug_views
    objects = ObjectMap(SMALL_VISIBLE)
    objects.integrate([front], 1.0)
    center = objects.objects[1].center
    depth, pose = _far_depth(mem, center, 1.0)
    objects.note_absences([], depth, mem.camera, pose)
    assert objects.objects[1].missing_count == 1
    for _ in range(3):
        assert objects.note_absences([side], depth, mem.camera, pose) == []
    assert objects.objects[1].missing_count == 0
    objects.note_absences([mem.percept("book", side.points)], depth, mem.camera, pose)
    assert objects.objects[1].missing_count == 1  # another kind of thing there is no evidence for the mug


@pytest.mark.parametrize(
    ("extra", "missing"),
    [(-0.5, False), (-0.3, False), (0.0, True), (0.01, True), (1.0, True)],
    ids=["occluded", "occluded-closer", "at-object", "surface-behind", "see-through"],
)
def test_missing_only_where_the_place_is_in_plain_view(mem, mug_views, extra, missing):
    """A surface well in front of the place hides it (no evidence); a clear view of it with no mug detected is evidence."""
    front, _ = mug_views
    objects = ObjectMap(SMALL_VISIBLE)
    objects.integrate([front], 1.0)
    depth, pose = _far_depth(mem, objects.objects[1].center, extra)
    for _ in range(3):
        objects.note_absences([], depth, mem.camera, pose)
    assert (objects.objects[1].missing_count == 3) is missing


def test_not_missing_when_out_of_view_or_unmeasured(mem, mug_views):
    """Behind the camera, outside the image, or at a pixel with no depth reading, the place is not observed."""
    front, _ = mug_views
    objects = ObjectMap(SMALL_VISIBLE)
    objects.integrate([front], 1.0)
    center = objects.objects[1].center
    far = np.full((mem.camera.height, mem.camera.width), 50.0, np.float32)
    behind = mem.look_at(EYE, 2 * EYE - center)  # looking straight away from it
    aside = mem.look_at(EYE, EYE + [0.0, 3.0, -1.2])  # looking 90 degrees to the left
    for pose in (behind, aside):
        for _ in range(3):
            assert objects.note_absences([], far, mem.camera, pose) == []
    depth, pose = _far_depth(mem, center, 1.0)
    depth[:] = 0.0
    for _ in range(3):
        objects.note_absences([], depth, mem.camera, pose)
    assert objects.objects[1].missing_count == 0


def test_note_absences_reports_each_object_once(mem, mug_views):
    """An object is reported as just missing once, when the count reaches missing_after, not on every frame."""
    front, _ = mug_views
    objects = ObjectMap(ObjectMapConfig(missing_after=3, min_expected_pixels=10))
    objects.integrate([front], 1.0)
    reports = _mark_missing(mem, objects, objects.objects[1].center, 5)
    assert reports == [[], [], [1], [], []]


def test_note_absences_on_an_empty_map(mem):
    """An empty map has nothing to miss."""
    depth, pose = _far_depth(mem, MUG_CENTER, 1.0)
    assert ObjectMap(SMALL_VISIBLE).note_absences([], depth, mem.camera, pose) == []


def test_found_elsewhere_first_then_seen_missing_is_a_move(mem, mug_views):
    """A mug seen 3 m away (filed as new) and then missing from its old place is folded back as a move of the old mug."""
    front, _ = mug_views
    objects = ObjectMap(SMALL_VISIBLE)
    (old,) = objects.integrate([front], 1.0)
    old_center = objects.objects[old.object_id].center.copy()
    # Behind the camera that later sees the old place empty, so only the old place gathers negative evidence.
    (new,) = objects.integrate([mem.percept("mug", front.points + [-3.0, 0.0, 0.0])], 5.0)
    assert new.kind == "new" and len(objects.objects) == 2
    depth, pose = _far_depth(mem, old_center, 1.0)
    updates = [u for _ in range(2) for u in objects.note_absences([], depth, mem.camera, pose)]
    assert [(u.kind, u.object_id) for u in updates] == [("missing", old.object_id), ("moved", old.object_id)]
    assert list(objects.objects) == [old.object_id]
    obj = objects.objects[old.object_id]
    np.testing.assert_allclose(obj.center, old_center + [-3.0, 0.0, 0.0], atol=1e-9)
    assert len(obj.moves) == 1 and obj.moves[0][0] == 5.0


def test_a_new_object_far_from_a_missing_one_of_another_kind_stays_new(mem, mug_views):
    """Only the same kind of thing is folded back: a book appearing elsewhere is not the missing mug."""
    front, _ = mug_views
    objects = ObjectMap(SMALL_VISIBLE)
    (old,) = objects.integrate([front], 1.0)
    objects.integrate([mem.percept("book", front.points + [-3.0, 0.0, 0.0])], 5.0)
    depth, pose = _far_depth(mem, objects.objects[old.object_id].center, 1.0)
    updates = [u for _ in range(2) for u in objects.note_absences([], depth, mem.camera, pose)]
    assert [u.kind for u in updates] == ["missing"] and len(objects.objects) == 2


def test_touching_partial_views_of_one_object_merge(mem):
    """Two fragments of one box filed apart (no shared voxels) merge once a view joins them."""
    rng = np.random.default_rng(0)
    left = rng.uniform([0.0, 0.0, 0.7], [0.1, 0.2, 0.8], (200, 3))
    right = left + [0.25, 0.0, 0.0]
    whole = rng.uniform([0.0, 0.0, 0.7], [0.35, 0.2, 0.8], (400, 3))
    objects = ObjectMap(ObjectMapConfig(max_gap=0.02))
    objects.integrate([mem.percept("box", left)], 1.0)
    objects.integrate([mem.percept("box", right)], 2.0)
    assert len(objects.objects) == 2
    objects.integrate([mem.percept("box", whole)], 3.0)
    assert len(objects.objects) == 1
    (obj,) = objects.objects.values()
    assert obj.observations == 3 and obj.first_seen == 1.0


def test_an_object_too_small_in_view_is_not_missing(mem, mug_views):
    """A place in view but where the object would cover too few pixels to be detected is no evidence."""
    front, _ = mug_views
    objects = ObjectMap(ObjectMapConfig(min_expected_pixels=200))
    objects.integrate([front], 1.0)
    assert _mark_missing(mem, objects, objects.objects[1].center, 3) == [[], [], []]


def test_a_flat_object_gone_from_a_table_is_missing(mem):
    """Keys 1 cm thick: the table behind them reads only a centimetre deeper, yet their absence counts."""
    keys = mem.percept("keys", mem.box_faces([1.5, 0.0, 0.755], [0.08, 0.05, 0.005], ("+z",), 0.01))
    objects = ObjectMap(SMALL_VISIBLE)
    objects.integrate([keys], 1.0)
    center = objects.objects[1].center
    pose = mem.look_at(EYE, center)
    table = np.full((mem.camera.height, mem.camera.width), float(np.linalg.norm(center - EYE)) + 0.01, np.float32)
    reports = [[u.object_id for u in objects.note_absences([], table, mem.camera, pose) if u.kind == "missing"] for _ in range(2)]
    assert reports == [[], [1]]
