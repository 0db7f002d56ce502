"""The torch settings a run applies: deterministic everywhere, and CUDA's own switches on cuda.

Runnable without a GPU: the CUDA settings are flags and an environment variable
that take effect at the first kernel, so setting them is what is checked here.
"""

from __future__ import annotations

import pytest
import torch

from edgesim.runner import CUBLAS_WORKSPACE_CONFIG, accuracy_notes, configure_torch


@pytest.fixture
def cuda_flags():
    """Put back the process-wide CUDA flags a test's ``configure_torch("cuda")`` changes."""
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = (cudnn.deterministic, cudnn.benchmark, matmul.fp32_precision, cudnn.conv.fp32_precision)
    yield
    cudnn.deterministic, cudnn.benchmark = saved[:2]
    matmul.fp32_precision, cudnn.conv.fp32_precision = saved[2:]


def test_cuda_gets_cublas_workspace_cudnn_determinism_and_no_tf32(cuda_flags):
    environ: dict[str, str] = {}
    settings = configure_torch(device="cuda", environ=environ)
    assert (
        environ
        == {"CUBLAS_WORKSPACE_CONFIG": CUBLAS_WORKSPACE_CONFIG}
        == {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    )
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert torch.backends.cuda.matmul.fp32_precision == "ieee"
    assert torch.backends.cudnn.conv.fp32_precision == "ieee"
    assert settings == {
        "deterministic_algorithms": True,
        "threads": 1,
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
        "cudnn_deterministic": True,
        "cudnn_benchmark": False,
        "fp32_precision": "ieee",
    }


def test_a_users_cublas_setting_is_kept(cuda_flags):
    environ = {"CUBLAS_WORKSPACE_CONFIG": ":16:8"}
    settings = configure_torch(device="cuda", environ=environ)
    assert environ == {"CUBLAS_WORKSPACE_CONFIG": ":16:8"}
    assert settings["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


def test_cpu_sets_no_cuda_variable():
    environ: dict[str, str] = {}
    assert configure_torch(environ=environ) == {"deterministic_algorithms": True, "threads": 1}
    assert environ == {}


def test_only_cuda_or_batched_clients_make_accuracy_host_dependent():
    assert accuracy_notes("cpu", batch_clients=False) == []
    assert [n.split(":")[0] for n in accuracy_notes("cuda", batch_clients=True)] == [
        "cuda",
        "batch_clients",
    ]
