"""Test-wide setup: headless rendering (EGL) before anything imports mujoco."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
