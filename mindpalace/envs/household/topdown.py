"""A top-down map picture (PNG) of a generated apartment, drawn with Pillow only.

World frame: x east (right in the picture), y north (up in the picture), metres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from mindpalace.envs.household.catalog import COLORS
from mindpalace.envs.household.layout import Apartment, Furniture
from mindpalace.envs.household.robot import ROBOT_RADIUS

RGB = tuple[int, int, int]

ROOM_COLORS: dict[str, RGB] = {
    "kitchen": (255, 236, 200),
    "living_room": (214, 238, 208),
    "bedroom": (214, 226, 250),
    "bathroom": (204, 240, 244),
    "office": (240, 220, 242),
    "hallway": (236, 230, 218),
}
BACKGROUND: RGB = (255, 255, 255)
UNKNOWN_ROOM: RGB = (235, 235, 235)
WALL: RGB = (40, 40, 48)
FURNITURE_FILL: RGB = (176, 156, 136)
FURNITURE_EDGE: RGB = (92, 74, 58)
OPEN: RGB = (255, 140, 0)
ROBOT: RGB = (0, 150, 150)
ROBOT_EDGE: RGB = (0, 70, 70)
PATH: RGB = (220, 30, 150)
TEXT: RGB = (30, 30, 30)
OBJECT_EDGE: RGB = (25, 25, 25)
HELD_EDGE: RGB = (255, 215, 0)


def world_to_pixel(apartment: Apartment, pixels_per_metre: float, x: float, y: float) -> tuple[float, float]:
    """Pixel (column, row) of world point (x, y); rows grow downwards, so y is flipped."""
    xmin, _, _, ymax = apartment.bounds
    return ((x - xmin) * pixels_per_metre, (ymax - y) * pixels_per_metre)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow < 10.1 or no FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def _rgb(color: tuple[float, float, float]) -> RGB:
    return (round(color[0] * 255), round(color[1] * 255), round(color[2] * 255))


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font, fill: RGB = TEXT) -> None:
    # Centre via textbbox rather than anchor="mm", which the bitmap fallback font does not support;
    # a pale halo keeps names readable over furniture and walls.
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    xy = (xy[0] - (left + right) / 2, xy[1] - (top + bottom) / 2)
    draw.text(xy, text, font=font, fill=fill, stroke_width=2, stroke_fill=(250, 250, 245))


def render_topdown(
    apartment: Apartment,
    *,
    robot_pose: tuple[float, float, float] | None = None,
    object_positions: dict[int, tuple[float, float, float]] | None = None,
    held_object: int | None = None,
    path: Sequence[tuple[float, float]] | None = None,
    open_parts: set[int] | None = None,
    pixels_per_metre: float = 60.0,
    labels: bool = True,
) -> Image.Image:
    """Draw rooms, walls, furniture, small objects, an optional path and robot, seen from above.

    `object_positions` overrides where objects are (objects it leaves out stay at their own positions);
    `held_object` is drawn at the robot; furniture with a part id in `open_parts` gets an orange marker.
    """
    ppm = pixels_per_metre
    xmin, ymin, xmax, ymax = apartment.bounds
    image = Image.new("RGB", (round((xmax - xmin) * ppm), round((ymax - ymin) * ppm)), BACKGROUND)
    draw = ImageDraw.Draw(image)
    px = lambda x, y: world_to_pixel(apartment, ppm, x, y)  # noqa: E731

    def rect(x0: float, y0: float, x1: float, y1: float, **style) -> None:
        (c0, r1), (c1, r0) = px(x0, y0), px(x1, y1)
        draw.rectangle((c0, r0, c1, r1), **style)

    def disc(x: float, y: float, radius_px: float, **style) -> None:
        c, r = px(x, y)
        draw.ellipse((c - radius_px, r - radius_px, c + radius_px, r + radius_px), **style)

    for room in apartment.rooms:
        rect(*room.rect, fill=ROOM_COLORS.get(room.type, UNKNOWN_ROOM))
    for wall in apartment.walls:
        (cx, cy), (hx, hy) = wall.box()
        rect(cx - hx, cy - hy, cx + hx, cy + hy, fill=WALL)

    open_parts = open_parts or set()
    small_font, room_font = _font(max(8, round(ppm * 0.17))), _font(max(10, round(ppm * 0.3)))
    for piece in apartment.furniture:
        is_open = any(part_id in open_parts for part_id in piece.part_ids.values())
        _draw_furniture(draw, rect, px, piece, is_open, ppm)
        if labels:
            x0, y0, x1, y1 = piece.footprint()
            _text(draw, px((x0 + x1) / 2, (y0 + y1) / 2), piece.name, small_font)
    if labels:
        for room in apartment.rooms:
            _text(draw, px(*room.center), room.name, room_font)

    if path is not None and len(path) >= 2:
        draw.line([px(x, y) for x, y in path], fill=PATH, width=max(2, round(ppm * 0.05)), joint="curve")

    positions = {obj.id: obj.position for obj in apartment.objects}
    positions.update(object_positions or {})
    object_radius = max(3.0, 0.08 * ppm)
    for obj in apartment.objects:
        if obj.id == held_object and robot_pose is not None:
            continue  # drawn on top of the robot below
        x, y, _ = positions[obj.id]
        disc(x, y, object_radius, fill=_rgb(COLORS[obj.color]), outline=OBJECT_EDGE, width=1)

    if robot_pose is not None:
        rx, ry, yaw = robot_pose
        disc(rx, ry, ROBOT_RADIUS * ppm, fill=ROBOT, outline=ROBOT_EDGE, width=2)
        tip = (rx + ROBOT_RADIUS * 1.6 * math.cos(yaw), ry + ROBOT_RADIUS * 1.6 * math.sin(yaw))
        draw.line([px(rx, ry), px(*tip)], fill=ROBOT_EDGE, width=max(2, round(ppm * 0.05)))
        held = next((obj for obj in apartment.objects if obj.id == held_object), None)
        if held is not None:
            disc(rx, ry, object_radius * 1.3, fill=_rgb(COLORS[held.color]), outline=HELD_EDGE, width=3)

    # A 1 m scale bar in the bottom-left margin (bounds leave 0.5 m around the rooms).
    rect(xmin + 0.2, ymin + 0.15, xmin + 1.2, ymin + 0.22, fill=TEXT)
    _text(draw, px(xmin + 1.45, ymin + 0.185), "1 m", small_font)
    return image


def _draw_furniture(draw: ImageDraw.ImageDraw, rect, px, piece: Furniture, is_open: bool, ppm: float) -> None:
    """Footprint, a tick out of the front side, and an orange flap in front when a part is open."""
    x0, y0, x1, y1 = piece.footprint()
    fx, fy = round(math.cos(piece.yaw)), round(math.sin(piece.yaw))
    # Midpoint of the front edge and the half length of that edge.
    mx, my = (x1 if fx > 0 else x0 if fx < 0 else (x0 + x1) / 2), (y1 if fy > 0 else y0 if fy < 0 else (y0 + y1) / 2)
    half_edge = (y1 - y0) / 2 if fx else (x1 - x0) / 2
    if is_open:
        depth, half = 0.25, 0.8 * half_edge
        ex, ey = mx + fx * depth, my + fy * depth
        rect(
            min(mx, ex) - abs(fy) * half,
            min(my, ey) - abs(fx) * half,
            max(mx, ex) + abs(fy) * half,
            max(my, ey) + abs(fx) * half,
            fill=OPEN,
            outline=FURNITURE_EDGE,
        )
    rect(x0, y0, x1, y1, fill=FURNITURE_FILL, outline=OPEN if is_open else FURNITURE_EDGE, width=3 if is_open else 2)
    tick = (mx + fx * 0.15, my + fy * 0.15)
    draw.line([px(mx, my), px(*tick)], fill=FURNITURE_EDGE, width=max(2, round(ppm * 0.04)))


def save_topdown(path: str | Path, apartment: Apartment, /, **kwargs) -> Path:
    """Render `apartment` (keyword arguments as for `render_topdown`) and write it as a PNG at `path`."""
    # Positional-only, so that `path=` in kwargs reaches render_topdown as the polyline.
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    render_topdown(apartment, **kwargs).save(out, format="PNG")
    return out
