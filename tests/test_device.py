"""Tests of mathcore.device.

Most tests fake the hardware with monkeypatch (CUDA/MPS present or absent), so
the selection logic is tested on any machine. Tests marked ``gpu`` use a real
CUDA device and are skipped without one.
"""

import types

import pytest
import torch

from mathcore import device as md

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch):
    """Isolate every test from a MATHCORE_DEVICE set in the caller's shell."""
    monkeypatch.delenv(md.ENV_VAR, raising=False)


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


@pytest.fixture
def fake_cuda(monkeypatch):
    """Pretend there are two CUDA devices, the current one being cuda:0, and no MPS."""
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    monkeypatch.setattr(
        torch.cuda,
        "get_device_properties",
        lambda device: types.SimpleNamespace(name="Fake GPU", total_memory=80 * 2**30),
    )
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    return calls


@pytest.fixture
def fake_mps(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.mps, "synchronize", lambda: calls.append("mps"))
    return calls


# ---------------------------------------------------------------------------
# default_device: order and fallback
# ---------------------------------------------------------------------------


def test_cpu_fallback(cpu_only):
    assert md.default_device() == torch.device("cpu")
    assert md.resolve_device() == torch.device("cpu")
    assert md.resolve_device("auto") == torch.device("cpu")


def test_cuda_preferred(fake_cuda):
    assert md.default_device() == torch.device("cuda", 0)


def test_mps_when_no_cuda(fake_mps):
    assert md.default_device() == torch.device("mps", 0)


def test_cuda_preferred_over_mps(fake_cuda, monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert md.default_device() == torch.device("cuda", 0)


def test_follows_the_current_cuda_device(fake_cuda, monkeypatch):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert md.default_device() == torch.device("cuda", 1)
    assert md.resolve_device("cuda") == torch.device("cuda", 1)


# ---------------------------------------------------------------------------
# the MATHCORE_DEVICE override
# ---------------------------------------------------------------------------


def test_env_override_beats_cuda(fake_cuda, monkeypatch):
    monkeypatch.setenv("MATHCORE_DEVICE", "cpu")
    assert md.default_device() == torch.device("cpu")
    assert md.resolve_device(None) == torch.device("cpu")
    assert md.resolve_device("auto") == torch.device("cpu")
    monkeypatch.setenv("MATHCORE_DEVICE", "cuda:1")
    assert md.default_device() == torch.device("cuda", 1)


def test_explicit_argument_beats_env(fake_cuda, monkeypatch):
    monkeypatch.setenv("MATHCORE_DEVICE", "cpu")
    assert md.resolve_device("cuda") == torch.device("cuda", 0)


@pytest.mark.parametrize("value", ["auto", ""])
def test_env_auto_or_empty_means_unset(fake_mps, monkeypatch, value):
    monkeypatch.setenv("MATHCORE_DEVICE", value)
    assert md.default_device() == torch.device("mps", 0)


@pytest.mark.parametrize(
    "value, reason",
    [
        ("gpu", "expected 'auto', 'cpu'"),
        ("CUDA", "expected 'auto', 'cpu'"),
        (" cpu", "expected 'auto', 'cpu'"),
        ("meta", "expected 'auto', 'cpu'"),
        ("cuda", "CUDA is not available"),
        ("cuda:0", "CUDA is not available"),
        ("mps", "MPS is not available"),
        ("cpu:1", "only one CPU"),
    ],
)
def test_env_invalid_or_unavailable(cpu_only, monkeypatch, value, reason):
    monkeypatch.setenv("MATHCORE_DEVICE", value)
    for call in (md.default_device, md.resolve_device, lambda: md.resolve_device("auto")):
        with pytest.raises(ValueError, match=r"^MATHCORE_DEVICE: ") as info:
            call()
        assert reason in str(info.value)
        assert repr(value) in str(info.value)  # says what was received


def test_env_cuda_index_out_of_range(fake_cuda, monkeypatch):
    monkeypatch.setenv("MATHCORE_DEVICE", "cuda:2")
    with pytest.raises(ValueError, match=r"^MATHCORE_DEVICE: this machine has 2 CUDA device"):
        md.default_device()


# ---------------------------------------------------------------------------
# resolve_device
# ---------------------------------------------------------------------------


def test_resolve_cpu(cpu_only):
    for arg in ("cpu", "cpu:0", torch.device("cpu")):
        assert md.resolve_device(arg) == torch.device("cpu")
    assert md.resolve_device("cpu") == torch.zeros(1).device


@pytest.mark.parametrize("arg", ["cuda", "cuda:0", torch.device("cuda")])
def test_resolve_cuda_on_cpu_only_machine(cpu_only, arg):
    with pytest.raises(ValueError, match=r"^device: CUDA is not available .*got 'cuda"):
        md.resolve_device(arg)


def test_resolve_mps_unavailable(cpu_only):
    with pytest.raises(ValueError, match=r"^device: Apple MPS is not available.*got 'mps'"):
        md.resolve_device("mps")


def test_resolve_with_fake_cuda(fake_cuda):
    assert md.resolve_device("cuda") == torch.device("cuda", 0)
    assert md.resolve_device(torch.device("cuda", 1)) == torch.device("cuda", 1)
    with pytest.raises(ValueError, match=r"^device: this machine has 2 CUDA device.*'cuda:5'"):
        md.resolve_device("cuda:5")


def test_resolve_with_fake_mps(fake_mps):
    assert md.resolve_device("mps") == torch.device("mps", 0)
    with pytest.raises(ValueError, match=r"^device: there is only one MPS device"):
        md.resolve_device("mps:1")


@pytest.mark.parametrize("arg", ["gpu", "cuda:x", "", "xpu", "meta"])
def test_resolve_unknown_string(cpu_only, arg):
    with pytest.raises(ValueError, match=rf"^device: expected 'auto', 'cpu'.*got {arg!r}"):
        md.resolve_device(arg)


@pytest.mark.parametrize("arg", [0, 1.0, ["cpu"], b"cpu"])
def test_resolve_wrong_type(arg):
    with pytest.raises(TypeError, match=r"^device: expected None, a string or a torch.device"):
        md.resolve_device(arg)


# ---------------------------------------------------------------------------
# synchronize and describe_device
# ---------------------------------------------------------------------------


def test_synchronize_cpu_is_a_no_op(cpu_only, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("must not be called for the CPU")

    monkeypatch.setattr(torch.cuda, "synchronize", fail)
    monkeypatch.setattr(torch.mps, "synchronize", fail)
    assert md.synchronize("cpu") is None
    assert md.synchronize() is None


def test_synchronize_dispatches_to_cuda(fake_cuda):
    md.synchronize("cuda:1")
    md.synchronize()
    assert fake_cuda == [torch.device("cuda", 1), torch.device("cuda", 0)]


def test_synchronize_dispatches_to_mps(fake_mps):
    md.synchronize("mps")
    assert fake_mps == ["mps"]


def test_synchronize_validates(cpu_only):
    with pytest.raises(ValueError, match=r"^device: CUDA is not available"):
        md.synchronize("cuda")


def test_describe_cpu():
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert md.describe_device("cpu") == "CPU (1 thread)"
        torch.set_num_threads(2)
        assert md.describe_device(torch.device("cpu")) == "CPU (2 threads)"
    finally:
        torch.set_num_threads(old)


def test_describe_fake_gpus(fake_cuda, monkeypatch):
    assert md.describe_device() == "Fake GPU (cuda:0, 80 GiB)"
    assert md.describe_device("cuda:1") == "Fake GPU (cuda:1, 80 GiB)"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert md.describe_device() == "Apple MPS (mps:0)"


def test_describe_validates(cpu_only):
    with pytest.raises(ValueError, match=r"^device: CUDA is not available"):
        md.describe_device("cuda")


# ---------------------------------------------------------------------------
# on a real GPU
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("arg", ["cuda", "cuda:0", torch.device("cuda"), None, "auto"])
@pytest.mark.gpu
@requires_cuda
def test_real_cuda_resolves_to_the_tensor_device(arg):
    device = md.resolve_device(arg)
    assert device.type == "cuda"
    assert device == torch.zeros(1, device=device).device


@pytest.mark.gpu
@requires_cuda
def test_real_cuda_synchronize_and_describe():
    x = torch.randn(512, 512, device="cuda")
    y = x @ x
    md.synchronize("cuda")
    assert torch.cuda.current_stream().query()  # nothing left queued after synchronize
    assert torch.isfinite(y).all()
    assert md.describe_device("cuda").startswith(torch.cuda.get_device_name(0))
    with pytest.raises(ValueError, match=r"^device: this machine has \d+ CUDA device"):
        md.resolve_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.gpu
@requires_cuda
def test_real_cuda_env_override_to_cpu(monkeypatch):
    monkeypatch.setenv("MATHCORE_DEVICE", "cpu")
    assert md.default_device() == torch.device("cpu")
