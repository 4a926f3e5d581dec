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


@pytest.fixture(scope="session")
def embedder():
    """The offline text embedder (all-MiniLM-L6-v2), loaded once for the session."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from mindpalace.perception.embeddings import TextEmbedder

    text = TextEmbedder()
    text.embed(["object"])
    return text


@pytest.fixture(scope="session")
def sim_bag(tmp_path_factory):
    """A short bag of the simulated robot (160x120): camera, instances, TF, /clock, the floor plan."""
    from mindpalace.ros.record import record_sim

    path = tmp_path_factory.mktemp("bags") / "sim"
    record_sim(path, seed=0, steps=12, width=160, height=120)
    return path


@pytest.fixture
def make_node(embedder):
    """MemoryNode factory on a bank path, with the simulator's ground-truth segmenter and the shared embedder."""
    from mindpalace.agent.config import MemoryBankConfig
    from mindpalace.core.config import Component
    from mindpalace.memory.system import MemorySystem
    from mindpalace.perception.pipeline import PerceptionConfig, PerceptionPipeline
    from mindpalace.ros.memory_node import MemoryNode, MemoryNodeConfig

    made = []

    def make(bank, **settings):
        segmenter = Component("ground_truth", {"kinds": ["object", "furniture", "part"]})
        config = MemoryNodeConfig(
            perception=PerceptionConfig(segmenter=segmenter),
            memory=MemoryBankConfig(bank=str(bank)),
            **{"rate_hz": 0.0, **settings},
        )
        node = MemoryNode(
            config, MemorySystem.open(bank, "mindpalace", embedder=embedder), PerceptionPipeline(config.perception, embedder)
        )
        made.append(node)
        return node

    yield make
    for node in made:
        try:
            node.close()
        except Exception:  # closed by the test already
            pass
