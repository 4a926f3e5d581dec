"""Headless RGB, depth and instance-segmentation rendering of MuJoCo cameras (one GL context for all of them).

Two passes a frame: a shaded pass for RGB, and a flat id-colour pass whose depth buffer gives
the depth (MuJoCo's own renderer takes depth from that pass too: it is more precise far away).
"""

from __future__ import annotations

import importlib
import os

import numpy as np
from numpy.typing import NDArray

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco


def _gl_context(width: int, height: int) -> mujoco.GLContext:
    """An offscreen GL context of the backend MUJOCO_GL names (EGL by default), even if mujoco was imported first."""
    backend = os.environ.get("MUJOCO_GL", "egl").lower()
    if backend not in ("egl", "osmesa", "glfw"):
        raise RuntimeError(f"MUJOCO_GL={backend!r}: use egl (headless GPU or Mesa), osmesa or glfw")
    return importlib.import_module(f"mujoco.{backend}").GLContext(width, height)


class CameraRenderer:
    """Renders `camera` of `model` (or any other of its cameras, by name) at `width` x `height`.

    `geom_instance[g]` is the instance id of geom g.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        camera: str,
        width: int,
        height: int,
        geom_instance: NDArray[np.int32],
        max_depth: float,
        shadows: bool = False,
    ) -> None:
        if width > model.vis.global_.offwidth or height > model.vis.global_.offheight:
            raise ValueError(f"{width}x{height} exceeds the model's offscreen buffer")
        self.model, self.width, self.height, self.max_depth = model, width, height, max_depth
        self.geom_instance = geom_instance
        self._gl = _gl_context(width, height)
        self._gl.make_current()
        self._context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_100)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._context)
        # Reverse Z (0 = far) spreads the buffer's precision evenly over distance.
        self._context.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR
        self._scene = mujoco.MjvScene(model, maxgeom=model.ngeom + 64)
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._default_camera = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if self._default_camera < 0:
            raise ValueError(f"the model has no camera {camera!r}")
        self._options = mujoco.MjvOption()
        self._rect = mujoco.MjrRect(0, 0, width, height)
        for flag in (
            mujoco.mjtRndFlag.mjRND_REFLECTION,
            mujoco.mjtRndFlag.mjRND_SKYBOX,
            mujoco.mjtRndFlag.mjRND_HAZE,
            mujoco.mjtRndFlag.mjRND_FOG,
        ):
            self._scene.flags[flag] = False
        self._scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
        extent = model.stat.extent
        near, far = np.float32(model.vis.map.znear * extent), np.float32(model.vis.map.zfar * extent)
        # Reverse-Z perspective: metric depth = d / (buffer + c), constants as OpenGL computes them.
        c = -(far + near) / (far - near)
        d = -(np.float32(2) * far * near) / (far - near)
        self._c, self._d, self._far = np.float32(-0.5) * c - np.float32(0.5), np.float32(-0.5) * d, float(far)
        self._segid_to_instance: NDArray[np.int32] | None = None
        self._rgb = np.empty((height, width, 3), dtype=np.uint8)
        self._ids = np.empty((height, width, 3), dtype=np.uint8)
        self._zbuf = np.empty((height, width), dtype=np.float32)

    def set_geom_instances(self, geom_instance: NDArray[np.int32]) -> None:
        """New instance ids for the model's geoms (an env that shuffles ids per episode)."""
        if geom_instance.shape != (self.model.ngeom,):
            raise ValueError(f"geom_instance must have shape ({self.model.ngeom},), got {geom_instance.shape}")
        self.geom_instance = geom_instance
        self._segid_to_instance = None

    def _segment_table(self) -> NDArray[np.int32]:
        """Scene geom index + 1 (the id colour) -> instance id; rebuilt only when the scene changes size."""
        ngeom = self._scene.ngeom
        if self._segid_to_instance is None or len(self._segid_to_instance) != ngeom + 1:
            table = np.zeros(ngeom + 1, dtype=np.int32)
            for k in range(ngeom):
                geom = self._scene.geoms[k]
                if geom.objtype == mujoco.mjtObj.mjOBJ_GEOM and geom.segid >= 0:
                    table[geom.segid + 1] = self.geom_instance[geom.objid]
            self._segid_to_instance = table
        return self._segid_to_instance

    def render(
        self, data: mujoco.MjData, camera: str | None = None
    ) -> tuple[NDArray[np.uint8], NDArray[np.float32], NDArray[np.int32]]:
        """(rgb (H,W,3) uint8, depth (H,W) float32 metres with 0 = no reading, segmentation (H,W) int32).

        `camera` names another camera of the model than the one the renderer was made for.
        """
        camera_id = self._default_camera if camera is None else mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if camera_id < 0:
            raise ValueError(f"the model has no camera {camera!r}")
        self._camera.fixedcamid = camera_id
        self._gl.make_current()
        mujoco.mjv_updateScene(self.model, data, self._options, None, self._camera, mujoco.mjtCatBit.mjCAT_ALL, self._scene)
        mujoco.mjr_render(self._rect, self._scene, self._context)
        mujoco.mjr_readPixels(self._rgb, None, self._rect, self._context)
        rgb = np.flipud(self._rgb).copy()

        self._scene.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = True
        self._scene.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = True
        try:
            mujoco.mjr_render(self._rect, self._scene, self._context)
            mujoco.mjr_readPixels(self._ids, self._zbuf, self._rect, self._context)
        finally:
            self._scene.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = False
            self._scene.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = False
        ids = np.flipud(self._ids)
        segid = ids[..., 0].astype(np.int32) | (ids[..., 1].astype(np.int32) << 8) | (ids[..., 2].astype(np.int32) << 16)
        table = self._segment_table()
        segmentation = table[np.clip(segid, 0, len(table) - 1)]
        depth = (self._d / (np.flipud(self._zbuf) + self._c)).astype(np.float32)
        depth[(segid == 0) | ~np.isfinite(depth) | (depth <= 0) | (depth > self.max_depth)] = 0.0
        return rgb, depth, segmentation

    def close(self) -> None:
        if self._gl is not None:
            # GL frees the buffers of whichever context is current: make it ours, or another env loses its frames.
            self._gl.make_current()
            self._context.free()
            self._gl.free()
            self._gl = None

    def __del__(self) -> None:
        if getattr(self, "_gl", None) is not None:
            try:
                self.close()
            except Exception:
                pass
