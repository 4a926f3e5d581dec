"""ROS tests: cyclonedds and rosbags from the `ros` extra; DDS only on the loopback interface, a domain per test."""

from __future__ import annotations

import itertools
import os

import pytest

pytest.importorskip("cyclonedds", reason="the ros extra is not installed (pip install -e '.[ros]')")
pytest.importorskip("rosbags", reason="the ros extra is not installed (pip install -e '.[ros]')")

from mindpalace.ros.dds import loopback_config

# Domain ids 0..232; a base from the process id keeps concurrent test runs on this machine apart.
_DOMAINS = itertools.count()


@pytest.fixture
def domain_id(monkeypatch: pytest.MonkeyPatch) -> int:
    """A domain of this test's own, and CYCLONEDDS_URI confining child processes to the loopback interface."""
    domain = 20 + (os.getpid() * 7 + next(_DOMAINS)) % 200
    monkeypatch.setenv("CYCLONEDDS_URI", loopback_config("lo"))
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    return domain
