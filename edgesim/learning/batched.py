"""Many clients' local training as one torch computation: stacked weights under ``vmap``.

A fleet of phones training one architecture runs the same small kernels once per
client, one after another; an accelerator sits mostly idle on each. Stacking the
K clients' parameters along a new leading dimension and mapping one client's
step over it with ``torch.func.vmap`` (``functional_call`` + ``grad``, as the
torch.func "model ensembling" and per-sample-gradient recipes do) runs K steps
as one batched kernel each. Every client keeps its own weights, batches, SGD
momentum and proximal anchor, so the result is that of :func:`train_steps` per
client within float rounding (the kernels sum in a different order), not bit
for bit: the batched path is opt-in, and a run says when it used it.

:func:`train_batched` is :func:`train_steps` for K clients. :class:`ClientBatcher`
lets the simulator defer clients' torch work to the moment its first result is
needed and train every client whose training had begun by then together: see its
docstring for why that gives the sequential result.

What is batched: models with no buffers, BatchNorm or dropout (running statistics,
batch statistics and per-client random masks are what this module does not stack;
every built-in model qualifies, see ``models._norm``), every
parameter trainable, the plain objective or :class:`Proximal`, and the plain
SGD of :class:`Optimizer`. Anything else trains sequentially (:func:`unbatchable`
says why). A step's short batches are padded with zero samples of weight zero, so a
model's forward must treat samples independently, as every layer but BatchNorm does
(a user's forward mixing samples by hand is not detected); a forward that draws
random numbers raises (``vmap``'s ``randomness="error"``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

from edgesim.learning.training import (
    PLAIN,
    BatchStream,
    LocalUpdate,
    Optimizer,
    Proximal,
    train_steps,
)

log = logging.getLogger(__name__)

MIRRORED_OPTIMIZER = ("lr", "momentum", "weight_decay")
"""The :class:`Optimizer` settings :func:`_sgd_step` reproduces (``torch.optim.SGD``'s update)."""


def unbatchable(model: nn.Module, update: LocalUpdate, optimizer: Optimizer) -> str | None:
    """Why ``model`` cannot be trained with others here, or ``None`` if it can."""
    if type(update) not in (LocalUpdate, Proximal):
        return f"its local update {type(update).__name__} is not the plain one or Proximal"
    if tuple(f.name for f in dataclasses.fields(optimizer)) != MIRRORED_OPTIMIZER:
        return "the optimizer has settings the batched SGD step does not reproduce"
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        return "it has BatchNorm (statistics over the batch, which padding would change)"
    if next(model.buffers(), None) is not None:
        return "it has buffers (state that may change as it trains)"
    if any(isinstance(m, nn.modules.dropout._DropoutNd) for m in model.modules()):
        return "it has dropout (a random mask per client and step)"
    params = list(model.parameters())
    if not params:
        return "it has no parameters"
    if not all(p.requires_grad and p.is_floating_point() for p in params):
        return "some parameters are frozen or not floating point"
    return None


def group_key(model: nn.Module) -> Hashable:
    """Models with equal keys share one architecture: one of them can run the others' weights."""
    return (
        tuple(type(m) for m in model.modules()),
        tuple((n, tuple(p.shape), p.dtype, p.device) for n, p in model.named_parameters()),
        getattr(model, "edgesim_workload", None),
    )


@dataclass
class Client:
    """One client's part of a batched call: its model, where its batches come from, how many."""

    model: nn.Module
    batches: BatchStream
    steps: int
    update: LocalUpdate = PLAIN


@dataclass
class Trained:
    """A client's weights after its steps (by parameter name) and its mean data loss."""

    parameters: dict[str, torch.Tensor]
    loss: float


def _objective(template: nn.Module, proximal: bool) -> object:
    """One client's step: (objective, data loss) of its weights on its (padded) batch.

    ``weight`` is 1/n on the client's n real samples and 0 on padding, so the data
    loss is :class:`~torch.nn.CrossEntropyLoss`'s mean; the proximal term is
    :class:`Proximal`'s ``rho/2 · ||w − anchor||²``.
    """

    def objective(params, x, y, weight, anchor, rho):
        logits = functional_call(template, params, (x,))
        data = (nn.functional.cross_entropy(logits, y, reduction="none") * weight).sum()
        if not proximal:
            return data, data
        drift = sum(((params[n] - anchor[n]) ** 2).sum() for n in params)
        return data + rho / 2 * drift, data

    return objective


def _sgd_step(
    params: dict[str, torch.Tensor],
    grads: dict[str, torch.Tensor],
    buffers: dict[str, torch.Tensor],
    optimizer: Optimizer,
) -> None:
    """``torch.optim.SGD.step`` (no dampening, not Nesterov) on stacked weights, in place.

    The operations are SGD's own (``_single_tensor_sgd``), in its order: decay
    added to the gradient, the momentum buffer started as the first gradient
    and then ``buf · momentum + grad``, and ``p − lr · buf``. ``params`` and
    ``buffers`` are the leading rows of the stacks (the clients still training).
    """
    for name, param in params.items():
        grad = grads[name]
        if optimizer.weight_decay:
            grad = grad.add(param, alpha=optimizer.weight_decay)
        if optimizer.momentum:
            if name in buffers:
                grad = buffers[name].mul_(optimizer.momentum).add_(grad)
            else:
                buffers[name] = grad = grad.clone()
        param.add_(grad, alpha=-optimizer.lr)


def _padded(
    batches: Sequence[tuple[torch.Tensor, torch.Tensor]], device: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step's batches stacked, the short ones padded, and each row's loss weight.

    Padding rows are zeros (finite through any model) of weight 0; a client's n
    real rows weigh 1/n each, so its loss is the batch mean.
    """
    size = max(len(x) for x, _ in batches)
    xs, ys, weights = [], [], []
    for x, y in batches:
        real = len(x)
        xs.append(torch.cat([x, x.new_zeros((size - real, *x.shape[1:]))]))
        ys.append(torch.cat([y, y.new_zeros(size - real)]))
        weight = torch.zeros(size)
        weight[:real] = 1.0 / real
        weights.append(weight)
    return (
        torch.stack(xs).to(device),
        torch.stack(ys).to(device),
        torch.stack(weights).to(device),
    )


def trained_parameters(
    clients: Sequence[Client], optimizer: Optimizer, device: str = "cpu"
) -> list[Trained]:
    """Each client's weights after its steps, trained together; the models are not changed.

    Every client must share one architecture (:func:`group_key`), pass
    :func:`unbatchable` and take at least one step. Batches are drawn from each
    client's stream in its own order, as :func:`train_steps` draws them, one step
    at a time (memory holds one step's batches). Clients are stacked by
    decreasing step count, so those still training are always the leading rows
    and a client whose steps are done costs nothing more; a short last batch of
    an epoch is padded and weighed out.
    """
    if not clients:
        return []
    ranked = sorted(range(len(clients)), key=lambda k: -clients[k].steps)
    order = [clients[k] for k in ranked]
    template = order[0].model
    names = [name for name, _ in template.named_parameters()]
    named = [dict(c.model.named_parameters()) for c in order]
    with torch.no_grad():
        params = {n: torch.stack([own[n].detach() for own in named]).to(device) for n in names}
    proximal = any(isinstance(c.update, Proximal) and c.update.rho for c in order)
    anchors = rho = None
    if proximal:
        anchored = [isinstance(c.update, Proximal) and c.update.rho for c in order]
        anchors = {
            n: torch.stack(
                [
                    c.update.anchor[i] if a else params[n][k]
                    for k, (c, a) in enumerate(zip(order, anchored, strict=True))
                ]
            ).to(device)
            for i, n in enumerate(names)
        }
        rho = torch.tensor(
            [c.update.rho if a else 0.0 for c, a in zip(order, anchored, strict=True)],
            device=device,
        )
    step = vmap(
        grad_and_value(_objective(template, proximal), has_aux=True),
        in_dims=(0, 0, 0, 0, 0 if proximal else None, 0 if proximal else None),
        randomness="error",  # a model drawing random numbers in forward is not batched here
    )
    buffers: dict[str, torch.Tensor] = {}
    totals = torch.zeros(len(order), dtype=torch.float64, device=device)
    for t in range(order[0].steps):
        live = sum(c.steps > t for c in order)
        x, y, weight = _padded([c.batches.next_batch() for c in order[:live]], device)
        rows = {n: p[:live] for n, p in params.items()}
        grads, (_, data_loss) = step(
            rows,
            x,
            y,
            weight,
            {n: a[:live] for n, a in anchors.items()} if proximal else None,
            rho[:live] if proximal else None,
        )
        _sgd_step(
            rows, grads, {n: b[:live] for n, b in buffers.items()} if t else buffers, optimizer
        )
        totals[:live] += data_loss.detach().double()
    means = (totals.cpu() / torch.tensor([c.steps for c in order], dtype=torch.float64)).tolist()
    trained = [Trained({n: params[n][row] for n in names}, means[row]) for row in range(len(order))]
    row_of = {k: row for row, k in enumerate(ranked)}
    return [trained[row_of[k]] for k in range(len(clients))]


def _write(model: nn.Module, trained: Trained) -> None:
    """Put ``trained`` into ``model`` as :func:`train_steps` leaves it (in train mode)."""
    model.train()
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(trained.parameters[name])


def _check_finite(mean: float) -> None:
    if not torch.isfinite(torch.tensor(mean)):
        raise FloatingPointError(f"training diverged (mean loss {mean}); lower the learning rate")


def train_batched(
    models: Sequence[nn.Module],
    streams: Sequence[BatchStream],
    steps: Sequence[int],
    optimizer: Optimizer,
    device: str = "cpu",
    updates: Sequence[LocalUpdate] | None = None,
) -> list[float]:
    """:func:`train_steps` on every model at once, in place; each one's mean training loss.

    Models of one architecture are trained together; a model that
    :func:`unbatchable` rejects, or alone in its architecture, trains sequentially.
    """
    updates = list(updates) if updates is not None else [PLAIN] * len(models)
    losses: list[float | None] = [None] * len(models)
    groups: dict[Hashable, list[int]] = {}
    for k, (model, update, count) in enumerate(zip(models, updates, steps, strict=True)):
        if count and unbatchable(model, update, optimizer) is None:
            groups.setdefault(group_key(model), []).append(k)
    for members in groups.values():
        if len(members) < 2:
            continue
        clients = [Client(models[k], streams[k], steps[k], updates[k]) for k in members]
        results = trained_parameters(clients, optimizer, device)
        for k, result in zip(members, results, strict=True):
            _write(models[k], result)
            losses[k] = result.loss
    for k, loss in enumerate(losses):
        if loss is None:
            losses[k] = train_steps(models[k], streams[k], steps[k], optimizer, device, updates[k])
        else:
            _check_finite(loss)
    return losses


def _unchanged(job: Job) -> bool:
    """Nothing the job's result was computed from has changed since it was read."""
    order, cursor = job.stream.position
    params = list(job.model.parameters())
    return (
        order is job.start[0]
        and cursor == job.start[1]
        and len(params) == len(job.read)
        and all(p is q and p._version == v for p, (q, v) in zip(params, job.read, strict=True))
    )


@dataclass(eq=False)
class Job:
    """One client's training, begun at some simulated time and not yet applied."""

    model: nn.Module
    stream: BatchStream
    steps: int
    update: LocalUpdate
    key: Hashable
    start: tuple[object, int]
    forked: BatchStream
    result: Trained | None = None
    read: list[tuple[torch.Tensor, int]] = field(default_factory=list)


class ClientBatcher:
    """Clients' torch work deferred within the simulated clock and run together.

    In the simulator a client's steps are charged on the clock first and taken
    for real when its compute ends (:meth:`Runtime.train_on`); what they compute
    depends only on the weights and the batches then, not on simulated time. A
    client whose training begins registers a :class:`Job` (:meth:`begin`); when
    any job's compute ends, every job of its architecture registered by then is
    trained together (a FedAvg round's clients all begin before the first ends),
    and each result is applied when that client's own compute ends
    (:meth:`finish`). A job whose device fails first is dropped (:meth:`drop`),
    so its work is lost as in a sequential run.

    The result is the sequential one because it is applied only if nothing it
    read changed meanwhile: the model's parameters since they were read (their
    tensors and version counters), and the client's batch stream since the job
    began (another training on the same data in between). Otherwise the client
    trains sequentially at its end, as it always would. The batches come from a
    fork of the stream (``BatchStream.fork``), which the stream catches up with
    only when the result is kept.

    ``counts``: batched calls (``groups``), trainings applied from one
    (``batched``), trained sequentially (alone in a group, or their inputs
    changed), and ``dropped``. ``max_clients`` bounds a call's memory.
    """

    def __init__(self, optimizer: Optimizer, device: str = "cpu", max_clients: int = 256):
        self.optimizer = optimizer
        self.device = device
        self.max_clients = max_clients
        self._waiting: dict[Hashable, list[Job]] = {}
        self.counts = {"groups": 0, "batched": 0, "sequential": 0, "dropped": 0}

    def begin(
        self, model: nn.Module, stream: BatchStream, steps: int, update: LocalUpdate = PLAIN
    ) -> Job | None:
        """Register a client's training; ``None`` if it must train sequentially."""
        if not steps:
            return None
        reason = unbatchable(model, update, self.optimizer)
        if reason is not None:
            log.debug("training %s sequentially: %s", type(model).__name__, reason)
            return None
        job = Job(model, stream, steps, update, group_key(model), stream.position, stream.fork())
        self._waiting.setdefault(job.key, []).append(job)
        return job

    def drop(self, job: Job) -> None:
        """The client's compute did not finish (its device failed, the run ended): no result."""
        waiting = self._waiting.get(job.key, [])
        if job in waiting:
            waiting.remove(job)
        job.result = None
        self.counts["dropped"] += 1

    def finish(self, job: Job) -> float:
        """The client's compute ended: apply its result (training its group first if need be)."""
        if job in self._waiting.get(job.key, ()):
            self._run(job.key)
        if job.result is not None and _unchanged(job):
            job.stream.catch_up(job.forked)
            _write(job.model, job.result)
            self.counts["batched"] += 1
            _check_finite(job.result.loss)
            return job.result.loss
        self.counts["sequential"] += 1  # alone in its group, or its inputs changed
        return train_steps(
            job.model, job.stream, job.steps, self.optimizer, self.device, job.update
        )

    def _run(self, key: Hashable) -> None:
        jobs = self._waiting.pop(key)
        for start in range(0, len(jobs), self.max_clients):
            chunk = jobs[start : start + self.max_clients]
            if len(chunk) < 2:
                continue
            self.counts["groups"] += 1
            clients = [Client(j.model, j.forked, j.steps, j.update) for j in chunk]
            for job in chunk:
                job.read = [(p, p._version) for p in job.model.parameters()]
            results = trained_parameters(clients, self.optimizer, self.device)
            for job, result in zip(chunk, results, strict=True):
                job.result = result
