"""The open-vocabulary segmenter: box/mask helpers on hand-made inputs, and the whole segmenter on tiny,
randomly initialised OWLv2 / OWL-ViT models built here (no real weights exist on this machine, and
nothing is downloaded). With random weights the detections are meaningless; these tests check shapes,
ranges, thresholds, NMS, masks, loading errors and determinism, not detection quality."""

from __future__ import annotations

import os
import string
import subprocess
import sys

import numpy as np
import pytest

from mindpalace.core.types import CameraInfo, Observation
from mindpalace.perception.segmenters.open_vocab import (
    DEFAULT_QUERIES,
    box_iou,
    box_mask,
    box_pixels,
    classwise_nms,
    clip_boxes,
    depth_mask,
    nms,
)

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

QUERIES = ["mug", "cell_phone", "remote control", "apple"]
NEAR, FAR = 1.2, 6.0


# ---------------------------------------------------------------------------------------------------
# helpers: numpy only


def test_box_iou_hand_made():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 5]], dtype=float)  # the second has no area
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 5]], dtype=float)
    iou = box_iou(a, b)
    assert iou.shape == (2, 4)
    np.testing.assert_allclose(iou[0], [1.0, 50 / 150, 0.0, 0.0])
    np.testing.assert_allclose(iou[1], [0.0, 0.0, 0.0, 0.0])  # empty union -> 0, not NaN


def test_nms_keeps_best_of_overlapping_and_separate_boxes():
    boxes = np.array(
        [
            [0, 0, 10, 10],  # 0: 0.6
            [1, 0, 11, 10],  # 1: 0.9, IoU with 0 is 90/110 = 0.82
            [0, 0, 10, 5],  # 2: 0.7, IoU with 1 is 45/100 = 0.45
            [50, 50, 60, 60],  # 3: 0.1, alone
        ],
        dtype=float,
    )
    scores = np.array([0.6, 0.9, 0.7, 0.1])
    assert nms(boxes, scores, 0.5).tolist() == [1, 2, 3]
    assert nms(boxes, scores, 0.3).tolist() == [1, 3]  # 2 overlaps 1 by 0.45 > 0.3
    assert nms(boxes, scores, 1.0).tolist() == [1, 2, 0, 3]  # nothing suppressed, best first
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


def test_nms_ties_go_to_the_lower_index():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    assert nms(boxes, np.array([0.5, 0.5, 0.5]), 0.5).tolist() == [0]
    keep = classwise_nms(boxes, np.array([0.5, 0.5, 0.5]), np.array([1, 0, 1]), 0.5)
    assert keep.tolist() == [0, 1]


def test_classwise_nms_only_suppresses_within_a_label():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [1, 1, 10, 10], [30, 30, 40, 40]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7, 0.95])
    labels = np.array([0, 1, 0, 1])
    # box 2 is suppressed by box 0 (same label); box 1 overlaps box 0 fully but has another label
    assert classwise_nms(boxes, scores, labels, 0.5).tolist() == [3, 0, 1]
    assert classwise_nms(boxes, scores, labels, 0.5, max_detections=2).tolist() == [3, 0]
    assert classwise_nms(boxes, scores, labels, 0.5, max_detections=0).tolist() == []
    assert classwise_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=int), 0.5).tolist() == []


def test_clip_boxes_and_box_pixels():
    clipped = clip_boxes(np.array([[-5.0, -1.0, 120.0, 30.0]]), height=20, width=100)
    np.testing.assert_allclose(clipped, [[0.0, 0.0, 100.0, 20.0]])
    assert box_pixels((2.5, 1.2, 4.1, 3.0), (10, 10)) == (1, 3, 2, 5)  # every pixel the box touches
    assert box_pixels((8.0, 8.0, 20.0, 20.0), (10, 10)) == (8, 10, 8, 10)
    assert box_pixels((12.0, 0.0, 20.0, 5.0), (10, 10)) is None  # right of the image
    assert box_pixels((3.0, 3.0, 3.0, 6.0), (10, 10)) is None  # no width
    assert box_pixels((0.0, 0.0, np.nan, 5.0), (10, 10)) is None
    mask = box_mask((2.5, 1.2, 4.1, 3.0), (10, 10))
    assert mask.dtype == bool and mask.shape == (10, 10) and mask.sum() == 2 * 3
    assert not box_mask((12.0, 0.0, 20.0, 5.0), (10, 10)).any()


def _object_on_far_background(shape=(40, 60)):
    """A near object (rows 10:30, cols 20:40) in front of a far wall, a few pixels without a reading."""
    depth = np.full(shape, FAR, dtype=np.float32)
    depth[10:30, 20:40] = NEAR + np.linspace(0.0, 0.05, 20, dtype=np.float32)[None, :]
    depth[15, 25] = 0.0  # no reading
    depth[16, 26] = np.nan  # no reading
    return depth


def test_depth_mask_keeps_the_centre_surface_and_drops_far_depth():
    depth = _object_on_far_background()
    box = (15.0, 5.0, 45.0, 35.0)  # the object plus a margin of wall
    mask = depth_mask(depth, box)
    expected = np.zeros_like(mask)
    expected[10:30, 20:40] = True
    expected[15, 25] = expected[16, 26] = False  # invalid depth is never in a depth mask
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == bool and mask.shape == depth.shape
    assert not (mask & (depth > NEAR + 1.0)).any()
    assert not (mask & ~box_mask(box, depth.shape)).any()


def test_depth_mask_reference_comes_from_the_box_centre():
    depth = _object_on_far_background()
    # A box where the wall is the majority (the object fills its centre only): the whole-box median is
    # the wall, the centre's is the object.
    box = (10.0, 0.0, 50.0, 40.0)
    object_pixels = depth_mask(depth, box, center_fraction=0.5)
    assert object_pixels.sum() == 20 * 20 - 2 and np.nanmax(depth[object_pixels]) < NEAR + 0.1
    wall_pixels = depth_mask(depth, box, center_fraction=1.0)
    assert np.nanmin(depth[wall_pixels]) == pytest.approx(FAR)


def test_depth_mask_band_and_fallbacks():
    depth = np.full((10, 10), 2.0, dtype=np.float32)
    depth[:, 5:] = 2.1  # 10 cm behind: within the 15 cm band, out of a 5 cm one
    box = (0.0, 0.0, 10.0, 10.0)
    assert depth_mask(depth, box).sum() == 100
    narrow = depth_mask(depth, box, band_m=0.05, band_rel=0.0)
    assert narrow.sum() == 50 and (depth[narrow] == depth[narrow][0]).all()
    # relative band: 10 % of 2 m = 20 cm
    assert depth_mask(depth, box, band_m=0.0, band_rel=0.1).sum() == 100
    # no valid depth in the box: the mask is the box
    empty = np.zeros((10, 10), dtype=np.float32)
    np.testing.assert_array_equal(depth_mask(empty, (2, 2, 6, 5)), box_mask((2, 2, 6, 5), (10, 10)))
    # a box outside the image: nothing
    assert not depth_mask(depth, (20, 20, 30, 30)).any()
    with pytest.raises(ValueError):
        depth_mask(None, box)


def test_default_queries_name_common_household_objects():
    from mindpalace.envs.household.catalog import OBJECTS

    labels = {q.replace(" ", "_") for q in DEFAULT_QUERIES}
    assert len(labels) == len(DEFAULT_QUERIES)
    assert all("_" not in q for q in DEFAULT_QUERIES)
    # the built-in list is a copy (perception does not import the simulator); it names the catalog's objects
    assert labels == set(OBJECTS)


def test_module_imports_without_torch_or_transformers():
    code = (
        "import sys\n"
        "import mindpalace.perception.segmenters as registry\n"
        "import mindpalace.perception.segmenters.open_vocab as m\n"
        "assert registry.SEGMENTERS.entry('open_vocab')\n"
        "heavy = [name for name in ('torch', 'transformers') if name in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------------
# loading errors (no torch needed before the directory is checked)


def test_missing_model_dir_is_a_clear_error(tmp_path):
    from mindpalace.perception.segmenters.open_vocab import OpenVocabSegmenter

    missing = tmp_path / "owlv2-base-patch16-ensemble"
    with pytest.raises(ValueError, match="downloaded beforehand") as info:
        OpenVocabSegmenter(model_path=str(missing), queries=QUERIES)
    assert str(missing) in str(info.value)


def test_dir_without_config_or_of_another_model_is_a_clear_error(tmp_path):
    from mindpalace.perception.segmenters.open_vocab import OpenVocabSegmenter

    with pytest.raises(ValueError, match=r"no config\.json") as info:
        OpenVocabSegmenter(model_path=str(tmp_path), queries=QUERIES)
    assert str(tmp_path) in str(info.value)
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(ValueError, match="owlv2"):
        OpenVocabSegmenter(model_path=str(tmp_path), queries=QUERIES)


def test_bad_arguments_are_rejected(tmp_path):
    from mindpalace.perception.segmenters.open_vocab import OpenVocabSegmenter

    with pytest.raises(ValueError, match="mask_mode"):
        OpenVocabSegmenter(model_path=str(tmp_path), queries=QUERIES, mask_mode="sam")
    with pytest.raises(ValueError, match="query"):
        OpenVocabSegmenter(model_path=str(tmp_path), queries=[])
    with pytest.raises(ValueError, match="nms_iou"):
        OpenVocabSegmenter(model_path=str(tmp_path), queries=QUERIES, nms_iou=1.5)


# ---------------------------------------------------------------------------------------------------
# the segmenter on tiny random models


def _tiny_clip_tokenizer():
    """A CLIP BPE tokenizer over lowercase letters, built in memory (no download).

    The ids follow CLIP's layout where the model relies on it: id 0 is an ordinary token (a query whose
    first id is 0 counts as padding), and <|endoftext|> has the largest id (the text model pools at the
    argmax of the ids).
    """
    from transformers import CLIPTokenizer

    vocab = {"!": 0}
    for letter in string.ascii_lowercase:
        vocab[letter] = len(vocab)
    for letter in string.ascii_lowercase:
        vocab[letter + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16), vocab


def _save_tiny_model(directory, model_type: str, seed: int = 0):
    import torch
    import transformers

    tokenizer, vocab = _tiny_clip_tokenizer()
    common = {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 2}
    text = {
        **common, "vocab_size": len(vocab), "num_hidden_layers": 1, "max_position_embeddings": 16,
        "bos_token_id": vocab["<|startoftext|>"], "eos_token_id": vocab["<|endoftext|>"], "pad_token_id": vocab["<|endoftext|>"],
    }  # fmt: skip
    vision = {**common, "num_hidden_layers": 2, "image_size": 96, "patch_size": 16}
    torch.manual_seed(seed)
    if model_type == "owlv2":
        config = transformers.Owlv2Config(text_config=text, vision_config=vision, projection_dim=32)
        model = transformers.Owlv2ForObjectDetection(config)
        image_processor = transformers.Owlv2ImageProcessorPil(size={"height": 96, "width": 96})
        processor = transformers.Owlv2Processor(image_processor=image_processor, tokenizer=tokenizer)
    else:
        config = transformers.OwlViTConfig(text_config=text, vision_config=vision, projection_dim=32)
        model = transformers.OwlViTForObjectDetection(config)
        image_processor = transformers.OwlViTImageProcessorPil(
            size={"height": 96, "width": 96}, crop_size={"height": 96, "width": 96}
        )
        processor = transformers.OwlViTProcessor(image_processor=image_processor, tokenizer=tokenizer)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("open_vocab_models")
    return {kind: str(_save_tiny_model(root / kind, kind)) for kind in ("owlv2", "owlvit")}


def _household_like_observation(seed: int = 0, height: int = 120, width: int = 160) -> Observation:
    """A frame of a room: a far wall, a floor and a table getting nearer towards the bottom, and three
    small objects on the table, with a strip of missing depth. RGB is noise with coloured objects."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    depth = np.full((height, width), FAR, dtype=np.float32)
    rows = np.arange(height // 2, height, dtype=np.float32)
    depth[height // 2 :, :] = np.linspace(3.0, 1.0, rows.size, dtype=np.float32)[:, None]  # floor / table
    for r0, c0, colour in ((60, 20, (200, 30, 30)), (70, 80, (30, 30, 200)), (55, 120, (30, 200, 30))):
        depth[r0 : r0 + 15, c0 : c0 + 20] = NEAR
        rgb[r0 : r0 + 15, c0 : c0 + 20] = colour
    depth[:, :4] = 0.0  # no reading at the left edge
    camera = CameraInfo.from_horizontal_fov(width, height, np.deg2rad(90.0))
    return Observation(rgb=rgb, depth=depth, camera=camera, camera_pose=np.eye(4), base_pose=np.eye(4), time_s=0.0)


def _make(model_dir, **kwargs):
    from mindpalace.perception.segmenters.open_vocab import OpenVocabSegmenter

    return OpenVocabSegmenter(model_path=model_dir, **{"queries": QUERIES, **kwargs})


@pytest.mark.parametrize("kind", ["owlv2", "owlvit"])
def test_segment_returns_valid_segments(model_dirs, kind):
    segmenter = _make(model_dirs[kind], score_threshold=0.0, max_detections=12)
    assert segmenter.model_type == kind
    assert not segmenter.model.training
    obs = _household_like_observation()
    segments = segmenter.segment(obs)
    assert 0 < len(segments) <= 12
    labels = {q.replace(" ", "_") for q in QUERIES}
    for segment in segments:
        assert segment.mask.dtype == np.bool_ and segment.mask.shape == obs.rgb.shape[:2]
        assert segment.mask.any()
        assert 0.0 <= segment.score <= 1.0
        assert segment.label in labels
        assert segment.source_id == 0
    scores = [segment.score for segment in segments]
    assert scores == sorted(scores, reverse=True)


def test_score_threshold_above_one_finds_nothing(model_dirs):
    assert _make(model_dirs["owlv2"], score_threshold=1.01).segment(_household_like_observation()) == []


def test_threshold_and_max_detections(model_dirs):
    obs = _household_like_observation()
    everything = _make(model_dirs["owlv2"], score_threshold=0.0, max_detections=1000, nms_iou=1.0).detect([obs.rgb])[0]
    some = _make(model_dirs["owlv2"], score_threshold=0.3, max_detections=1000, nms_iou=1.0).detect([obs.rgb])[0]
    assert all(d.score > 0.3 for d in some) and len(some) <= len(everything)
    capped = _make(model_dirs["owlv2"], score_threshold=0.0, max_detections=3).segment(obs)
    assert len(capped) <= 3
    assert _make(model_dirs["owlv2"], score_threshold=0.0, max_detections=0).segment(obs) == []
    # after class-wise NMS no two boxes of one label overlap by more than nms_iou
    for detections in _make(model_dirs["owlv2"], score_threshold=0.0, max_detections=1000, nms_iou=0.5).detect([obs.rgb]):
        for label in {d.label for d in detections}:
            boxes = np.array([d.box for d in detections if d.label == label])
            iou = box_iou(boxes, boxes)
            np.fill_diagonal(iou, 0.0)
            assert (iou <= 0.5 + 1e-9).all()
        for d in detections:
            x0, y0, x1, y1 = d.box
            assert 0 <= x0 < x1 <= obs.rgb.shape[1] and 0 <= y0 < y1 <= obs.rgb.shape[0]


def test_depth_masks_lie_in_their_boxes_and_never_mix_near_and_far(model_dirs):
    obs = _household_like_observation()
    # Only two depths (and no readings): a depth mask holds one of them, never both.
    obs.depth = np.where(np.arange(obs.depth.shape[1])[None, :] < 80, NEAR, FAR).astype(np.float32) * (obs.depth > 0)
    by_box = _make(model_dirs["owlv2"], score_threshold=0.0, mask_mode="box").segment(obs)
    by_depth = _make(model_dirs["owlv2"], score_threshold=0.0, mask_mode="depth").segment(obs)
    assert len(by_box) == len(by_depth) > 0
    mixed_boxes = 0
    for boxed, segment in zip(by_box, by_depth):
        assert (boxed.label, boxed.score) == (segment.label, segment.score)
        assert not (segment.mask & ~boxed.mask).any()  # a subset of its box
        depths = obs.depth[segment.mask]
        valid = depths[depths > 0]
        if valid.size:
            assert np.unique(valid).size == 1  # the near or the far surface, never both
        box_depths = np.unique(obs.depth[boxed.mask])
        mixed_boxes += int(NEAR in box_depths and FAR in box_depths)
    assert mixed_boxes > 0  # the check above was exercised on boxes that straddle both surfaces


def _same_up_to_box_edges(a: np.ndarray, b: np.ndarray) -> bool:
    """Masks equal, or differing only on the outermost rows and columns of their union: a box edge within float
    noise of a pixel border may fall on either side of it."""
    differ = a ^ b
    if not differ.any():
        return True
    rows, cols = np.nonzero(a | b)
    dr, dc = np.nonzero(differ)
    return bool(np.all((dr == rows.min()) | (dr == rows.max()) | (dc == cols.min()) | (dc == cols.max())))


def test_deterministic_and_batched_equals_single(model_dirs):
    """The same frames give the same detections from a second model instance and from single-frame calls.

    Tolerance: scores within rtol 1e-5 + atol 1e-6 (a few float32 steps: another instance or batch size may
    sum in another order; on a fresh clone two instances differed by 1.2e-7); masks equal up to box edges.
    """
    frames = [_household_like_observation(seed) for seed in range(3)]
    segmenter = _make(model_dirs["owlv2"], score_threshold=0.0, batch_size=2)
    batched = segmenter.segment_batch(frames)
    again = _make(model_dirs["owlv2"], score_threshold=0.0).segment_batch(frames)
    singles = [segmenter.segment(frame) for frame in frames]
    for a, b, c in zip(batched, again, singles):
        assert [s.label for s in a] == [s.label for s in b] == [s.label for s in c]
        for other in (b, c):
            np.testing.assert_allclose([s.score for s in a], [s.score for s in other], rtol=1e-5, atol=1e-6)
            assert all(_same_up_to_box_edges(x.mask, y.mask) for x, y in zip(a, other))


def test_frames_of_other_sizes_and_without_depth(model_dirs):
    segmenter = _make(model_dirs["owlv2"], score_threshold=0.0)
    tall = _household_like_observation(height=90, width=50)
    assert all(s.mask.shape == (90, 50) for s in segmenter.segment(tall))
    no_depth = _household_like_observation()
    no_depth.depth = np.zeros_like(no_depth.depth)
    boxed = _make(model_dirs["owlv2"], score_threshold=0.0, mask_mode="box").segment(no_depth)
    for a, b in zip(segmenter.segment(no_depth), boxed):
        np.testing.assert_array_equal(a.mask, b.mask)  # no depth reading: the box


def test_dir_with_a_config_but_no_processor_or_weights_is_a_clear_error(model_dirs, tmp_path):
    import shutil

    shutil.copy(os.path.join(model_dirs["owlv2"], "config.json"), tmp_path / "config.json")
    with pytest.raises(ValueError, match="downloaded beforehand") as info:
        _make(str(tmp_path))
    assert str(tmp_path) in str(info.value)


def test_made_through_the_registry_with_default_queries(model_dirs):
    from mindpalace.perception.segmenters import SEGMENTERS

    segmenter = SEGMENTERS.make("open_vocab", model_path=model_dirs["owlv2"], score_threshold=0.0)
    assert segmenter.labels == tuple(q.replace(" ", "_") for q in DEFAULT_QUERIES)
    segments = segmenter.segment(_household_like_observation())
    assert segments and {s.label for s in segments} <= set(segmenter.labels)
    # queries may be written with underscores or spaces; labels always use underscores
    assert _make(model_dirs["owlv2"], queries=["soda_can", "soda can", "teddy bear"]).labels == ("soda_can", "teddy_bear")
