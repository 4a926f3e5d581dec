"""Occupancy for spatial memory: an OctoMap octree, with a 2D navigation costmap and frontiers.

The map is a real OctoMap `OcTree` (pyoctomap), with OctoMap's log-odds sensor model at its default
parameters (hit 0.7, miss 0.4, clamping 0.12..0.97, occupied above 0.5). It holds everything the
depth camera saw, the floor and the ceiling included, and the free space the rays crossed;
`is_occupied`, `occupied_points` and `save`/`load` (OctoMap's own .bt/.ot files) read it directly.
Frames are REP-103 world frames: z up, metres.

Choosing and casting rays. The perception write path must run at 30 frames/s on one core, and this
is its most expensive part, so a frame has to cost well under 15 ms:

1. The caller passes a pixel-strided subset of the valid depth points (the pipeline's stride 4 keeps
   ~4,800 of ~75k at 320x240). Non-finite points and zero-length rays are dropped and counted.
2. More than 4 x `max_rays_per_frame` points are first thinned at random, to bound step 3's cost.
3. Rays are de-duplicated by the voxel of their (range-clipped) end point. OctoMap updates a voxel at
   most once per scan anyway, so a second ray into the same voxel only re-walks free space; without
   this, near surfaces (many pixels per voxel) eat the budget that far ones need.
4. If more than `max_rays_per_frame` remain, a seeded random subset is kept. The seed is
   (config.seed, frame index): a replay builds the same map, and successive frames cast different rays.
5. Of those, a seeded random `max_free_rays_per_frame` (500) are walked through free space by
   OctoMap's native batch `insertPointCloud` (C++: one 3D DDA walk per ray, key sets for free and
   occupied voxels, occupied wins), with `max_range` clipping (a longer ray marks free space up to
   max_range and no hit). The rest only add their hit (`updateNodes`, at the voxel centre). A walk
   costs ~0.15-0.2 us per voxel crossed (~10 us for a 3 m ray at 5 cm), a hit ~0.25 us: free space
   is nearly all the cost, and it is redundant between neighbouring rays and successive frames (the
   subset changes every frame), while hits carry the surfaces and obstacles. Fewer walked rays also
   erode thin walls less (OctoMap's grazing-ray artefact).
6. `lazy_eval=True`: without it pyoctomap runs a full-tree `updateInnerOccupancy()` after every
   scan, a cost that grows with the map (~1.6x the whole insert at apartment size). Leaf queries do
   not read inner nodes; they are brought up to date before saving. pyoctomap's `discretize=True` is
   not used: it de-duplicates in a per-point Python set, slower than step 3's numpy.

CPU time per `integrate` on one core at 5 cm, median (tests/memory/test_occupancy.py::benchmark_integrate,
~4,000 points a frame): 3.2 ms on the real Redwood living-room frames (ranges ~2 m); 8-9 ms on a
synthetic 10 m x 8 m flat seen to 5 m (~6.5 ms of it OctoMap walking the 500 rays, ~1.7 ms numpy).
All 1,500 rays walked cost 4.5 ms and 16-19 ms there.

The costmap. Reading the octree back through pyoctomap's Python leaf iterator costs 0.3-1.5 us a
leaf with its occupancy (0.3-1.5 s for an apartment's ~10^6 leaves), far too slow to repeat every
few frames, so the 2D projection is kept up to date incrementally, exact where it matters:

- blocked columns: OctoMap marks a voxel occupied only at a ray's end point, so occupied voxels in
  the obstacle band are among the band voxels that were ever hit. The band's occupied voxels are kept
  as packed keys; when a costmap is asked for, the ones in columns a ray crossed since the last one,
  plus the new hits, are re-read from the octree (search + isNodeOccupied, ~0.25 us each): a voxel
  can only change state where a ray crossed it. A column is blocked when one of its voxels with
  centre in (floor_z, robot_height] is occupied. `floor_z` thus applies to voxel centres: the floor
  is a surface and stays occupied in the octree, but it is not an obstacle.
- known columns: a column is known once a walked ray crossed it below robot_height, or a hit landed
  in it. The rays are traced in 2D (numpy, the cells a 2D DDA visits, ~0.7 ms a frame) when they
  are cast; OctoMap never forgets a voxel, so this only grows. After a reload (which reads voxels)
  the two agree on >99.5% of the cells. The ceiling and overhangs above robot_height are neither
  obstacle nor free; unknown columns are not blocked in the navigation grid (the known grid has them).

A costmap after a few frames costs 1-5 ms for the flat (the first after many frames more: every
new hit is read back once), a cached one nothing. `load` rebuilds both from one pass over the octree's
leaves (~1 us a leaf: 0.4-0.6 s for the flat). The costmap grid's cells are the octree's voxel
columns: cell centres are voxel centres.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mindpalace.core.grid import GridMap

try:
    import pyoctomap
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("occupancy needs OctoMap's Python bindings: pip install pyoctomap") from exc

log = logging.getLogger(__name__)

Bounds = tuple[float, float, float, float]  # x_min, y_min, x_max, y_max (world, metres)

_KEY_OFFSET = 32768  # OctoMap's key of coordinate 0 at tree depth 16; keys are 16-bit
_PRE_THIN = 4  # points beyond this many times max_rays are thinned before the voxel de-duplication
_MIN_RANGE = 1e-6  # m; a shorter "ray" would mark the sensor's own voxel occupied
_GROW_MARGIN = 40  # cells added around the column grid when it grows, so it rarely re-allocates
_VIEW_CANDIDATES = 64  # view-pose candidates tested for line of sight per frontier
_CACHE_SIZE = 8
_MAX_CELLS = 50_000_000  # a costmap window larger than this (125 km^2 at 5 cm) is a mistake, not a map


@dataclass
class OccupancyConfig:
    resolution: float = 0.05  # m, voxel edge
    max_range: float = 5.0  # m; rays longer than this are clipped (free space up to it, no hit)
    max_rays_per_frame: int = 1500  # the caller's points are subsampled to this before casting (deterministically)
    max_free_rays_per_frame: int = 500  # of those, this many are walked through free space; the rest add only their hit
    floor_z: float = 0.05  # m; voxels centred at or below this height are floor (free), not obstacles
    robot_height: float = 1.5  # m; obstacles are voxels centred between floor_z and this height
    robot_radius: float = 0.25  # m, costmap inflation
    min_frontier_cells: int = 8
    frontier_view_distance: float = 1.0  # m from a frontier's centroid to its view pose, where free space allows
    seed: int = 0  # ray subsampling; the frame index is mixed in

    def __post_init__(self) -> None:
        if not self.resolution > 0:
            raise ValueError(f"resolution must be > 0, got {self.resolution}")
        if not self.max_range > 0:
            raise ValueError(f"max_range must be > 0, got {self.max_range}")
        if self.max_rays_per_frame < 1 or self.max_free_rays_per_frame < 1:
            raise ValueError("max_rays_per_frame and max_free_rays_per_frame must be >= 1")
        if not self.robot_height > self.floor_z:
            raise ValueError(f"robot_height ({self.robot_height}) must be above floor_z ({self.floor_z})")
        if self.robot_radius < 0 or self.frontier_view_distance < 0:
            raise ValueError("robot_radius and frontier_view_distance must be >= 0")
        if self.min_frontier_cells < 1:
            raise ValueError(f"min_frontier_cells must be >= 1, got {self.min_frontier_cells}")


@dataclass(frozen=True, eq=False)  # eq=False: field-wise == on numpy arrays has no single truth value
class Frontier:
    """A cluster of free cells next to unknown space."""

    cells: NDArray[np.int64]  # (K, 2) (row, col) in the full-extent costmap grid, `costmap()` with no bounds
    centroid: tuple[float, float]  # world x, y
    size: int  # K
    view_pose: tuple[float, float, float]  # x, y, yaw: a free cell the robot fits in, facing the centroid


def subsample_rays(points: NDArray[np.float64], max_rays: int, rng_seed: int | tuple[int, ...] = 0) -> NDArray[np.float64]:
    """At most `max_rays` of the (N, 3) points, a seeded random subset kept in input order."""
    points = np.asarray(points)
    return points[_subsample_indices(len(points), max_rays, np.random.default_rng(rng_seed))]


def _subsample_indices(n: int, k: int, rng: np.random.Generator) -> NDArray[np.int64]:
    if n <= k:
        return np.arange(n)
    # Sorted: the kept rays stay in pixel order, so the insert walks neighbouring rays in turn.
    return np.sort(rng.choice(n, size=k, replace=False))


def _voxel_index(points: NDArray[np.float64], inv_res: float) -> NDArray[np.int64]:
    """Integer voxel coordinates (key - 32768) exactly as OctoMap computes them.

    OctoMap stores points as float32 and keys them as floor(coordinate * (1 / resolution)) in double;
    doing the same keeps points on a voxel border in the voxel OctoMap puts them in.
    """
    return np.floor(points.astype(np.float32).astype(np.float64) * inv_res).astype(np.int64)


def _pack(ix: NDArray[np.int64], iy: NDArray[np.int64], iz: NDArray[np.int64]) -> NDArray[np.int64]:
    return (ix + _KEY_OFFSET) | ((iy + _KEY_OFFSET) << 16) | ((iz + _KEY_OFFSET) << 32)


def _unpack(keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    mask = np.int64(0xFFFF)
    return (keys & mask) - _KEY_OFFSET, ((keys >> 16) & mask) - _KEY_OFFSET, ((keys >> 32) & mask) - _KEY_OFFSET


def _dilate8(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """`mask` grown by one cell in the 8 directions."""
    padded = np.pad(mask, 1)
    rows, cols = mask.shape
    out = np.zeros_like(mask)
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            out |= padded[dr : dr + rows, dc : dc + cols]
    return out


class OccupancyMap:
    """An OctoMap octree fed with depth rays, with a cached 2D costmap and frontiers projected from it."""

    def __init__(self, config: OccupancyConfig | None = None) -> None:
        self.config = config or OccupancyConfig()
        self._tree = pyoctomap.OcTree(self.config.resolution)
        self._inv_res = 1.0 / self.config.resolution
        # Coordinates OctoMap can key: floor(x / res) + 32768 must fit in 16 bits.
        self._limit = _KEY_OFFSET * self.config.resolution
        # The obstacle band as voxel z indices: centres in (floor_z, robot_height].
        self._band_lo = math.floor(self.config.floor_z * self._inv_res - 0.5) + 1
        self._band_hi = math.floor(self.config.robot_height * self._inv_res - 0.5)
        if self._band_hi < self._band_lo:
            raise ValueError(
                f"no {self.config.resolution} m voxel is centred in (floor_z, robot_height] = "
                f"({self.config.floor_z}, {self.config.robot_height}]"
            )
        # Rays are traced in 2D up to the top of the band's highest voxels (robot_height at 5 cm), so
        # every ray that may change a band voxel marks its column.
        self._trace_top = (self._band_hi + 1) * self.config.resolution
        self._frames = 0  # frames integrated: mixed into the subsampling seed
        self._version = 0  # bumped by every integrate that cast rays; invalidates the caches
        # Column grid (rows = voxel y index - _iy0, cols = voxel x index - _ix0), grown on demand.
        self._ix0 = 0
        self._iy0 = 0
        self._known = np.zeros((0, 0), dtype=bool)
        self._dirty = np.zeros((0, 0), dtype=bool)  # columns rays crossed since the last projection
        self._occ_keys = np.empty(0, dtype=np.int64)  # occupied band voxels as of the last projection
        self._pending: list[NDArray[np.int64]] = []  # band voxels hit since the last projection
        self._blocked = np.zeros((0, 0), dtype=bool)
        self._projected = 0  # the version the column state was projected at
        self._costmaps: dict[tuple[Bounds | None, bool], tuple[GridMap, NDArray[np.int8]]] = {}
        self._cached_version = -1
        self._frontiers: list[Frontier] | None = None

    # ---------------------------------------------------------------- writing

    def integrate(self, points_world: NDArray[np.float64], origin: NDArray[np.float64]) -> int:
        """Integrate a depth frame: rays from the sensor `origin` (3,) to the (N, 3) world end points.

        Returns how many rays went in: walked through free space, or (beyond max_free_rays_per_frame)
        adding their hit alone. Wrong shapes and a bad origin raise ValueError; non-finite points and
        points at the origin are dropped with a logged count. A frame with no valid point changes nothing.
        """
        points = np.asarray(points_world, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 3:
            raise ValueError(f"points_world must have shape (N, 3), got {points.shape}")
        origin = np.asarray(origin, dtype=np.float64)
        if origin.shape not in ((3,), (3, 1), (1, 3)):
            raise ValueError(f"origin must have shape (3,), got {origin.shape}")
        origin = origin.reshape(3)
        # Every ray then ends (clipped to max_range) where OctoMap can key it.
        reach = self._limit - self.config.max_range - self.config.resolution
        if not np.all(np.isfinite(origin)) or np.any(np.abs(origin) >= reach):
            raise ValueError(f"origin must be finite and within +-{reach:.0f} m, got {origin}")
        if len(points) == 0:
            return 0
        cfg = self.config
        with np.errstate(over="ignore", invalid="ignore"):
            offsets = points - origin
            ranges = np.sqrt(np.einsum("ij,ij->i", offsets, offsets))
            # NaN or inf in any coordinate makes the range non-finite.
            valid = np.isfinite(ranges) & (ranges > _MIN_RANGE)
        index = np.flatnonzero(valid)
        if len(index) < len(points):
            log.warning(
                "occupancy: dropped %d of %d points (non-finite or at the sensor origin)", len(points) - len(index), len(points)
            )
        if len(index) == 0:
            return 0
        rng = np.random.default_rng([cfg.seed, self._frames])
        index = index[_subsample_indices(len(index), _PRE_THIN * cfg.max_rays_per_frame, rng)]

        scale = np.minimum(1.0, cfg.max_range / ranges[index])
        ends = origin + offsets[index] * scale[:, None]  # where OctoMap stops each ray
        hit = ranges[index] <= cfg.max_range
        vox = _voxel_index(ends, self._inv_res)
        keys = _pack(vox[:, 0], vox[:, 1], vox[:, 2])
        # One ray per end voxel (hits and clipped misses apart); np.unique's first occurrence keeps input order.
        _, first = np.unique(keys * 2 + hit, return_index=True)
        first.sort()
        keep = first[_subsample_indices(len(first), cfg.max_rays_per_frame, rng)]
        index, ends, hit, vox, keys = index[keep], ends[keep], hit[keep], vox[keep], keys[keep]

        # Walk a subset of the rays through free space; the others only add their hit, at the voxel
        # centre so that OctoMap keys it where `vox` says (updateNode does not round to float32).
        carve = np.zeros(len(index), dtype=bool)
        carve[_subsample_indices(len(index), cfg.max_free_rays_per_frame, rng)] = True
        self._tree.insertPointCloud(
            np.ascontiguousarray(points[index[carve]]), origin, max_range=float(cfg.max_range), lazy_eval=True, discretize=False
        )
        hit_only = hit & ~carve
        if np.any(hit_only):
            self._tree.updateNodes(((vox[hit_only] + 0.5) * cfg.resolution).tolist(), True, True)

        band = hit & (vox[:, 2] >= self._band_lo) & (vox[:, 2] <= self._band_hi)
        if np.any(band):
            self._pending.append(keys[band])
        self._trace_columns(origin, ends[carve], vox[hit & (vox[:, 2] <= self._band_hi)])
        self._frames += 1
        self._version += 1
        return int(np.count_nonzero(carve) + np.count_nonzero(hit_only))

    def _trace_columns(self, origin: NDArray[np.float64], ends: NDArray[np.float64], end_columns: NDArray[np.int64]) -> None:
        """Mark the columns the rays to `ends` cross in or below the obstacle band, and those of `end_columns`
        (hit voxels centred at or below robot_height), known and dirty."""
        h = self._trace_top
        delta = ends - origin
        dz = delta[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            t_h = (h - origin[2]) / dz  # where the ray crosses the top of the band
        t_lo = np.where(dz < 0, np.maximum(t_h, 0.0), 0.0)
        t_hi = np.where(dz > 0, np.minimum(t_h, 1.0), 1.0)
        below = (t_hi >= t_lo) & ((dz != 0) | (origin[2] <= h))
        # Segments stop short of their end: a hit's column comes from its voxel key, computed as
        # OctoMap does (a sample at the very end could round into the column behind a wall), and
        # OctoMap leaves the end voxel of a ray clipped at max_range unknown.
        start = origin[:2] + delta[:, :2] * t_lo[:, None]
        span = delta[:, :2] * (t_hi - t_lo)[:, None]
        # Samples at most one cell apart (a ray's end excluded), so consecutive samples are in
        # the same or neighbouring cells; where they are diagonal neighbours, the segment also crossed
        # the one of the two shared neighbours whose border it reaches first. That gives the cells a 2D
        # DDA visits, which are the columns of the voxels OctoMap's 3D walk visits.
        steps = np.floor(np.hypot(span[:, 0], span[:, 1]) * self._inv_res).astype(np.int64) + 1
        step = span / steps[:, None]
        # A segment cut at the band's top keeps its end sample: only true ends are left to the voxel keys.
        counts = np.where(below, steps + (t_hi < 1.0), 0)
        total = int(counts.sum())
        if total == 0 and len(end_columns) == 0:
            return
        offsets = np.cumsum(counts) - counts
        k = np.arange(total) - np.repeat(offsets, counts)
        step_x, step_y = np.repeat(step[:, 0], counts), np.repeat(step[:, 1], counts)
        x = (np.repeat(start[:, 0], counts) + step_x * k) * self._inv_res  # in cells
        y = (np.repeat(start[:, 1], counts) + step_y * k) * self._inv_res
        ix, iy = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
        diagonal = np.flatnonzero((ix[1:] != ix[:-1]) & (iy[1:] != iy[:-1]) & (k[1:] != 0))
        if len(diagonal):
            a, b = diagonal, diagonal + 1
            with np.errstate(divide="ignore", invalid="ignore"):
                t_x = (np.maximum(ix[a], ix[b]) - x[a]) / (step_x[a] * self._inv_res)
                t_y = (np.maximum(iy[a], iy[b]) - y[a]) / (step_y[a] * self._inv_res)
            x_first = t_x < t_y
            ix = np.concatenate([ix, np.where(x_first, ix[b], ix[a])])
            iy = np.concatenate([iy, np.where(x_first, iy[a], iy[b])])
        ix = np.concatenate([ix, end_columns[:, 0]])
        iy = np.concatenate([iy, end_columns[:, 1]])
        self._ensure_columns(int(ix.min()), int(iy.min()), int(ix.max()), int(iy.max()))
        flat = (iy - self._iy0) * self._known.shape[1] + (ix - self._ix0)
        self._known.reshape(-1)[flat] = True  # views of the C-contiguous grids (`.flat[...] =` is far slower)
        self._dirty.reshape(-1)[flat] = True

    def _ensure_columns(self, ix_lo: int, iy_lo: int, ix_hi: int, iy_hi: int) -> None:
        """Grow the column grid to cover voxel columns [ix_lo, ix_hi] x [iy_lo, iy_hi]."""
        rows, cols = self._known.shape
        if rows and ix_lo >= self._ix0 and iy_lo >= self._iy0 and ix_hi < self._ix0 + cols and iy_hi < self._iy0 + rows:
            return
        if rows:
            ix_lo, iy_lo = min(ix_lo, self._ix0), min(iy_lo, self._iy0)
            ix_hi, iy_hi = max(ix_hi, self._ix0 + cols - 1), max(iy_hi, self._iy0 + rows - 1)
        ix_lo, iy_lo, ix_hi, iy_hi = ix_lo - _GROW_MARGIN, iy_lo - _GROW_MARGIN, ix_hi + _GROW_MARGIN, iy_hi + _GROW_MARGIN
        shape = (iy_hi - iy_lo + 1, ix_hi - ix_lo + 1)
        r0, c0 = self._iy0 - iy_lo, self._ix0 - ix_lo
        for name in ("_known", "_dirty", "_blocked"):
            old = getattr(self, name)
            new = np.zeros(shape, dtype=bool)
            new[r0 : r0 + rows, c0 : c0 + cols] = old
            setattr(self, name, new)
        self._ix0, self._iy0 = ix_lo, iy_lo

    # ---------------------------------------------------------------- projection

    def _project(self) -> None:
        """Bring the blocked columns up to date with the octree (see the module docstring)."""
        if self._projected == self._version:
            return
        ix, iy, _ = _unpack(self._occ_keys)
        dirty = _dilate8(self._dirty)
        recheck_old = dirty[iy - self._iy0, ix - self._ix0]
        keep = self._occ_keys[~recheck_old]
        query = self._occ_keys[recheck_old]
        if self._pending:
            pending = np.concatenate(self._pending)
            # A hit outside the dilated dirty columns (float rounding) must not sit in `keep` too.
            pix, piy, _ = _unpack(pending)
            outside = ~dirty[piy - self._iy0, pix - self._ix0]
            if np.any(outside):
                keep = keep[~np.isin(keep, pending[outside])]
            query = np.unique(np.concatenate([query, pending]))
        qx, qy, qz = _unpack(query)
        centres = ((np.stack([qx, qy, qz], axis=1) + 0.5) * self.config.resolution).tolist()
        search, occupied = self._tree.search, self._tree.isNodeOccupied
        state = np.fromiter(
            (node is not None and occupied(node) for node in map(search, centres)), dtype=bool, count=len(centres)
        )
        self._occ_keys = np.concatenate([keep, query[state]])
        self._pending = []
        self._dirty[:] = False
        self._blocked[:] = False
        ix, iy, _ = _unpack(self._occ_keys)
        self._blocked[iy - self._iy0, ix - self._ix0] = True
        self._projected = self._version

    def _rebuild_columns(self) -> None:
        """Known and blocked columns from one pass over all leaves (after `load`)."""
        res = self.config.resolution
        coords: list[list[float]] = []
        sizes: list[float] = []
        occupied_flags: list[bool] = []
        occupied = self._tree.isNodeOccupied
        for leaf in self._tree.begin_leafs():
            coord = leaf.getCoordinate()
            size = leaf.getSize()
            if coord[2] - size / 2 >= self._trace_top:
                continue  # wholly above the band: neither known floor space nor obstacle
            coords.append(coord)
            sizes.append(size)
            occupied_flags.append(bool(occupied(leaf)))
        self._known = np.zeros((0, 0), dtype=bool)
        self._dirty = np.zeros((0, 0), dtype=bool)
        self._blocked = np.zeros((0, 0), dtype=bool)
        self._occ_keys = np.empty(0, dtype=np.int64)
        self._pending = []
        if not coords:
            self._projected = self._version
            return
        centre = np.asarray(coords, dtype=np.float64)
        width = np.rint(np.asarray(sizes) / res).astype(np.int64)  # leaf edge in voxels (a power of two)
        low = np.rint((centre - (np.asarray(sizes) / 2)[:, None]) / res).astype(np.int64)  # lowest voxel index
        self._ensure_columns(
            int(low[:, 0].min()), int(low[:, 1].min()), int((low[:, 0] + width).max()), int((low[:, 1] + width).max())
        )
        flags = np.asarray(occupied_flags)
        band_lo, band_hi = self._band_lo, self._band_hi
        unit = width == 1
        self._known[low[unit, 1] - self._iy0, low[unit, 0] - self._ix0] = True
        occupied_keys = []
        unit_occ = unit & flags & (low[:, 2] >= band_lo) & (low[:, 2] <= band_hi)
        occupied_keys.append(_pack(low[unit_occ, 0], low[unit_occ, 1], low[unit_occ, 2]))
        for i in np.flatnonzero(~unit):  # pruned leaves, a few: cover their whole footprint
            (x0, y0, z0), w = low[i], width[i]
            r, c = y0 - self._iy0, x0 - self._ix0
            self._known[r : r + w, c : c + w] = True
            z_lo, z_hi = max(z0, band_lo), min(z0 + w - 1, band_hi)
            if flags[i] and z_lo <= z_hi:
                gx, gy, gz = np.meshgrid(np.arange(x0, x0 + w), np.arange(y0, y0 + w), np.arange(z_lo, z_hi + 1))
                occupied_keys.append(_pack(gx.ravel(), gy.ravel(), gz.ravel()))
        self._occ_keys = np.unique(np.concatenate(occupied_keys))
        ix, iy, _ = _unpack(self._occ_keys)
        self._blocked[iy - self._iy0, ix - self._ix0] = True
        self._projected = self._version

    # ---------------------------------------------------------------- costmap and frontiers

    def costmap(self, bounds: Bounds | None = None, *, inflate: bool = True) -> tuple[GridMap, NDArray[np.int8]]:
        """(navigation grid, known state) over the map's xy extent or `bounds` (x_min, y_min, x_max, y_max).

        The navigation grid blocks obstacle columns, inflated by robot_radius unless `inflate` is False
        (`agent.path_planning.plan_path` inflates by itself: give it `inflate=False`); unknown cells are
        not blocked. The known state is int8: -1 unknown, 0 free, 1 occupied. Both share cell layout,
        cell centres are voxel centres, and both are cached (read-only) until the next `integrate`.
        """
        if bounds is not None:
            bounds = tuple(float(b) for b in bounds)  # type: ignore[assignment]
            if len(bounds) != 4 or not all(math.isfinite(b) for b in bounds) or bounds[2] < bounds[0] or bounds[3] < bounds[1]:
                raise ValueError(f"bounds must be finite (x_min, y_min, x_max, y_max), got {bounds}")
        if self._cached_version != self._version:
            self._costmaps.clear()
            self._frontiers = None
            self._cached_version = self._version
        cache_key = (bounds, inflate)
        cached = self._costmaps.get(cache_key)
        if cached is not None:
            return cached
        self._project()
        res = self.config.resolution
        if bounds is not None:
            ix_lo, iy_lo = math.floor(bounds[0] * self._inv_res), math.floor(bounds[1] * self._inv_res)
            ix_hi, iy_hi = math.floor(bounds[2] * self._inv_res), math.floor(bounds[3] * self._inv_res)
        elif self._known.any():
            rows = np.flatnonzero(self._known.any(axis=1))
            cols = np.flatnonzero(self._known.any(axis=0))
            ix_lo, ix_hi = self._ix0 + int(cols[0]), self._ix0 + int(cols[-1])
            iy_lo, iy_hi = self._iy0 + int(rows[0]), self._iy0 + int(rows[-1])
        else:
            ix_lo = ix_hi = iy_lo = iy_hi = 0  # nothing seen yet: one unknown cell
        if (iy_hi - iy_lo + 1) * (ix_hi - ix_lo + 1) > _MAX_CELLS:
            raise ValueError(f"bounds {bounds} span more than {_MAX_CELLS} cells")
        known = np.full((iy_hi - iy_lo + 1, ix_hi - ix_lo + 1), -1, dtype=np.int8)
        # The part of the window the column grid covers.
        r0, r1 = max(iy_lo, self._iy0), min(iy_hi, self._iy0 + self._known.shape[0] - 1)
        c0, c1 = max(ix_lo, self._ix0), min(ix_hi, self._ix0 + self._known.shape[1] - 1)
        if r0 <= r1 and c0 <= c1:
            src = (slice(r0 - self._iy0, r1 - self._iy0 + 1), slice(c0 - self._ix0, c1 - self._ix0 + 1))
            dst = (slice(r0 - iy_lo, r1 - iy_lo + 1), slice(c0 - ix_lo, c1 - ix_lo + 1))
            known[dst] = np.where(self._blocked[src], 1, np.where(self._known[src], 0, -1))
        grid = GridMap(blocked=known == 1, origin=((ix_lo + 0.5) * res, (iy_lo + 0.5) * res), resolution=res)
        if inflate and self.config.robot_radius > 0:
            grid = grid.inflated(self.config.robot_radius)
        grid.blocked.flags.writeable = False
        known.flags.writeable = False
        if len(self._costmaps) >= _CACHE_SIZE:
            self._costmaps.pop(next(iter(self._costmaps)))
        self._costmaps[cache_key] = (grid, known)
        return grid, known

    def frontiers(self) -> list[Frontier]:
        """8-connected clusters of free cells next to unknown ones, biggest first, of >= min_frontier_cells."""
        navigation, known = self.costmap()
        if self._frontiers is not None:
            return list(self._frontiers)
        rows, cols = known.shape
        free = known == 0
        unknown = np.pad(known == -1, 1, constant_values=True)  # beyond the extent is unknown too
        near_unknown = np.zeros_like(free)
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                near_unknown |= unknown[dr : dr + rows, dc : dc + cols]
        clusters = [c for c in _clusters8(free & near_unknown) if len(c) >= self.config.min_frontier_cells]
        clusters.sort(key=lambda c: (-len(c), int(c[0, 0]), int(c[0, 1])))
        res, (x0, y0) = navigation.resolution, navigation.origin
        standable = free & ~navigation.blocked  # the robot's disc fits clear of known obstacles
        if not standable.any():
            standable = free
        sr, sc = np.nonzero(standable)
        sx, sy = x0 + sc * res, y0 + sr * res
        result = []
        for cells in clusters:
            cx = float(x0 + cells[:, 1].mean() * res)
            cy = float(y0 + cells[:, 0].mean() * res)
            result.append(
                Frontier(
                    cells=cells, centroid=(cx, cy), size=len(cells), view_pose=self._view_pose(known, navigation, sx, sy, cx, cy)
                )
            )
        self._frontiers = result
        return list(result)

    def _view_pose(
        self, known: NDArray[np.int8], grid: GridMap, sx: NDArray[np.floating], sy: NDArray[np.floating], cx: float, cy: float
    ) -> tuple[float, float, float]:
        """A standable cell about frontier_view_distance from (cx, cy), seeing it past no obstacle, facing it."""
        score = np.abs(np.hypot(sx - cx, sy - cy) - self.config.frontier_view_distance)
        # The best few by score (ties by cell order, for determinism) without sorting every free cell.
        best = np.argpartition(score, min(_VIEW_CANDIDATES, len(score)) - 1)[:_VIEW_CANDIDATES]
        order = best[np.lexsort((best, score[best]))]
        chosen = int(order[0])
        for j in order:
            if _line_clear(known, grid, float(sx[j]), float(sy[j]), cx, cy):
                chosen = int(j)
                break
        x, y = float(sx[chosen]), float(sy[chosen])
        return x, y, math.atan2(cy - y, cx - x)

    # ---------------------------------------------------------------- queries

    def is_occupied(self, xyz: NDArray[np.float64] | tuple[float, float, float]) -> bool | None:
        """Whether the voxel holding world point `xyz` is occupied; None if it was never observed."""
        point = np.asarray(xyz, dtype=np.float64).reshape(-1)
        if point.shape != (3,) or not np.all(np.isfinite(point)):
            raise ValueError(f"xyz must be 3 finite coordinates, got {xyz}")
        if np.any(np.abs(point) >= self._limit):
            return None  # beyond what the octree can address (and search would print an error)
        node = self._tree.search(point.tolist())
        return None if node is None else bool(self._tree.isNodeOccupied(node))

    def occupied_points(self) -> NDArray[np.float64]:
        """(M, 3) world centres of the occupied voxels (pruned leaves expanded to voxels). Walks every leaf."""
        res = self.config.resolution
        occupied = self._tree.isNodeOccupied
        found = [(leaf.getCoordinate(), leaf.getSize()) for leaf in self._tree.begin_leafs() if occupied(leaf)]
        if not found:
            return np.empty((0, 3), dtype=np.float64)
        centres = np.array([c for c, _ in found], dtype=np.float64)
        sizes = np.array([s for _, s in found], dtype=np.float64)
        unit = np.rint(sizes / res) <= 1
        parts = [centres[unit]]
        for centre, size in zip(centres[~unit], sizes[~unit]):
            n = round(size / res)
            axis = (np.arange(n) - (n - 1) / 2) * res
            g = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
            parts.append(centre + g)
        return np.concatenate(parts)

    @property
    def num_leaves(self) -> int:
        return int(self._tree.getNumLeafNodes())

    @property
    def memory_bytes(self) -> int:
        """OctoMap's estimate of the octree's memory plus the column grids and key sets."""
        arrays = (self._known, self._dirty, self._blocked, self._occ_keys, *self._pending)
        return int(self._tree.memoryUsage()) + sum(a.nbytes for a in arrays)

    @property
    def octree(self) -> pyoctomap.OcTree:
        """The underlying OctoMap tree, for reading; writing to it bypasses the costmap bookkeeping."""
        return self._tree

    # ---------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the octree as OctoMap's .bt (binary: occupied/free/unknown only) or .ot (full probabilities).

        The file is written beside `path` and renamed over it, so a crash never leaves half a map.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".bt", ".ot"):
            raise ValueError(f"occupancy maps are saved as .bt or .ot, got {path.name!r}")
        self._tree.updateInnerOccupancy()  # inserts are lazy; files carry inner nodes
        fd, tmp = tempfile.mkstemp(suffix=suffix, prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            if suffix == ".ot":
                ok = self._tree.write(tmp)
            else:
                # writeBinary turns the tree it writes into its max-likelihood map and prunes it;
                # write it from a copy, so the live map keeps its probabilities.
                ok = self._copy_tree(path.parent).writeBinary(tmp)
            if not ok:
                raise OSError(f"OctoMap could not write {path}")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _copy_tree(self, directory: Path) -> pyoctomap.OcTree:
        fd, tmp = tempfile.mkstemp(suffix=".ot", dir=directory)
        os.close(fd)
        try:
            if not self._tree.write(tmp):
                raise OSError(f"OctoMap could not write {tmp}")
            copy = pyoctomap.OcTree(self.config.resolution).read(tmp)
        finally:
            os.unlink(tmp)
        if copy is None:
            raise OSError("OctoMap could not read back its own copy")
        return copy

    @classmethod
    def load(cls, path: str | os.PathLike[str], config: OccupancyConfig | None = None) -> OccupancyMap:
        """A map from a .bt or .ot file; the file's resolution wins over `config.resolution`."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".bt", ".ot"):
            raise ValueError(f"occupancy maps are loaded from .bt or .ot, got {path.name!r}")
        if not path.is_file():
            raise FileNotFoundError(path)
        config = config or OccupancyConfig()
        if suffix == ".bt":
            tree = pyoctomap.OcTree(config.resolution)
            if not tree.readBinary(str(path)):
                raise ValueError(f"{path} is not an OctoMap binary (.bt) OcTree")
        else:
            tree = pyoctomap.OcTree(config.resolution).read(str(path))
            if tree is None or tree.getTreeType() != "OcTree":
                raise ValueError(f"{path} is not an OctoMap (.ot) OcTree")
        resolution = float(tree.getResolution())
        if not math.isclose(resolution, config.resolution, rel_tol=1e-9):
            log.warning(
                "occupancy: %s has resolution %g m, not the configured %g m; using the file's",
                path,
                resolution,
                config.resolution,
            )
            config = replace(config, resolution=resolution)
        occupancy = cls(config)
        occupancy._tree = tree
        occupancy._rebuild_columns()
        return occupancy


def _clusters8(mask: NDArray[np.bool_]) -> list[NDArray[np.int64]]:
    """8-connected components of `mask` as (K, 2) (row, col) arrays, each in row-major order."""
    width = mask.shape[1] + 2
    # Flat indices in the grid padded by one cell: neighbours never wrap around a row.
    r, c = np.nonzero(mask)
    flat = ((r + 1) * width + c + 1).tolist()
    remaining = set(flat)
    steps = (-width - 1, -width, -width + 1, -1, 1, width - 1, width, width + 1)
    clusters = []
    for seed in flat:
        if seed not in remaining:
            continue
        remaining.discard(seed)
        stack, members = [seed], [seed]
        while stack:
            cell = stack.pop()
            for step in steps:
                neighbour = cell + step
                if neighbour in remaining:
                    remaining.discard(neighbour)
                    stack.append(neighbour)
                    members.append(neighbour)
        members.sort()
        index = np.asarray(members, dtype=np.int64)
        clusters.append(np.stack([index // width - 1, index % width - 1], axis=1))
    return clusters


def _line_clear(known: NDArray[np.int8], grid: GridMap, x0: float, y0: float, x1: float, y1: float) -> bool:
    """No occupied cell on the segment (sampled every half cell); cells off the grid count as clear."""
    n = max(2, int(math.hypot(x1 - x0, y1 - y0) / grid.resolution * 2) + 2)
    t = np.linspace(0.0, 1.0, n)
    col = np.floor((x0 + (x1 - x0) * t - grid.origin[0]) / grid.resolution + 0.5).astype(np.int64)
    row = np.floor((y0 + (y1 - y0) * t - grid.origin[1]) / grid.resolution + 0.5).astype(np.int64)
    inside = (row >= 0) & (row < known.shape[0]) & (col >= 0) & (col < known.shape[1])
    return not np.any(known[row[inside], col[inside]] == 1)
