"""The project's own tooling: test module names, package metadata, setup.sh's checks, and what CI runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_test_modules_have_unique_names() -> None:
    """pytest imports test modules by their file name (no packages under tests/): two of one name cannot both run."""
    names = Counter(path.name for path in (ROOT / "tests").rglob("test_*.py"))
    assert not [name for name, count in names.items() if count > 1]


def test_package_metadata_reads_without_deprecation_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The licence is an SPDX string, so installing prints no setuptools deprecation banner."""
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        distribution = apply_configuration(Distribution(), "pyproject.toml")
    assert [str(w.message) for w in caught] == []
    assert distribution.metadata.license_expression == "Apache-2.0"


def _setup_copy(tmp_path: Path) -> Path:
    """scripts/setup.sh in an empty project folder: whatever it creates lands there, not in this checkout."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    return tmp_path / "scripts" / "setup.sh"


def test_setup_refuses_a_python_older_than_3_10(tmp_path: Path) -> None:
    script = _setup_copy(tmp_path)
    old = tmp_path / "python3.8"
    old.write_text('#!/bin/sh\n[ "$1" = "--version" ] && echo "Python 3.8.18" && exit 0\nexit 1\n')
    old.chmod(0o755)
    result = subprocess.run(
        ["bash", str(script)], env={"PATH": "/usr/bin:/bin", "PYTHON": str(old)}, capture_output=True, text=True
    )
    assert result.returncode == 1 and result.stdout == ""
    assert "needs Python >= 3.10" in result.stderr and "Python 3.8.18" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["python3.8", "scripts"]  # nothing was installed or created


def test_setup_names_a_missing_interpreter(tmp_path: Path) -> None:
    script = _setup_copy(tmp_path)
    result = subprocess.run(
        ["bash", str(script)], env={"PATH": "/usr/bin:/bin", "PYTHON": "python3.99"}, capture_output=True, text=True
    )
    assert result.returncode == 1 and "python3.99 not found" in result.stderr


def test_ci_checks_lint_format_and_types_then_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    readme_command = re.search(r"&& (\.venv/bin/python -m pytest[^\n#]*?)\s*#", (ROOT / "README.md").read_text())
    assert readme_command is not None
    steps = ["bash scripts/setup.sh", ".venv/bin/ruff check .", ".venv/bin/ruff format --check .", ".venv/bin/mypy"]
    assert [line for line in ci if line in steps] == steps
    assert ci[-1] == readme_command.group(1)
