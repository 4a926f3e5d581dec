"""An open-vocabulary detector (OWLv2 or OWL-ViT, through transformers) as a segmenter.

The detector gives boxes with a score per text query. Masks come from the box ("box") or, by default,
from depth ("depth"): inside the box, the pixels whose depth lies in a band around the depth of the
surface at the box's centre. That is a cheap stand-in for a mask head (no SAM weights are needed) and
works because a detector's box is centred on its object while what lies behind the object is further
away. Where the box has no depth reading the mask is the box.

Weights are read from a local directory only (the embedded default is offline): save the model and its
processor with `save_pretrained` on a machine with a network and copy the folder (see
docs/perception_open_vocab.md). torch and transformers are imported when a segmenter is built, not when
this module is imported; the box and mask helpers below need numpy only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.types import Observation, Segment

log = logging.getLogger(__name__)

# Common household objects: the default text queries when none are given. Written with spaces; the
# segment labels are the same words joined by underscores ("cell phone" -> "cell_phone").
DEFAULT_QUERIES: tuple[str, ...] = (
    "mug", "cup", "bowl", "plate", "bottle", "soda can", "spoon", "fork", "knife", "apple", "orange",
    "banana", "cereal box", "sponge", "book", "notebook", "pen", "laptop", "cell phone", "remote control",
    "keys", "wallet", "glasses", "watch", "headphones", "toothbrush", "soap", "shampoo", "towel",
    "medicine bottle", "candle", "vase", "plant pot", "teddy bear", "tennis ball", "toy car", "alarm clock",
    "scissors", "stapler", "hat",
)  # fmt: skip

# config.json model_type -> (model class, processor class) in transformers.
SUPPORTED_MODEL_TYPES: dict[str, tuple[str, str]] = {
    "owlv2": ("Owlv2ForObjectDetection", "Owlv2Processor"),
    "owlvit": ("OwlViTForObjectDetection", "OwlViTProcessor"),
}
MASK_MODES = ("box", "depth")
_MIN_BOX_SIDE = 1e-3  # pixels: a thinner box (after clipping to the image) is dropped as degenerate
_WEIGHTS_HINT = (
    "The weights must be downloaded beforehand, on a machine with a network, e.g. "
    "`Owlv2ForObjectDetection.from_pretrained('google/owlv2-base-patch16-ensemble').save_pretrained(DIR)` and "
    "`Owlv2Processor.from_pretrained('google/owlv2-base-patch16-ensemble').save_pretrained(DIR)`, "
    "then DIR copied here (see docs/perception_open_vocab.md)."
)


@dataclass(frozen=True)
class Detection:
    """One detector box. box: (x0, y0, x1, y1) float pixels, the image spans [0, W] x [0, H].

    label: the query with underscores for spaces; query: the index of the query in `queries`.
    """

    box: tuple[float, float, float, float]
    score: float
    label: str
    query: int


# ---------------------------------------------------------------------------------------------------
# Box and mask helpers (numpy only)


def box_iou(boxes_a: NDArray[np.floating], boxes_b: NDArray[np.floating]) -> NDArray[np.float64]:
    """IoU of every box in (N, 4) `boxes_a` with every box in (M, 4) `boxes_b`, as (N, M).

    Boxes are (x0, y0, x1, y1); an inverted box has zero area. Two boxes whose union is empty have IoU 0.
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes: NDArray[np.floating], scores: NDArray[np.floating], iou_threshold: float) -> NDArray[np.int64]:
    """Greedy non-maximum suppression: the indices kept, best score first.

    A box is dropped when its IoU with a better box already kept is above `iou_threshold`.
    Ties in score go to the lower index, so the result is deterministic.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if boxes.shape[0] != scores.shape[0]:
        raise ValueError(f"nms: {boxes.shape[0]} boxes but {scores.shape[0]} scores")
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        if not rest.size:
            break
        ious = box_iou(boxes[best : best + 1], boxes[rest])[0]
        order = rest[ious <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def classwise_nms(
    boxes: NDArray[np.floating],
    scores: NDArray[np.floating],
    labels: NDArray[np.integer],
    iou_threshold: float,
    max_detections: int | None = None,
) -> NDArray[np.int64]:
    """NMS within each label (boxes of different labels never suppress each other).

    Returns the kept indices over all labels, best score first (ties: lower index first), at most
    `max_detections` of them.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != scores.shape[0]:
        raise ValueError(f"classwise_nms: {labels.shape[0]} labels but {scores.shape[0]} scores")
    kept = [np.nonzero(labels == label)[0][nms(np.asarray(boxes)[labels == label], scores[labels == label], iou_threshold)]
            for label in np.unique(labels)]  # fmt: skip
    keep = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    keep = np.sort(keep)  # by index, so that the stable sort below breaks score ties by index
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    if max_detections is not None:
        keep = keep[: max(0, int(max_detections))]
    return keep.astype(np.int64)


def clip_boxes(boxes: NDArray[np.floating], height: int, width: int) -> NDArray[np.float64]:
    """(N, 4) boxes clipped to the image [0, width] x [0, height]."""
    clipped = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    clipped[:, 0::2] = np.clip(clipped[:, 0::2], 0.0, float(width))
    clipped[:, 1::2] = np.clip(clipped[:, 1::2], 0.0, float(height))
    return clipped


def box_pixels(box: Sequence[float], shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The pixel rows r0:r1 and columns c0:c1 a box covers in an image of `shape` (H, W), or None.

    Pixel (r, c) covers [c, c+1) x [r, r+1); every pixel the box overlaps is in. A box with no area
    inside the image gives None.
    """
    height, width = int(shape[0]), int(shape[1])
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(np.isfinite([x0, y0, x1, y1])):
        return None
    x0, x1 = max(x0, 0.0), min(x1, float(width))
    y0, y1 = max(y0, 0.0), min(y1, float(height))
    if x1 <= x0 or y1 <= y0:
        return None
    c0, c1 = int(np.floor(x0)), int(np.ceil(x1))
    r0, r1 = int(np.floor(y0)), int(np.ceil(y1))
    return r0, min(r1, height), c0, min(c1, width)


def box_mask(box: Sequence[float], shape: tuple[int, int]) -> NDArray[np.bool_]:
    """(H, W) bool: the pixels the box covers (all False for a box outside the image)."""
    mask = np.zeros((int(shape[0]), int(shape[1])), dtype=bool)
    pixels = box_pixels(box, shape)
    if pixels is not None:
        r0, r1, c0, c1 = pixels
        mask[r0:r1, c0:c1] = True
    return mask


def depth_mask(
    depth: NDArray[np.floating] | None,
    box: Sequence[float],
    band_m: float = 0.15,
    band_rel: float = 0.1,
    center_fraction: float = 0.5,
) -> NDArray[np.bool_]:
    """(H, W) bool: the pixels in `box` on the surface at the box's centre, judged by depth alone.

    The reference depth is the median (the lower middle value, so always one that occurs) of the valid
    depths in the central `center_fraction` of the box (width and height each), or of the whole box
    when that centre has none; `center_fraction=1` takes the whole box. The mask is the box's valid
    pixels within max(band_m, band_rel * reference) metres of it. Valid depth: finite and > 0. Without
    any valid depth in the box (or without a depth image) the mask is the box.
    """
    if depth is None:
        raise ValueError("depth_mask needs a depth image; use box_mask without one")
    depth = np.asarray(depth)
    mask = np.zeros(depth.shape[:2], dtype=bool)
    pixels = box_pixels(box, depth.shape[:2])
    if pixels is None:
        return mask
    r0, r1, c0, c1 = pixels
    patch = depth[r0:r1, c0:c1].astype(np.float64)
    valid = np.isfinite(patch) & (patch > 0)
    if not valid.any():
        mask[r0:r1, c0:c1] = True
        return mask
    fraction = float(np.clip(center_fraction, 0.0, 1.0))
    h, w = patch.shape
    ch, cw = max(1, round(h * fraction)), max(1, round(w * fraction))
    cr, cc = (h - ch) // 2, (w - cw) // 2
    centre, centre_valid = patch[cr : cr + ch, cc : cc + cw], valid[cr : cr + ch, cc : cc + cw]
    values = centre[centre_valid] if centre_valid.any() else patch[valid]
    reference = float(np.quantile(values, 0.5, method="lower"))
    band = max(float(band_m), float(band_rel) * reference)
    mask[r0:r1, c0:c1] = valid & (np.abs(np.where(valid, patch, 0.0) - reference) <= band)
    return mask


# ---------------------------------------------------------------------------------------------------
# Loading


def check_model_dir(model_path: str | Path) -> tuple[Path, str]:
    """The local model directory and its config's model_type; ValueError if it cannot be used."""
    if model_path is None or str(model_path) == "":
        raise ValueError(f"the open_vocab segmenter needs model_path, a local directory. {_WEIGHTS_HINT}")
    path = Path(model_path).expanduser()
    if not path.is_dir():
        raise ValueError(f"open_vocab segmenter: model directory {str(path)!r} does not exist. {_WEIGHTS_HINT}")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ValueError(f"open_vocab segmenter: {str(path)!r} has no config.json, so it holds no saved model. {_WEIGHTS_HINT}")
    try:
        model_type = str(json.loads(config_file.read_text()).get("model_type", ""))
    except (OSError, ValueError, AttributeError) as error:
        raise ValueError(f"open_vocab segmenter: cannot read {str(config_file)!r}: {error}") from error
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"open_vocab segmenter: {str(path)!r} holds a {model_type or 'untyped'!r} model; "
            f"supported model types: {', '.join(SUPPORTED_MODEL_TYPES)}"
        )
    return path, model_type


def _query_text(query: str) -> str:
    return " ".join(str(query).replace("_", " ").split())


# ---------------------------------------------------------------------------------------------------
# The segmenter


class OpenVocabSegmenter:
    """Segments the objects named by text queries with OWLv2 / OWL-ViT.

    model_path: a local directory holding a saved model and processor (config.json with model_type
    "owlv2" or "owlvit"); nothing is downloaded. queries: category names (spaces or underscores);
    None = DEFAULT_QUERIES. score_threshold: the least detection score kept (a score must exceed it).
    nms_iou: boxes of one label overlapping a better one by more than this IoU are dropped.
    max_detections: the most segments per frame, best first. mask_mode: "depth" (default) or "box".
    prompt_template: how a query is put to the text encoder ("a photo of a {}"; "{}" = the bare name).
    depth_band_m, depth_band_rel, depth_center_fraction: see `depth_mask`.
    """

    def __init__(
        self,
        model_path: str,
        queries: list[str] | None = None,
        score_threshold: float = 0.2,
        nms_iou: float = 0.5,
        max_detections: int = 30,
        device: str = "cpu",
        mask_mode: str = "depth",
        *,
        prompt_template: str = "a photo of a {}",
        depth_band_m: float = 0.15,
        depth_band_rel: float = 0.1,
        depth_center_fraction: float = 0.5,
        batch_size: int = 8,
    ) -> None:
        if mask_mode not in MASK_MODES:
            raise ValueError(f"mask_mode must be one of {MASK_MODES}, got {mask_mode!r}")
        if not 0.0 <= float(nms_iou) <= 1.0:
            raise ValueError(f"nms_iou must be in [0, 1], got {nms_iou!r}")
        if int(max_detections) < 0:
            raise ValueError(f"max_detections must be >= 0, got {max_detections!r}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if "{}" not in prompt_template:
            raise ValueError(f"prompt_template must contain '{{}}' for the query, got {prompt_template!r}")
        texts: list[str] = []
        for query in DEFAULT_QUERIES if queries is None else queries:
            text = _query_text(query)
            if not text:
                raise ValueError(f"empty text query in {queries!r}")
            if text not in texts:
                texts.append(text)
        if not texts:
            raise ValueError("the open_vocab segmenter needs at least one text query")

        path, model_type = check_model_dir(model_path)
        self.model_path = path
        self.model_type = model_type
        self.queries: tuple[str, ...] = tuple(texts)
        self.labels: tuple[str, ...] = tuple(text.replace(" ", "_") for text in texts)
        self.prompts: tuple[str, ...] = tuple(prompt_template.format(text) for text in texts)
        self.score_threshold = float(score_threshold)
        self.nms_iou = float(nms_iou)
        self.max_detections = int(max_detections)
        self.mask_mode = mask_mode
        self.depth_band_m = float(depth_band_m)
        self.depth_band_rel = float(depth_band_rel)
        self.depth_center_fraction = float(depth_center_fraction)
        self.batch_size = int(batch_size)

        try:
            import torch
            import transformers
        except ImportError as error:
            raise ImportError(
                f"the open_vocab segmenter needs torch and transformers ({error}). Install them with: "
                "pip install transformers torch"
            ) from error
        self._torch = torch
        model_class_name, processor_class_name = SUPPORTED_MODEL_TYPES[model_type]
        model_class = getattr(transformers, model_class_name)
        processor_class = getattr(transformers, processor_class_name)
        try:
            self.processor = processor_class.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError, TypeError) as error:
            raise ValueError(
                f"open_vocab segmenter: cannot load the {processor_class_name} (tokenizer and image processor) "
                f"from {str(path)!r}: {error}. Save the processor into the same directory. {_WEIGHTS_HINT}"
            ) from error
        try:
            self.model = model_class.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as error:
            raise ValueError(
                f"open_vocab segmenter: cannot load {model_class_name} weights from {str(path)!r}: {error}. {_WEIGHTS_HINT}"
            ) from error
        self.device = torch.device(device)
        self.model.to(self.device).eval()

        # The text queries are tokenised once; every frame reuses them.
        tokenizer = self.processor.tokenizer
        max_length = int(self.model.config.text_config.max_position_embeddings)
        model_max = getattr(tokenizer, "model_max_length", None)
        if isinstance(model_max, int) and 0 < model_max < max_length:
            max_length = model_max
        tokens = tokenizer(list(self.prompts), padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
        self._input_ids = tokens["input_ids"].to(self.device)
        self._attention_mask = tokens["attention_mask"].to(self.device)
        log.info("open_vocab segmenter: %s from %s, %d queries, device %s", model_type, path, len(self.queries), self.device)

    def __repr__(self) -> str:
        return (
            f"OpenVocabSegmenter(model_path={str(self.model_path)!r}, model_type={self.model_type!r}, "
            f"queries={len(self.queries)}, mask_mode={self.mask_mode!r})"
        )

    # -- detection ---------------------------------------------------------------------------------

    def detect(self, images: Sequence[NDArray[np.uint8]]) -> list[list[Detection]]:
        """Detections for each (H, W, 3) uint8 image: thresholded, class-wise NMS, best first, capped."""
        results: list[list[Detection]] = []
        for start in range(0, len(images), self.batch_size):
            results.extend(self._detect_batch(list(images[start : start + self.batch_size])))
        return results

    def _detect_batch(self, images: list[NDArray[np.uint8]]) -> list[list[Detection]]:
        torch = self._torch
        if not images:
            return []
        arrays = []
        for image in images:
            array = np.ascontiguousarray(image)
            if array.ndim != 3 or array.shape[2] != 3:
                raise ValueError(f"open_vocab segmenter needs (H, W, 3) RGB images, got shape {array.shape}")
            arrays.append(array.astype(np.uint8, copy=False))
        sizes = [(int(a.shape[0]), int(a.shape[1])) for a in arrays]
        image_inputs = self.processor.image_processor(images=arrays, input_data_format="channels_last", return_tensors="pt")
        pixel_values = image_inputs["pixel_values"].to(self.device)
        batch = len(arrays)
        with torch.inference_mode():
            outputs = self.model(
                input_ids=self._input_ids.repeat(batch, 1),
                attention_mask=self._attention_mask.repeat(batch, 1),
                pixel_values=pixel_values,
            )
            processed = self.processor.image_processor.post_process_object_detection(
                outputs=outputs, threshold=self.score_threshold, target_sizes=sizes
            )
        detections = []
        for (height, width), result in zip(sizes, processed):
            boxes = clip_boxes(result["boxes"].detach().float().cpu().numpy(), height, width)
            scores = result["scores"].detach().float().cpu().numpy().astype(np.float64)
            labels = result["labels"].detach().cpu().numpy().astype(np.int64)
            sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
            has_area = (sides > _MIN_BOX_SIDE) & np.isfinite(scores)
            boxes, scores, labels = boxes[has_area], scores[has_area], labels[has_area]
            keep = classwise_nms(boxes, scores, labels, self.nms_iou, self.max_detections)
            detections.append(
                [
                    Detection(
                        box=tuple(float(v) for v in boxes[i]),  # type: ignore[arg-type]
                        score=float(np.clip(scores[i], 0.0, 1.0)),
                        label=self.labels[int(labels[i])],
                        query=int(labels[i]),
                    )
                    for i in keep
                ]
            )
        return detections

    # -- segmentation ------------------------------------------------------------------------------

    def segment(self, obs: Observation) -> list[Segment]:
        return self.segment_batch([obs])[0]

    def segment_batch(self, observations: Sequence[Observation]) -> list[list[Segment]]:
        """`segment` for several frames, run through the detector `batch_size` at a time."""
        detections = self.detect([obs.rgb for obs in observations])
        return [self._segments(obs, found) for obs, found in zip(observations, detections)]

    def _segments(self, obs: Observation, detections: list[Detection]) -> list[Segment]:
        shape = obs.rgb.shape[:2]
        depth: Any = obs.depth if self.mask_mode == "depth" else None
        if depth is not None and np.asarray(depth).shape[:2] != shape:
            raise ValueError(f"depth image {np.asarray(depth).shape} does not match the RGB image {obs.rgb.shape}")
        segments = []
        for detection in detections:
            if depth is None:
                mask = box_mask(detection.box, shape)
            else:
                mask = depth_mask(depth, detection.box, self.depth_band_m, self.depth_band_rel, self.depth_center_fraction)
            if not mask.any():
                continue
            segments.append(Segment(mask=mask, label=detection.label, score=detection.score, source_id=0))
        return segments
