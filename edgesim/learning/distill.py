"""Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
Network"): a student learns to match a frozen teacher's softened outputs.

Seeds 003 and 004 distil in both directions on the server's data: *forward*
(the large global model teaches the small one) and *reverse* (the averaged
small model teaches the large one). These are plain torch functions with no
clock; the runtime charges their cost (:meth:`Runtime.distill`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from edgesim.learning.training import BatchStream, Optimizer


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float,
    labels: torch.Tensor | None = None,
    hard_label_weight: float = 0.0,
) -> torch.Tensor:
    """``T² · KL(softmax(teacher/T) ‖ softmax(student/T))``, optionally mixed with cross-entropy.

    The ``T²`` factor keeps the soft term's gradients the same size as the
    hard-label term's when ``T`` changes (Hinton et al. 2015, section 2). With
    ``hard_label_weight = w`` the loss is ``(1 − w) · soft + w · CE(student, labels)``.
    """
    if temperature <= 0:
        raise ValueError(f"temperature(={temperature}) must be > 0")
    if not 0.0 <= hard_label_weight <= 1.0:
        raise ValueError(f"hard_label_weight(={hard_label_weight}) must be in [0, 1]")
    soft = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=1),
        F.log_softmax(teacher_logits / temperature, dim=1),
        log_target=True,
        reduction="batchmean",
    ) * (temperature**2)
    if hard_label_weight == 0.0:
        return soft
    if labels is None:
        raise ValueError("hard_label_weight > 0 needs the labels")
    hard = F.cross_entropy(student_logits, labels)
    return (1.0 - hard_label_weight) * soft + hard_label_weight * hard


def distill_steps(
    student: nn.Module,
    teacher: nn.Module,
    batches: BatchStream,
    steps: int,
    optimizer: Optimizer,
    temperature: float,
    hard_label_weight: float = 0.0,
    device: str = "cpu",
) -> float:
    """Train ``student`` in place for ``steps`` SGD steps towards the frozen ``teacher``.

    Both models see the same batches of the holder's data; the teacher is
    evaluated without gradients and left unchanged. Returns the mean loss.
    """
    teacher_was_training = teacher.training
    teacher.eval()
    student.train()
    opt = optimizer.make(student)
    total = 0.0
    for _ in range(steps):
        x, y = batches.next_batch()
        x, y = x.to(device), y.to(device)
        with torch.no_grad():
            target = teacher(x)
        opt.zero_grad(set_to_none=True)
        loss = kd_loss(student(x), target, temperature, y, hard_label_weight)
        loss.backward()
        opt.step()
        total += loss.item()
    teacher.train(teacher_was_training)
    mean = total / max(steps, 1)
    if steps and not torch.isfinite(torch.tensor(mean)):
        raise FloatingPointError(
            f"distillation diverged (mean loss {mean}); lower the learning rate"
        )
    return mean
