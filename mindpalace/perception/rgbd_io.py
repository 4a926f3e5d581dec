"""Readers of recorded RGB-D sequences (Redwood/Open3D and TUM RGB-D folders) into `Observation`s.

Each frame becomes an `Observation` with rgb (H, W, 3) uint8, depth (H, W) float32 metres along the
optical axis (0 = no reading), the pinhole `CameraInfo`, `camera_pose` (camera optical frame -> the
dataset's world frame, 4x4 float64), `base_pose` equal to `camera_pose` (a hand-held camera has no
base), `time_s` (seconds since the sequence's first frame) and no segmentation. `extras` holds
"format", "frame_index", "rgb_path", "depth_path" and, for TUM, "timestamp" (the depth image's).

Formats
-------
redwood (Open3D's layout)
    ``color/`` (or ``image/``, ``rgb/``) with .jpg/.png, ``depth/`` with depth images (millimetres, depth
    scale 1000, by default), ``trajectory.log`` (per frame a header line "i i n" and the 4 rows of the
    camera-to-world 4x4), pairing from ``rgbd.match`` when present, else both folders in sorted order.
    Intrinsics: an Open3D PinholeCameraIntrinsic JSON ({"width", "height", "intrinsic_matrix":
    9 numbers, column-major}) in the folder or its parent, or the one given; PrimeSense defaults
    (fx = fy = 525, cx = 319.5, cy = 239.5) when there is none. No timestamps: ``time_s = i / fps``.
tum (TUM RGB-D benchmark)
    ``rgb.txt``, ``depth.txt`` ("timestamp path" lines) and ``groundtruth.txt`` ("timestamp tx ty tz
    qx qy qz qw", the colour camera's optical centre in the world). Colour and depth are associated
    one-to-one by nearest timestamp within 0.02 s (as TUM's associate.py), and each pair takes the
    ground-truth pose nearest to its depth timestamp within 0.02 s (pairs without one are dropped).
    Depth scale 5000; Freiburg default intrinsics (525, 525, 319.5, 239.5) unless a camera file is
    given. Also the single-pair form (a folder with one ``*color*``/``*rgb*`` image and one
    ``*depth*`` image, as TUM_color.png + TUM_depth.png): one frame with the identity pose; pass
    ``format="tum"`` for it, it is not auto-detected.

Depth files are 16-bit PNG or TIFF, float (32-bit) TIFF, or .npy arrays. How their values become
metres is the depth encoding (`DEPTH_ENCODINGS`): ``mm`` (raw / 1000, Redwood's default), ``tum`` (raw /
5000, TUM's default), ``m`` (float metres), ``mm_bitshift3`` (SUN RGB-D: millimetres with the 16 bits
rotated by 3). ``depth_scale`` alone reads raw / depth_scale. The first frame read is checked: depth
whose median no room sensor gives (under 1 cm or over 100 m) raises `RGBDReadError` naming the encoding
used; a median outside 0.2-15 m, or nearly every value a multiple of 8 (bit-rotated depth read as
linear), gives a warning. Intrinsics can be given as a camera file, "fx,fy,cx,cy" or a `CameraInfo`.

The world frame is the dataset's own (Redwood's is y up; TUM's motion-capture frame is z up). Pass
``world_transform`` (e.g. `Y_UP_TO_Z_UP`) to map it into a REP-103 z-up world.

Errors: a missing folder or file, a folder with no image of a type read here (the message lists the
types it holds), mismatched image/pose counts, malformed text files, implausible intrinsics and a pose
that is not rigid raise `RGBDReadError` (a `ValueError`) naming the file (and the frame). A single
corrupt frame (unreadable image, colour/depth size mismatch, size not that of the intrinsics) is
logged and skipped when other frames read fine; when no frame reads (or the first three attempted
all fail), or with ``strict=True``, it raises instead.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mindpalace.core.frame_checks import FrameError, check_camera, depth_units_problem
from mindpalace.core.geometry import is_rigid_transform, quat_to_matrix
from mindpalace.core.types import CameraInfo, Observation

log = logging.getLogger(__name__)

FORMATS = ("redwood", "tum")
REDWOOD_DEPTH_SCALE = 1000.0
TUM_DEPTH_SCALE = 5000.0
#: Open3D's PrimeSenseDefault intrinsics, also the TUM benchmark's "default" (ROS) calibration.
PRIMESENSE_DEFAULT = CameraInfo(640, 480, 525.0, 525.0, 319.5, 239.5)
FREIBURG_DEFAULT = PRIMESENSE_DEFAULT
TUM_MAX_DIFFERENCE_S = 0.02
#: Maps a y-up world (x, y, z) to a REP-103 z-up world: x <- z, y <- x, z <- y (a proper rotation).
Y_UP_TO_Z_UP = np.array(
    [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]], dtype=np.float64
)

COLOR_DIRS = ("color", "image", "rgb")
COLOR_SUFFIXES = (".jpg", ".jpeg", ".png")
DEPTH_SUFFIXES = (".png", ".tif", ".tiff", ".npy")
DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


@dataclass(frozen=True)
class DepthEncoding:
    """How a depth file's raw values become metres: metres = decoded raw / units_per_metre.

    bitshift3: the 16 bits are rotated right by 3 first, as SUN RGB-D stores millimetres
    (``(raw >> 3) | (raw << 13)``, its read3dPoints.m).
    """

    name: str
    units_per_metre: float
    bitshift3: bool = False
    meaning: str = ""


DEPTH_ENCODINGS = {
    "mm": DepthEncoding(
        "mm", REDWOOD_DEPTH_SCALE, meaning="16-bit millimetres (Redwood, Open3D, ScanNet, RealSense, Azure Kinect)"
    ),
    "tum": DepthEncoding("tum", TUM_DEPTH_SCALE, meaning="16-bit units of 1/5000 m (the TUM RGB-D benchmark)"),
    "m": DepthEncoding("m", 1.0, meaning="float metres (a 32-bit float TIFF or .npy)"),
    "mm_bitshift3": DepthEncoding("mm_bitshift3", 1000.0, bitshift3=True, meaning="SUN RGB-D's bit-rotated 16-bit millimetres"),
}
FORMAT_DEPTH_ENCODING = {"redwood": "mm", "tum": "tum"}
# This share of at least this many non-zero raw values a multiple of 8: the low 3 bits are empty, as in bit-rotated depth.
BITSHIFT_SHARE = 0.95
BITSHIFT_EVIDENCE_PIXELS = 1000
# A rotation read from a text file with 6-7 significant digits is orthonormal only to about 1e-6.
POSE_TOLERANCE = 1e-4
# With no frame read yet, this many failures in a row means the sequence, not a frame, is broken.
FAILURES_BEFORE_GIVING_UP = 3


class RGBDReadError(ValueError):
    """A sequence that cannot be read: the message names the file (and the frame)."""


class _FrameError(RGBDReadError):
    """One frame that cannot be read; a sequence skips it (with a warning) or gives up."""


@dataclass(frozen=True)
class FrameRef:
    """Where one frame's images are and what pose and time it has (before any image is read)."""

    index: int
    rgb_path: Path
    depth_path: Path
    pose: NDArray[np.float64]
    time_s: float
    timestamp: float | None = None


@dataclass
class RGBDSequence:
    """An opened sequence: its frames are known and validated, their images are read on iteration."""

    path: Path
    format: str
    camera: CameraInfo
    camera_source: str
    depth_scale: float
    frames: list[FrameRef] = field(default_factory=list)
    strict: bool = False
    depth_encoding: DepthEncoding = DEPTH_ENCODINGS["mm"]
    encoding_given: bool = False  # the caller chose the encoding or scale: no guessing about bit-rotated depth

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[Observation]:
        yielded = 0
        failures: list[str] = []
        for ref in self.frames:
            try:
                obs = _load_frame(ref, self.camera, self.camera_source, self.depth_encoding, self.depth_scale, self.format)
                if yielded == 0:
                    self._check_depth_units(ref, obs)
            except _FrameError as error:
                reason = f"frame {ref.index}: {error}"
                if self.strict:
                    raise RGBDReadError(reason) from None
                failures.append(reason)
                if yielded == 0 and len(failures) >= min(FAILURES_BEFORE_GIVING_UP, len(self.frames)):
                    raise RGBDReadError(_give_up_message(self.path, failures)) from None
                log.warning("%s: skipping corrupt frame %d: %s", self.path, ref.index, error)
                continue
            yielded += 1
            yield obs
        if yielded == 0 and failures:
            raise RGBDReadError(_give_up_message(self.path, failures))
        if failures:
            log.warning("%s: read %d frames, skipped %d corrupt", self.path, yielded, len(failures))

    def describe_depth(self) -> str:
        """How this sequence reads depth, in words: the encoding and the scale."""
        rotated = "bit-rotated by 3, " if self.depth_encoding.bitshift3 else ""
        return f"depth encoding {self.depth_encoding.name!r} ({rotated}raw / {self.depth_scale:g} = metres)"

    def _check_depth_units(self, ref: FrameRef, obs: Observation) -> None:
        """On the first frame: refuse depth no room has, warn when it is unusual or looks bit-rotated."""
        hint = f"{ref.depth_path} was read with {self.describe_depth()}; set depth_encoding (--depth-encoding) or depth_scale"
        problem = depth_units_problem(obs.depth)
        if problem is not None:
            level, message = problem
            if level == "error":
                raise RGBDReadError(f"{message} {hint}")
            log.warning("%s %s", message, hint)
        if not self.encoding_given and not self.depth_encoding.bitshift3 and _looks_bit_rotated(_read_raw_depth(ref.depth_path)):
            log.warning(
                "%s: nearly every depth value is a multiple of 8, as in SUN RGB-D's bit-rotated millimetres: if so, pass "
                "depth_encoding='mm_bitshift3' (--depth-encoding mm_bitshift3); read now with %s",
                ref.depth_path,
                self.describe_depth(),
            )


def _give_up_message(path: Path, failures: list[str]) -> str:
    shown = "; ".join(failures[:3])
    return f"{path}: no frame could be read ({len(failures)} failed): {shown}"


# --- entry points -----------------------------------------------------------------------------


def detect_format(path: str | Path) -> str:
    """The format of a sequence folder, "redwood" or "tum"; `RGBDReadError` when neither or missing."""
    folder = _existing_folder(path)
    if (folder / "rgb.txt").is_file() or (folder / "depth.txt").is_file():
        return "tum"
    if (folder / "depth").is_dir() and any((folder / name).is_dir() for name in COLOR_DIRS):
        return "redwood"
    names = ", ".join(sorted(p.name for p in folder.iterdir())[:10]) or "nothing"
    raise RGBDReadError(
        f"{folder}: cannot tell the format: expected rgb.txt + depth.txt (tum) or color/ + depth/ "
        f"(redwood); it holds {names}. A single colour/depth pair needs format='tum' (--format tum)"
    )


def open_sequence(
    path: str | Path,
    format: str | None = None,
    depth_scale: float | None = None,
    intrinsics: CameraInfo | str | Path | Sequence[float] | None = None,
    max_frames: int | None = None,
    *,
    depth_encoding: str | None = None,
    stride: int = 1,
    fps: float = 30.0,
    strict: bool = False,
    world_transform: NDArray[np.float64] | None = None,
) -> RGBDSequence:
    """Find and validate a sequence's frames, poses and intrinsics; images are read on iteration.

    `depth_encoding`: a name of `DEPTH_ENCODINGS` (mm, tum, m, mm_bitshift3); default the format's
    (redwood: mm, tum: tum). `depth_scale` (raw units per metre) alone reads raw / depth_scale; with an
    encoding it must agree with it. `intrinsics`: a CameraInfo, a camera file (Open3D JSON, a JSON with
    fx/fy/cx/cy, or text with "fx: ..." keys or the numbers fx fy cx cy [width height]), the string
    "fx,fy,cx,cy[,width,height]" or those numbers; without a size they take the first image's. `stride`
    keeps every n-th frame, `max_frames` the first n of those. `fps` times Redwood frames, which carry no
    timestamps. `world_transform` (4x4 rigid) is applied to every pose: world <- dataset world.
    """
    folder = _existing_folder(path)
    fmt = detect_format(folder) if format is None else format.lower()
    if fmt not in FORMATS:
        raise RGBDReadError(f"unknown RGB-D format {format!r}; known: {', '.join(FORMATS)}")
    if stride < 1:
        raise RGBDReadError(f"stride must be >= 1, got {stride}")
    if max_frames is not None and max_frames < 0:
        raise RGBDReadError(f"max_frames must be >= 0, got {max_frames}")
    encoding, scale = resolve_depth_encoding(fmt, depth_encoding, depth_scale)
    frames = _redwood_frames(folder, fps) if fmt == "redwood" else _tum_frames(folder)
    camera, source = _resolve_intrinsics(folder, fmt, intrinsics, frames[0])
    if world_transform is not None:
        transform = np.asarray(world_transform, dtype=np.float64)
        if not is_rigid_transform(transform):
            raise RGBDReadError("world_transform is not a rigid 4x4 transform")
        frames = [_with_pose(ref, transform @ ref.pose) for ref in frames]
    frames = frames[::stride]
    if max_frames is not None:
        frames = frames[:max_frames]
    given = depth_encoding is not None or depth_scale is not None
    return RGBDSequence(folder, fmt, camera, source, scale, frames, strict, encoding, given)


def resolve_depth_encoding(fmt: str, depth_encoding: str | None, depth_scale: float | None) -> tuple[DepthEncoding, float]:
    """The encoding and the scale (raw units per metre) a sequence of format `fmt` is read with."""
    if depth_scale is not None:
        try:
            scale = float(depth_scale)
        except (TypeError, ValueError):
            scale = math.nan
        if not math.isfinite(scale) or scale <= 0:
            raise RGBDReadError(f"depth_scale must be a positive number, got {depth_scale!r}")
    if depth_encoding is None:
        default = DEPTH_ENCODINGS[FORMAT_DEPTH_ENCODING[fmt]]
        return default, default.units_per_metre if depth_scale is None else scale
    name = str(depth_encoding).lower()
    if name not in DEPTH_ENCODINGS:
        known = "; ".join(f"{e.name}: {e.meaning}" for e in DEPTH_ENCODINGS.values())
        raise RGBDReadError(f"unknown depth encoding {depth_encoding!r}; known: {known}")
    encoding = DEPTH_ENCODINGS[name]
    if depth_scale is not None and scale != encoding.units_per_metre:
        raise RGBDReadError(
            f"depth_scale {scale:g} contradicts depth encoding {encoding.name!r} ({encoding.units_per_metre:g} units per "
            "metre): give one of them"
        )
    return encoding, encoding.units_per_metre


def read_sequence(
    path: str | Path,
    format: str | None = None,
    depth_scale: float | None = None,
    intrinsics: CameraInfo | str | Path | Sequence[float] | None = None,
    max_frames: int | None = None,
    **options: object,
) -> Iterator[Observation]:
    """The frames of a Redwood or TUM folder as `Observation`s (see the module docstring).

    The folder, the pairing, the poses and the intrinsics are checked now (`RGBDReadError`, a
    ValueError); the images are read lazily as the iterator advances. `options` are those of
    `open_sequence` (depth_encoding, stride, fps, strict, world_transform).
    """
    return iter(open_sequence(path, format, depth_scale, intrinsics, max_frames, **options))  # type: ignore[arg-type]


# --- intrinsics -------------------------------------------------------------------------------


def load_intrinsics(path: str | Path, width: int | None = None, height: int | None = None) -> CameraInfo:
    """A camera file -> CameraInfo. JSON: Open3D's {"width", "height", "intrinsic_matrix" (column-major
    3x3)} or flat {"fx", "fy", "cx", "cy", "width", "height"}. Text: "fx: 525" style keys (also
    "Camera.fx: ...") or the numbers "fx fy cx cy [width height]". `width`/`height` fill in a file
    that has no image size (default 640x480)."""
    file = Path(path)
    if not file.is_file():
        raise RGBDReadError(f"{file}: no such camera file")
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise RGBDReadError(f"{file}: cannot read the camera file: {error}") from error
    values: dict[str, float] = {}
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            if "intrinsic_matrix" in data:
                matrix = np.asarray(data["intrinsic_matrix"], dtype=np.float64)
                if matrix.size != 9:
                    raise ValueError(f"intrinsic_matrix has {matrix.size} numbers, not 9")
                k = matrix.reshape(3, 3).T  # column-major
                values = {"fx": k[0, 0], "fy": k[1, 1], "cx": k[0, 2], "cy": k[1, 2]}
            else:
                values = {key: float(data[key]) for key in ("fx", "fy", "cx", "cy")}
            for key in ("width", "height"):
                if key in data:
                    values[key] = float(data[key])
        else:
            for key in ("fx", "fy", "cx", "cy", "width", "height"):
                match = re.search(rf"(?:^|[\s.]){key}\s*[:=]\s*([-+0-9.eE]+)", text, re.MULTILINE)
                if match:
                    values[key] = float(match.group(1))
            if not all(key in values for key in ("fx", "fy", "cx", "cy")):
                numbers = [float(n) for n in re.findall(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?", text)]
                if len(numbers) not in (4, 6):
                    raise ValueError("expected fx fy cx cy [width height] or 'fx: ...' lines")
                values = dict(zip(("fx", "fy", "cx", "cy", "width", "height"), numbers))
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as error:
        raise RGBDReadError(f"{file}: not a camera intrinsics file: {error}") from error
    w = int(values.get("width", width or PRIMESENSE_DEFAULT.width))
    h = int(values.get("height", height or PRIMESENSE_DEFAULT.height))
    camera = CameraInfo(w, h, float(values["fx"]), float(values["fy"]), float(values["cx"]), float(values["cy"]))
    return _checked_camera(camera, str(file))


def parse_intrinsics(spec: str | Sequence[float], width: int | None = None, height: int | None = None) -> CameraInfo:
    """ "fx,fy,cx,cy[,width,height]" (or those numbers) -> CameraInfo; without a size, `width` x `height`."""
    if isinstance(spec, str):
        try:
            numbers = [float(token) for token in spec.replace(",", " ").split()]
        except ValueError:
            numbers = []
    else:
        numbers = [float(n) for n in spec]
    if len(numbers) not in (4, 6):
        raise RGBDReadError(f"intrinsics {spec!r}: expected fx,fy,cx,cy or fx,fy,cx,cy,width,height (or a camera file)")
    fx, fy, cx, cy = numbers[:4]
    w, h = (
        (numbers[4], numbers[5])
        if len(numbers) == 6
        else (width or PRIMESENSE_DEFAULT.width, height or PRIMESENSE_DEFAULT.height)
    )
    if w != int(w) or h != int(h):
        raise RGBDReadError(f"intrinsics {spec!r}: the image size must be whole pixels")
    return _checked_camera(CameraInfo(int(w), int(h), fx, fy, cx, cy), f"intrinsics {spec!r}")


def _numbers_only(text: str) -> bool:
    """True for "525,525,319.5,239.5" (numbers and separators), not for a file name."""
    tokens = text.replace(",", " ").split()
    try:
        [float(token) for token in tokens]
    except ValueError:
        return False
    return bool(tokens)


def _checked_camera(camera: CameraInfo, where: str) -> CameraInfo:
    """The camera, or RGBDReadError naming `where` when it has no image size, a bad focal length or principal point."""
    if camera.width <= 0 or camera.height <= 0:
        raise RGBDReadError(f"{where}: implausible intrinsics {camera}: no image size")
    try:
        check_camera(camera, (camera.height, camera.width))
    except FrameError as error:
        raise RGBDReadError(f"{where}: implausible intrinsics {camera}: {error}") from None
    return camera


def _resolve_intrinsics(
    folder: Path, fmt: str, intrinsics: CameraInfo | str | Path | Sequence[float] | None, first: FrameRef
) -> tuple[CameraInfo, str]:
    """The camera and where it came from; a file or numbers without an image size take the first frame's."""
    if isinstance(intrinsics, CameraInfo):
        return _checked_camera(intrinsics, "the given CameraInfo"), "the given CameraInfo"
    if intrinsics is not None:
        width, height = _image_size(first.rgb_path) or (None, None)
        # A string is a file name unless it is only numbers (and no such file exists).
        if isinstance(intrinsics, Path) or (
            isinstance(intrinsics, str) and (Path(intrinsics).is_file() or not _numbers_only(intrinsics))
        ):
            return load_intrinsics(intrinsics, width, height), str(intrinsics)
        return parse_intrinsics(intrinsics, width, height), f"intrinsics {intrinsics!r}"
    if fmt == "redwood":
        for directory in (folder, folder.parent):
            candidates = sorted(directory.glob("*.json"), key=lambda p: (not _looks_like_camera(p.name), p.name))
            for candidate in candidates:
                try:
                    data = json.loads(candidate.read_text())
                except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                    continue
                if isinstance(data, dict) and "intrinsic_matrix" in data:
                    return load_intrinsics(candidate), str(candidate)
        log.warning("%s: no intrinsics JSON here or in the parent folder; using PrimeSense defaults", folder)
        return PRIMESENSE_DEFAULT, "PrimeSense defaults"
    return FREIBURG_DEFAULT, "Freiburg defaults"


def _image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from an image's header, or None when it cannot be read (the frame's own read says why)."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _looks_like_camera(name: str) -> bool:
    return any(word in name.lower() for word in ("camera", "intrinsic"))


# --- redwood ----------------------------------------------------------------------------------


def _redwood_frames(folder: Path, fps: float) -> list[FrameRef]:
    depth_dir = folder / "depth"
    color_dir = next((folder / name for name in COLOR_DIRS if (folder / name).is_dir()), None)
    if color_dir is None or not depth_dir.is_dir():
        raise RGBDReadError(f"{folder}: a redwood folder needs color/ (or image/, rgb/) and depth/ sub-folders")
    match_file = folder / "rgbd.match"
    if match_file.is_file():
        pairs = _read_match(match_file, folder)
    else:
        colors = _sorted_files(color_dir, COLOR_SUFFIXES)
        depths = _sorted_files(depth_dir, DEPTH_SUFFIXES)
        for directory, found, suffixes, what in (
            (color_dir, colors, COLOR_SUFFIXES, "colour"),
            (depth_dir, depths, DEPTH_SUFFIXES, "depth"),
        ):
            if not found:
                raise RGBDReadError(
                    f"{directory}: no {what} images of a type read here ({', '.join(suffixes)}); it holds {_file_types(directory)}"
                )
        if len(colors) != len(depths):
            raise RGBDReadError(
                f"{folder}: {len(colors)} colour images in {color_dir} but {len(depths)} depth images in {depth_dir} "
                f"(they hold {_file_types(color_dir)} and {_file_types(depth_dir)})"
            )
        pairs = list(zip(colors, depths))
    if not pairs:
        raise RGBDReadError(f"{match_file}: no frames listed")
    trajectory = folder / "trajectory.log"
    if trajectory.is_file():
        poses = read_trajectory_log(trajectory)
        if len(poses) != len(pairs):
            raise RGBDReadError(f"{trajectory}: {len(poses)} poses for {len(pairs)} frames")
    else:
        log.warning("%s: no trajectory.log; every frame gets the identity pose", folder)
        poses = [np.eye(4) for _ in pairs]
    return [FrameRef(i, rgb, depth, pose, i / fps) for i, ((rgb, depth), pose) in enumerate(zip(pairs, poses))]


def _read_match(match_file: Path, folder: Path) -> list[tuple[Path, Path]]:
    """rgbd.match lines: two paths relative to the folder, the depth one first (Open3D's order);
    a line whose second path lies under depth/ is read the other way round."""
    pairs = []
    for number, line in enumerate(_read_text(match_file).splitlines(), start=1):
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        if len(tokens) != 2:
            raise RGBDReadError(f"{match_file}:{number}: expected 'depth_path color_path', got {line!r}")
        first, second = folder / tokens[0], folder / tokens[1]
        depth, color = (second, first) if Path(tokens[1]).parts[0] == "depth" else (first, second)
        pairs.append((color, depth))
    return pairs


def read_trajectory_log(path: str | Path) -> list[NDArray[np.float64]]:
    """Poses of an Open3D/Redwood .log file: per frame a header line of 3 integers and 4 rows of a
    4x4 camera-to-world matrix. Each must be rigid (rounding up to 1e-4 is repaired)."""
    file = Path(path)
    lines = [(n, line) for n, line in enumerate(_read_text(file).splitlines(), start=1) if line.strip()]
    if len(lines) % 5:
        raise RGBDReadError(f"{file}: {len(lines)} non-empty lines, not a multiple of 5 (a header and 4 matrix rows per pose)")
    poses = []
    for frame in range(len(lines) // 5):
        header_number, header = lines[5 * frame]
        if len(header.split()) != 3 or not all(re.fullmatch(r"-?\d+", token) for token in header.split()):
            raise RGBDReadError(f"{file}:{header_number}: expected a header of 3 integers for frame {frame}, got {header!r}")
        rows = []
        for number, line in lines[5 * frame + 1 : 5 * frame + 5]:
            try:
                row = [float(token) for token in line.split()]
            except ValueError:
                row = []
            if len(row) != 4:
                raise RGBDReadError(f"{file}:{number}: expected 4 numbers of frame {frame}'s pose, got {line!r}")
            rows.append(row)
        poses.append(_checked_pose(np.array(rows), f"{file}:{header_number + 1}: the pose of frame {frame}"))
    return poses


# --- tum --------------------------------------------------------------------------------------


def _tum_frames(folder: Path) -> list[FrameRef]:
    rgb_list, depth_list = folder / "rgb.txt", folder / "depth.txt"
    if not rgb_list.is_file() and not depth_list.is_file():
        return [_tum_single_pair(folder)]
    for file in (rgb_list, depth_list):
        if not file.is_file():
            raise RGBDReadError(f"{file}: missing (a TUM folder needs both rgb.txt and depth.txt)")
    rgbs = _read_timestamped_list(rgb_list)
    depths = _read_timestamped_list(depth_list)
    pairs = associate([t for t, _ in rgbs], [t for t, _ in depths], TUM_MAX_DIFFERENCE_S)
    if not pairs:
        raise RGBDReadError(
            f"{folder}: no colour timestamp of rgb.txt is within {TUM_MAX_DIFFERENCE_S} s of a depth timestamp of depth.txt"
        )
    ground_truth = folder / "groundtruth.txt"
    stamped: list[tuple[float, Path, Path, NDArray[np.float64]]] = []
    if ground_truth.is_file():
        times, poses = read_tum_trajectory(ground_truth)
        dropped = 0
        for i, j in pairs:
            t_depth = depths[j][0]
            k = _nearest(times, t_depth)
            if k is None or abs(times[k] - t_depth) > TUM_MAX_DIFFERENCE_S:
                dropped += 1
                continue
            stamped.append((t_depth, folder / rgbs[i][1], folder / depths[j][1], poses[k]))
        if dropped:
            log.warning(
                "%s: %d of %d frames have no ground-truth pose within %s s; dropped",
                folder,
                dropped,
                len(pairs),
                TUM_MAX_DIFFERENCE_S,
            )
        if not stamped:
            raise RGBDReadError(f"{ground_truth}: no pose within {TUM_MAX_DIFFERENCE_S} s of any frame")
    else:
        log.warning("%s: no groundtruth.txt; every frame gets the identity pose", folder)
        stamped = [(depths[j][0], folder / rgbs[i][1], folder / depths[j][1], np.eye(4)) for i, j in pairs]
    stamped.sort(key=lambda item: item[0])
    t0 = stamped[0][0]
    return [FrameRef(n, rgb, depth, pose, t - t0, t) for n, (t, rgb, depth, pose) in enumerate(stamped)]


def _tum_single_pair(folder: Path) -> FrameRef:
    files = [p for p in sorted(folder.iterdir()) if p.is_file()]
    depths = [p for p in files if "depth" in p.stem.lower() and p.suffix.lower() in DEPTH_SUFFIXES]
    colors = [
        p
        for p in files
        if "depth" not in p.stem.lower()
        and p.suffix.lower() in COLOR_SUFFIXES
        and ("color" in p.stem.lower() or "rgb" in p.stem.lower())
    ]
    if len(colors) != 1 or len(depths) != 1:
        raise RGBDReadError(
            f"{folder}: a TUM folder needs rgb.txt and depth.txt, or exactly one *color*/*rgb* image "
            f"({', '.join(COLOR_SUFFIXES)}) and one *depth* image ({', '.join(DEPTH_SUFFIXES)}); found {len(colors)} "
            f"colour and {len(depths)} depth images; it holds {_file_types(folder)}"
        )
    log.info("%s: a single colour/depth pair without a pose; it gets the identity pose", folder)
    return FrameRef(0, colors[0], depths[0], np.eye(4), 0.0, None)


def _read_timestamped_list(file: Path) -> list[tuple[float, str]]:
    entries = []
    for number, line in enumerate(_read_text(file).splitlines(), start=1):
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        try:
            stamp = float(tokens[0])
        except ValueError:
            stamp = math.nan
        if len(tokens) != 2 or not math.isfinite(stamp):
            raise RGBDReadError(f"{file}:{number}: expected 'timestamp filename', got {line!r}")
        entries.append((stamp, tokens[1]))
    if not entries:
        raise RGBDReadError(f"{file}: no entries")
    return entries


def read_tum_trajectory(path: str | Path) -> tuple[NDArray[np.float64], list[NDArray[np.float64]]]:
    """A TUM trajectory ("timestamp tx ty tz qx qy qz qw" lines) -> sorted timestamps and 4x4 poses."""
    file = Path(path)
    stamped = []
    for number, line in enumerate(_read_text(file).splitlines(), start=1):
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        try:
            values = [float(token) for token in tokens]
        except ValueError:
            values = []
        if len(values) != 8:
            raise RGBDReadError(f"{file}:{number}: expected 'timestamp tx ty tz qx qy qz qw', got {line!r}")
        quat = np.array(values[4:8])
        norm = float(np.linalg.norm(quat))
        where = f"{file}:{number}: the pose at t={tokens[0]}"
        if not np.all(np.isfinite(values)) or abs(norm - 1.0) > 1e-2:
            raise RGBDReadError(f"{where} is not a rigid transform (quaternion norm {norm:.4g}, not 1)")
        pose = np.eye(4)
        pose[:3, :3] = quat_to_matrix(quat)
        pose[:3, 3] = values[1:4]
        stamped.append((values[0], _checked_pose(pose, where)))
    if not stamped:
        raise RGBDReadError(f"{file}: no poses")
    stamped.sort(key=lambda item: item[0])
    return np.array([t for t, _ in stamped]), [pose for _, pose in stamped]


def associate(first: list[float], second: list[float], max_difference: float) -> list[tuple[int, int]]:
    """One-to-one pairs (i, j) of timestamps with |first[i] - second[j]| <= max_difference, the
    closest pairs taken first (TUM's associate.py), returned in time order of first[i]."""
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    order_b = np.argsort(b, kind="stable")
    sorted_b = b[order_b]
    candidates = []
    for i, t in enumerate(a):
        lo = np.searchsorted(sorted_b, t - max_difference, side="left")
        hi = np.searchsorted(sorted_b, t + max_difference, side="right")
        for k in range(lo, hi):
            candidates.append((abs(t - sorted_b[k]), i, int(order_b[k])))
    candidates.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j))
    return sorted(pairs, key=lambda pair: (a[pair[0]], pair[0]))


def _nearest(sorted_times: NDArray[np.float64], t: float) -> int | None:
    if len(sorted_times) == 0:
        return None
    k = int(np.searchsorted(sorted_times, t))
    options = [index for index in (k - 1, k) if 0 <= index < len(sorted_times)]
    return min(options, key=lambda index: abs(sorted_times[index] - t))


# --- shared helpers ---------------------------------------------------------------------------


def _read_text(file: Path) -> str:
    try:
        return file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise RGBDReadError(f"{file}: cannot read: {error}") from error


def _existing_folder(path: str | Path) -> Path:
    folder = Path(path)
    if not folder.exists():
        raise RGBDReadError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise RGBDReadError(f"{folder}: not a folder (an RGB-D sequence is a folder)")
    return folder


def _file_types(directory: Path) -> str:
    """What a folder holds, by file type: "5 .exr, 1 .txt" (or "nothing")."""
    counts: dict[str, int] = {}
    for path in directory.iterdir():
        kind = "sub-folder" if path.is_dir() else path.suffix.lower() or "without a suffix"
        counts[kind] = counts.get(kind, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{n} {kind}{'s' if kind == 'sub-folder' and n > 1 else ''}" for kind, n in ranked) or "nothing"


def _sorted_files(directory: Path, suffixes: tuple[str, ...]) -> list[Path]:
    def natural(p: Path) -> list[object]:
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", p.name)]

    return sorted((p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in suffixes), key=natural)


def _checked_pose(pose: NDArray[np.float64], where: str) -> NDArray[np.float64]:
    """A rigid 4x4 float64 (the rotation re-orthonormalised), or RGBDReadError naming `where`."""
    if not is_rigid_transform(pose, tol=POSE_TOLERANCE):
        raise RGBDReadError(f"{where} is not a rigid transform: {np.array2string(pose, precision=4)}")
    u, _, vt = np.linalg.svd(pose[:3, :3])
    fixed = np.array(pose, dtype=np.float64)
    fixed[:3, :3] = u @ vt
    fixed[3] = [0.0, 0.0, 0.0, 1.0]
    return fixed


def _with_pose(ref: FrameRef, pose: NDArray[np.float64]) -> FrameRef:
    return FrameRef(ref.index, ref.rgb_path, ref.depth_path, pose, ref.time_s, ref.timestamp)


def _open_image(path: Path) -> Image.Image:
    try:
        image = Image.open(path)
        image.load()
    except FileNotFoundError:
        raise _FrameError(f"{path}: no such file") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise _FrameError(f"{path}: unreadable image: {error}") from None
    return image


def read_color(path: str | Path) -> NDArray[np.uint8]:
    """(H, W, 3) uint8 of a colour image (grey, palette and alpha images are converted)."""
    image = _open_image(Path(path))
    if image.mode in DEPTH_MODES or image.mode == "F":
        raise _FrameError(f"{path}: a single-channel {image.mode} image, not colour (colour and depth swapped?)")
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def read_depth(path: str | Path, depth_scale: float, encoding: DepthEncoding | None = None) -> NDArray[np.float32]:
    """(H, W) float32 metres of a depth file (16-bit or float PNG/TIFF, or .npy): decoded raw / depth_scale.

    An `encoding` with bitshift3 (mm_bitshift3) rotates the bits first; the scale is `depth_scale`. 0 and
    non-finite or negative raw values are "no reading" (0).
    """
    raw = _read_raw_depth(Path(path))
    if encoding is not None and encoding.bitshift3:
        if not np.issubdtype(raw.dtype, np.integer) or raw.min(initial=0) < 0 or raw.max(initial=0) > 0xFFFF:
            raise _FrameError(f"{path}: depth encoding {encoding.name!r} needs 16-bit integer depth, got {raw.dtype}")
        bits = raw.astype(np.uint32)
        raw = ((bits >> 3) | (bits << 13)) & 0xFFFF
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(raw) & (raw > 0)
    depth = raw.astype(np.float32) / np.float32(depth_scale)
    depth[~valid] = 0.0
    return depth


def _read_raw_depth(path: Path) -> NDArray[np.number]:
    """The depth file's values as stored: (H, W) integers or floats."""
    suffix = path.suffix.lower()
    if suffix not in DEPTH_SUFFIXES:
        raise _FrameError(f"{path}: {suffix or 'no suffix'} is not a depth file type read here ({', '.join(DEPTH_SUFFIXES)})")
    if suffix == ".npy":
        try:
            raw = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise _FrameError(f"{path}: no such file") from None
        except (OSError, ValueError) as error:
            raise _FrameError(f"{path}: unreadable depth array: {error}") from None
        if raw.ndim != 2 or not (np.issubdtype(raw.dtype, np.integer) or np.issubdtype(raw.dtype, np.floating)):
            raise _FrameError(f"{path}: a depth array is (H, W) numbers, got shape {raw.shape} {raw.dtype}")
        return raw
    image = _open_image(path)
    if image.mode not in DEPTH_MODES:
        raise _FrameError(
            f"{path}: not a depth image (mode {image.mode}; 16-bit or float single-channel expected; colour and depth swapped?)"
        )
    return np.asarray(image)


def _looks_bit_rotated(raw: NDArray[np.number]) -> bool:
    """Nearly every non-zero value a multiple of 8: the low 3 bits hold only what lies beyond 8.192 m, as after
    SUN RGB-D's rotation (linear depth has an eighth of its values there)."""
    if not np.issubdtype(raw.dtype, np.integer):
        return False
    readings = raw[raw > 0]
    return bool(
        readings.size >= BITSHIFT_EVIDENCE_PIXELS and np.count_nonzero(readings % 8 == 0) >= BITSHIFT_SHARE * readings.size
    )


def _load_frame(
    ref: FrameRef, camera: CameraInfo, camera_source: str, encoding: DepthEncoding, depth_scale: float, fmt: str
) -> Observation:
    rgb = read_color(ref.rgb_path)
    depth = read_depth(ref.depth_path, depth_scale, encoding)
    if depth.shape != rgb.shape[:2]:
        raise _FrameError(
            f"{ref.depth_path}: depth is {depth.shape[1]}x{depth.shape[0]} but colour {ref.rgb_path} "
            f"is {rgb.shape[1]}x{rgb.shape[0]}"
        )
    if depth.shape != (camera.height, camera.width):
        raise _FrameError(
            f"{ref.depth_path}: image is {depth.shape[1]}x{depth.shape[0]} but the intrinsics "
            f"({camera_source}) are for {camera.width}x{camera.height}; give the camera's (--intrinsics FILE or fx,fy,cx,cy)"
        )
    pose = ref.pose.copy()
    extras: dict[str, object] = {
        "format": fmt,
        "frame_index": ref.index,
        "rgb_path": str(ref.rgb_path),
        "depth_path": str(ref.depth_path),
    }
    if ref.timestamp is not None:
        extras["timestamp"] = ref.timestamp
    return Observation(
        rgb=rgb,
        depth=depth,
        camera=camera,
        camera_pose=pose,
        base_pose=pose.copy(),
        time_s=float(ref.time_s),
        segmentation=None,
        extras=extras,
    )


__all__ = [
    "DEPTH_ENCODINGS",
    "FORMATS",
    "FREIBURG_DEFAULT",
    "PRIMESENSE_DEFAULT",
    "REDWOOD_DEPTH_SCALE",
    "TUM_DEPTH_SCALE",
    "Y_UP_TO_Z_UP",
    "DepthEncoding",
    "FrameRef",
    "RGBDReadError",
    "RGBDSequence",
    "associate",
    "detect_format",
    "load_intrinsics",
    "open_sequence",
    "parse_intrinsics",
    "read_color",
    "read_depth",
    "read_sequence",
    "read_trajectory_log",
    "read_tum_trajectory",
    "resolve_depth_encoding",
]
