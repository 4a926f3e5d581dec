"""Top-down pictures of what spatial memory knows: the costmap, rooms, furniture, objects and relations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from mindpalace.core.grid import GridMap

UNKNOWN, FREE, OCCUPIED, INFLATED = (150, 150, 150), (250, 250, 250), (20, 20, 20), (205, 205, 220)
ROOM_EDGE, FURNITURE, OBJECT, RELATION, FRONTIER = (40, 110, 200), (150, 110, 70), (220, 60, 40), (90, 170, 90), (255, 150, 0)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def costmap_image(known: NDArray[np.int8], navigation: GridMap | None = None, scale: int = 4) -> Image.Image:
    """known: -1 unknown, 0 free, 1 occupied (rows = y). Inflated obstacles tinted. North (+y) up."""
    rgb = np.empty((*known.shape, 3), np.uint8)
    rgb[:] = UNKNOWN
    rgb[known == 0] = FREE
    if navigation is not None:
        rgb[(known == 0) & navigation.blocked] = INFLATED
    rgb[known == 1] = OCCUPIED
    image = Image.fromarray(np.flipud(rgb))
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)


def scene_graph_image(
    graph: nx.DiGraph, grid: GridMap, known: NDArray[np.int8], frontiers: Sequence[tuple[float, float]] = (), scale: int = 4
) -> Image.Image:
    """The costmap with rooms, furniture boxes, objects and their on/in relations drawn over it."""
    image = costmap_image(known, None, scale)
    draw = ImageDraw.Draw(image)
    height = known.shape[0]
    font = _font(11)

    def px(x: float, y: float) -> tuple[float, float]:
        col = (x - grid.origin[0]) / grid.resolution + 0.5
        row = (y - grid.origin[1]) / grid.resolution + 0.5
        return col * scale, (height - row) * scale

    for _, data in graph.nodes(data=True):
        if data["kind"] == "room":
            points = [px(x, y) for x, y in data["polygon"]]
            draw.polygon(points, outline=ROOM_EDGE, width=2)
            cx, cy = float(np.mean([p[0] for p in points])), float(np.mean([p[1] for p in points]))
            draw.text((cx, cy), data["label"], fill=ROOM_EDGE, font=_font(14), anchor="mm")
    for _, data in graph.nodes(data=True):
        if data["kind"] in ("furniture", "part"):
            (x0, y0, _), (x1, y1, _) = data["aabb"]
            a, b = px(x0, y1), px(x1, y0)
            draw.rectangle([a, b], outline=FURNITURE, width=2)
            draw.text(a, data["label"] + (f" ({data['state']})" if data.get("state") else ""), fill=FURNITURE, font=font)
    for a, b, data in graph.edges(data=True):
        if data["relation"] in ("on", "in"):
            draw.line([px(*graph.nodes[a]["center"][:2]), px(*graph.nodes[b]["center"][:2])], fill=RELATION, width=1)
    for _, data in graph.nodes(data=True):
        if data["kind"] == "object":
            x, y = px(*data["center"][:2])
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=OBJECT)
            draw.text((x + 5, y - 6), data["label"], fill=OBJECT, font=font)
    for fx, fy in frontiers:
        x, y = px(fx, fy)
        draw.rectangle([x - 4, y - 4, x + 4, y + 4], outline=FRONTIER, width=2)
    return image


def save_image(image: Image.Image, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
