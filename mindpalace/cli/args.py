"""Argument checks shared by the commands: a bad argument ends a command before it does anything, with exit
status 2 and one line on stderr ("mindpalace sim: error: argument --seed: must be an integer >= 0, got '-1'").

Use the checks as argparse types (`type=integer(0)`), so that they run while the command line is read, and
write outputs through `output_folder`, so that a command that fails leaves no half-written folder behind.
"""

from __future__ import annotations

import argparse
import math
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (no usage block), exit status 2. Subcommands inherit the class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high] (no upper bound when high is None)."""
    bounds = f">= {low}" if high is None else f"from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer {bounds}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {bounds}, got {text!r}")
        return value

    return parse


def number(low: float, strict: bool) -> Callable[[str], float]:
    """An argparse type: a finite number above `low` (strict) or at least `low`."""
    bounds = f"> {low:g}" if strict else f">= {low:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number {bounds}, got {text!r}") from None
        if not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"must be a number {bounds}, got {text!r}")
        return value

    return parse


positive_number = number(0.0, strict=True)
non_negative_number = number(0.0, strict=False)


@contextmanager
def output_folder(path: Path) -> Iterator[Path]:
    """Create `path` (and missing parents) for a command's outputs; when the command fails inside the block,
    remove what this created. A folder that existed before is not removed."""
    created = path
    while not created.parent.exists() and created.parent != created:
        created = created.parent
    existed = path.exists()
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        if not existed:
            shutil.rmtree(created, ignore_errors=True)
        raise
