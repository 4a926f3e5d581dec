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
    from mindpalace.perception.rgbd_io import DEPTH_ENCODINGS

    encodings = "; ".join(f"{e.name}: {e.meaning}" for e in DEPTH_ENCODINGS.values())
    parser.add_argument(
        "--depth-encoding",
        choices=list(DEPTH_ENCODINGS),
        default=None,
        help=f"how the depth files hold metres ({encodings}); default: the format's (redwood mm, tum tum)",
    )
    parser.add_argument(
        "--depth-scale",
        type=positive_number,
        default=None,
        help="raw depth units per metre, read as raw / scale (instead of an encoding)",
    )
    parser.add_argument(
        "--intrinsics",
        default=None,
        metavar="FILE|fx,fy,cx,cy",
        help="the camera: a file (Open3D JSON, JSON or text with fx fy cx cy) or the numbers fx,fy,cx,cy[,width,height]; "
        "default: the folder's JSON (redwood) or 525,525,319.5,239.5",
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
    from mindpalace.core.config import Component
    from mindpalace.memory.spatial.memory import SpatialMemory, SpatialMemoryConfig
    from mindpalace.perception.alignment import aligned_sequence
    from mindpalace.perception.pipeline import FrameError, PerceptionConfig, PerceptionPipeline

    options = {
        "format": args.format,
        "depth_scale": args.depth_scale,
        "depth_encoding": args.depth_encoding,
        "intrinsics": args.intrinsics,
        "max_frames": args.max_frames,
    }
    sequence = aligned_sequence(args.rgbd, args.up, **options)
    frames = list(sequence)
    if not frames:
        raise ValueError(f"no frames found in {args.rgbd}")
    pipeline = PerceptionPipeline(PerceptionConfig(segmenter=Component(args.segmenter), depth_stride=2))
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
    from mindpalace.perception.depth_render import map_agreement

    memory.surface.save_ply(out / "fused_cloud.ply")
    navigation, known = memory.occupancy.costmap()
    save_image(costmap_image(known, navigation), out / "costmap.png")
    memory.segment_rooms()
    graph = memory.scene_graph()
    memory.scene.save_json(out / "scene_graph.json")
    frontiers = memory.occupancy.frontiers()
    save_image(scene_graph_image(graph, navigation, known, [f.centroid for f in frontiers]), out / "scene_graph.png")

    cloud = memory.surface.points()
    agreements = map_agreement(cloud, [frames[index] for index in used], tolerance=0.05)
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
