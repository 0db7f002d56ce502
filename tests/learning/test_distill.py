"""Knowledge distillation as a pure function: the loss, its T² scaling, and real learning."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from edgesim.learning.datasets import load_dataset
from edgesim.learning.distill import distill_steps, kd_loss
from edgesim.learning.models import build_model
from edgesim.learning.training import BatchStream, Optimizer, evaluate, train_steps


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread, as runs use (runner.configure_torch): fast on a shared host."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _logits(seed: int) -> torch.Tensor:
    return torch.randn(16, 10, generator=torch.Generator().manual_seed(seed)) * 3


@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_loss_is_zero_when_student_matches_teacher(temperature):
    logits = _logits(0)
    assert kd_loss(logits, logits.clone(), temperature).item() == pytest.approx(0.0, abs=1e-6)
    assert kd_loss(logits, _logits(1), temperature).item() > 0.01


@pytest.mark.parametrize("temperature", [1.0, 2.0, 5.0])
def test_soft_term_is_the_kl_divergence_scaled_by_t_squared(temperature):
    student, teacher = _logits(2), _logits(3)
    p = F.softmax(teacher / temperature, dim=1)
    q = F.softmax(student / temperature, dim=1)
    kl = (p * (p.log() - q.log())).sum(dim=1).mean()
    assert kd_loss(student, teacher, temperature).item() == pytest.approx(
        temperature**2 * kl.item(), rel=1e-5
    )


def test_t_squared_keeps_the_gradient_scale_at_high_temperature():
    # For large T the soft gradient tends to (s - t) / (N·K) with zero-mean logits
    # (Hinton et al. 2015, eq. 3, times T²): the scaling makes it independent of T.
    teacher = _logits(4) - _logits(4).mean(dim=1, keepdim=True)
    plain = _logits(5) - _logits(5).mean(dim=1, keepdim=True)
    limit = (plain - teacher) / (16 * 10)
    for temperature in (300.0, 3000.0):
        student = plain.clone().requires_grad_()
        kd_loss(student, teacher, temperature).backward()
        assert torch.allclose(student.grad, limit, rtol=0.02, atol=2e-4)


def test_hard_label_weight_mixes_in_cross_entropy():
    student, teacher = _logits(6), _logits(7)
    labels = torch.arange(16) % 10
    only_hard = kd_loss(student, teacher, 2.0, labels, hard_label_weight=1.0)
    assert only_hard.item() == pytest.approx(F.cross_entropy(student, labels).item())
    half = kd_loss(student, teacher, 2.0, labels, hard_label_weight=0.5)
    soft = kd_loss(student, teacher, 2.0)
    assert half.item() == pytest.approx(0.5 * soft.item() + 0.5 * only_hard.item(), rel=1e-6)
    with pytest.raises(ValueError, match="labels"):
        kd_loss(student, teacher, 2.0, hard_label_weight=0.5)
    with pytest.raises(ValueError, match="temperature"):
        kd_loss(student, teacher, 0.0)


def _distilled(digits):
    teacher = build_model("cnn-small", digits.train.input_shape, 10, seed=0)
    train_steps(
        teacher,
        BatchStream(digits.train, 32, torch.Generator().manual_seed(0)),
        150,
        Optimizer(lr=0.05),
    )
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = build_model("mlp", digits.train.input_shape, 10, seed=1)
    stream = BatchStream(digits.train, 32, torch.Generator().manual_seed(1))
    loss = distill_steps(student, teacher, stream, 200, Optimizer(lr=0.05), temperature=3.0)
    assert all(torch.equal(v, teacher.state_dict()[k]) for k, v in before.items())  # frozen
    return teacher, student, loss


def test_student_distilled_from_a_trained_teacher_nears_its_accuracy_deterministically(digits):
    teacher, student, loss = _distilled(digits)
    _, again, loss_again = _distilled(digits)
    teacher_accuracy = evaluate(teacher, digits.test)
    assert teacher_accuracy > 0.85
    assert evaluate(student, digits.test) >= teacher_accuracy - 0.05
    assert loss == loss_again
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in student.state_dict().items())
