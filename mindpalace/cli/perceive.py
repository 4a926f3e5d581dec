"""`mindpalace perceive`: build spatial memory from a recorded RGB-D sequence (TUM or Redwood/Open3D format).

Writes the fused cloud (PLY), the costmap (PNG), the scene graph (JSON and PNG), and summary.json with
`depth_agreement`: the fused map's depth predicted at each frame's pose against that frame's measured
depth (the share of pixels valid in both that agree within 5 cm).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from mindpalace.cli.args import integer, output_folder, positive_number

if TYPE_CHECKING:
    from mindpalace.core.types import Observation
    from mindpalace.memory.spatial.memory import SpatialMemory

log = logging.getLogger(__name__)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("perceive", help="build a map from a recorded RGB-D sequence")
    parser.add_argument("--rgbd", type=Path, required=True, help="sequence folder (TUM or Redwood/Open3D layout)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--format", choices=("tum", "redwood"), default=None, help="default: detected from the folder")
    parser.add_argument("--segmenter", default="depth_clusters", help="ground_truth needs frames with segmentation")
    parser.add_argument(
        "--depth-scale", type=positive_number, default=None, help="depth PNG units per metre (default: the format's)"
    )
    parser.add_argument("--max-frames", type=integer(1), default=None)
    parser.add_argument("--voxel", type=positive_number, default=0.01, help="fused cloud voxel size in metres")
    parser.add_argument(
        "--up",
        choices=("auto", "keep"),
        default="auto",
        help="auto: rotate the world so the cameras' mean up is +z (REP-103); keep: use the poses as given",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mindpalace.core.geometry import gravity_alignment, make_pose
    from mindpalace.memory.spatial.memory import SpatialMemory, SpatialMemoryConfig
    from mindpalace.perception.pipeline import FrameError, PerceptionConfig, PerceptionPipeline
    from mindpalace.perception.rgbd_io import open_sequence

    options = {"format": args.format, "depth_scale": args.depth_scale, "max_frames": args.max_frames}
    sequence = open_sequence(args.rgbd, **options)
    if args.up == "auto":
        align = gravity_alignment([f.pose for f in sequence.frames])
        sequence = open_sequence(args.rgbd, **options, world_transform=align)
        floor = estimate_floor_z(list(sequence)[:10])
        if floor is not None:
            align = make_pose(np.eye(3), np.array([0.0, 0.0, -floor])) @ align
            sequence = open_sequence(args.rgbd, **options, world_transform=align)
        log.info("world aligned to gravity; floor %s", "at z = 0" if floor is not None else "not found")
    frames = list(sequence)
    if not frames:
        raise ValueError(f"no frames found in {args.rgbd}")
    pipeline = PerceptionPipeline(PerceptionConfig(segmenter=args.segmenter, depth_stride=2))
    memory = SpatialMemory(SpatialMemoryConfig(surface_voxel=args.voxel))
    used, skipped = [], []
    for index, obs in enumerate(tqdm(frames, desc="perceive", unit="frame")):
        try:
            memory.update(pipeline.process(obs))
            used.append(index)
        except FrameError as error:
            log.warning("frame %d skipped: %s", index, error)
            skipped.append({"frame": index, "reason": str(error)})
    if not used:
        raise ValueError(f"every frame of {args.rgbd} was rejected; see the log")
    with output_folder(args.out):
        summary = _write_outputs(memory, frames, used, skipped, args.out)
    print(json.dumps({k: v for k, v in summary.items() if k != "skipped"}))
    return 0


def _write_outputs(
    memory: SpatialMemory, frames: list[Observation], used: list[int], skipped: list[dict[str, Any]], out: Path
) -> dict[str, Any]:
    """The fused cloud, costmap, scene graph and summary.json of the map built from `frames`."""
    from mindpalace.memory.spatial.topdown import costmap_image, save_image, scene_graph_image
    from mindpalace.perception.depth_render import depth_agreement, render_depth

    memory.surface.save_ply(out / "fused_cloud.ply")
    navigation, known = memory.occupancy.costmap()
    save_image(costmap_image(known, navigation), out / "costmap.png")
    memory.segment_rooms()
    graph = memory.scene_graph()
    memory.scene.save_json(out / "scene_graph.json")
    frontiers = memory.occupancy.frontiers()
    save_image(scene_graph_image(graph, navigation, known, [f.centroid for f in frontiers]), out / "scene_graph.png")

    cloud = memory.surface.points()
    agreements = []
    for index in used:
        obs = frames[index]
        predicted = render_depth(cloud, obs.camera, obs.camera_pose)
        agreements.append(float(depth_agreement(predicted, obs.depth, tolerance=0.05)[0]))
    summary = {
        "frames": len(frames),
        "frames_used": len(used),
        "skipped": skipped,
        "depth_agreement": round(float(np.mean(agreements)), 4),
        "depth_agreement_per_frame": [round(a, 4) for a in agreements],
        "fused_points": len(cloud),
        "objects": len(memory.objects.objects),
        "rooms": [room.name for room in memory.rooms],
        "frontiers": len(frontiers),
        "outputs": ["fused_cloud.ply", "costmap.png", "scene_graph.json", "scene_graph.png"],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def estimate_floor_z(frames: list, bin_size: float = 0.03, min_share: float = 0.03) -> float | None:
    """The floor's height in a z-up world: the lowest height holding at least `min_share` of the depth points.

    Returns None when no level is that populated (the floor was never in view).
    """
    from mindpalace.core.geometry import backproject

    heights = []
    for obs in frames:
        stride = np.zeros(obs.depth.shape, dtype=bool)
        stride[::4, ::4] = True
        heights.append(backproject(obs.depth, obs.camera, obs.camera_pose, stride)[:, 2])
    z = np.concatenate(heights) if heights else np.zeros(0)
    if len(z) < 100:
        return None
    counts, edges = np.histogram(z, bins=np.arange(z.min(), z.max() + bin_size, bin_size))
    populated = np.nonzero(counts >= min_share * len(z))[0]
    return float((edges[populated[0]] + edges[populated[0] + 1]) / 2) if len(populated) else None
