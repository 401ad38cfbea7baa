"""tools/gpu_check.py: what the GPU check runs with and without CUDA (its steps are stubbed here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import gpu_check  # noqa: E402


@pytest.fixture
def stubbed(monkeypatch):
    commands = []

    def fake_step(summary, name, cmd, timeout, log=None):
        commands.append((name, cmd))
        summary["steps"].append({"step": name, "status": "passed", "seconds": 0.0})
        return True

    monkeypatch.setattr(gpu_check, "step", fake_step)
    return commands


@pytest.mark.parametrize("has_cuda", [False, True])
def test_run_skips_gpu_parts_without_cuda_and_says_so(stubbed, monkeypatch, tmp_path, has_cuda):
    monkeypatch.setattr(gpu_check, "environment", lambda: {"cuda_available": has_cuda})
    assert gpu_check.run(tmp_path) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    skipped = [s["step"] for s in summary["steps"] if s["status"] == "skipped: no CUDA device"]
    names = [name for name, _ in stubbed]
    bench = next(cmd for name, cmd in stubbed if name.startswith("bench_gradient"))
    assert [n for n in names if n.startswith("execute")] == [f"execute {Path(p).name}" for p in gpu_check.NOTEBOOKS]
    if has_cuda:
        assert "pytest -m gpu" in names and not skipped and "--quick" not in bench
    else:
        assert skipped == ["pytest -m gpu", "GPU rows of bench_gradient"] and "--quick" in bench


def test_a_failed_step_fails_the_check(monkeypatch, tmp_path):
    monkeypatch.setattr(gpu_check, "environment", lambda: {"cuda_available": False})
    monkeypatch.setattr(gpu_check, "step", lambda summary, name, *a, **k: summary["steps"].append(
        {"step": name, "status": "failed (exit 1)", "seconds": 0.0}))
    assert gpu_check.run(tmp_path) == 1


def test_step_records_status_duration_and_output(tmp_path):
    summary = {"steps": []}
    log = tmp_path / "log.txt"
    assert gpu_check.step(summary, "ok", [sys.executable, "-c", "print('hello')"], 60, log)
    assert not gpu_check.step(summary, "bad", [sys.executable, "-c", "raise SystemExit(3)"], 60)
    assert not gpu_check.step(summary, "slow", [sys.executable, "-c", "import time; time.sleep(5)"], 0.5)
    assert [s["status"] for s in summary["steps"]] == ["passed", "failed (exit 3)", "failed (over its 0 s limit)"]
    assert log.read_text() == "hello\n"


@pytest.mark.parametrize("name,expected", [("pyzmq-27.1.0-cp312-abi3-manylinux_2_28_x86_64.whl", "pyzmq"),
                                           ("jupyter_client-8.6.3-py3-none-any.whl", "jupyter-client"),
                                           ("PyYAML-6.0.3-cp312-cp312-manylinux_2_17_x86_64.whl", "pyyaml")])
def test_distribution_name(name, expected):
    assert gpu_check.distribution_name(Path(name)) == expected
