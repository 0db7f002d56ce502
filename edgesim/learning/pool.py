"""Model modules lent and taken back, like a library's copies of one book.

A scheme asks for a fresh model per client and round (FedAvg's clients,
FedAsync's updates, hand-off's returns). Copying the initial module each time
(``copy.deepcopy``) rebuilds its whole Python object graph — for the small
models of edge studies that cost as much as the client's training step — and
every copy is garbage a round later. A :class:`ModelPool` keeps each module it
lends; once nothing but the pool refers to one (its reference count and its
tensors' are back to what they were when the pool made it, so no ``state_dict()``
view, optimizer or batched job still holds its weights), it is lent again, reset
to the initial weights. The modules alive at once bound the memory, not the
models ever asked for.

A reset module is what a fresh copy would be to everything that trains or
evaluates it: the initial parameters and buffers, no gradients, the initial
``requires_grad`` and training flags. Python attributes that a model's own code
changes are not reset; a model keeping state outside its parameters and buffers
would see it carried over.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping

import torch
from torch import nn

References = tuple[int, tuple[int, ...], tuple[int, ...]]


def _holders(tensor: torch.Tensor) -> int:
    """How many tensors share ``tensor``'s memory (views such as ``state_dict()``'s count)."""
    return torch._C._storage_Use_Count(tensor.untyped_storage()._cdata)


def _tensors(module: nn.Module) -> tuple[torch.Tensor, ...]:
    return (*module.parameters(), *module.buffers())


def _loads_plainly(module: nn.Module) -> bool:
    """``load_state_dict`` would only check keys and shapes and ``copy_`` each tensor."""
    return all(
        type(m)._load_from_state_dict is nn.Module._load_from_state_dict
        and type(m).load_state_dict is nn.Module.load_state_dict
        and not m._load_state_dict_pre_hooks
        and not m._load_state_dict_post_hooks
        for m in module.modules()
    )


class _Loan:
    """One module of a pool, with what refers to it when nobody has borrowed it."""

    def __init__(self, module: nn.Module):
        self.module = module
        self.tensors = _tensors(module)
        self.parameters = list(module.parameters())
        self.modules = list(module.modules())
        self.idle: References = (0, (), ())
        """:meth:`references` while only the pool refers to the module (set once it does)."""

    def references(self) -> References:
        return (
            sys.getrefcount(self.module),
            tuple(sys.getrefcount(t) for t in self.tensors),
            tuple(_holders(t) for t in self.tensors),
        )

    def returned(self) -> bool:
        """Nothing outside the pool refers to the module or shares its tensors' memory."""
        return sys.getrefcount(self.module) == self.idle[0] and self.references() == self.idle


class ModelPool:
    """Copies of ``initial`` on ``device``, each lent again once nobody refers to it."""

    def __init__(self, initial: nn.Module, device: str = "cpu"):
        self._initial = initial
        self._device = device
        self._weights = [t.detach().to(device, copy=True) for t in _tensors(initial)]
        self._training = [m.training for m in initial.modules()]
        self._requires_grad = [p.requires_grad for p in initial.parameters()]
        index = {id(t): i for i, t in enumerate(_tensors(initial))}
        entries = initial.state_dict(keep_vars=True)
        self._keys = {k: index[id(t)] for k, t in entries.items() if id(t) in index}
        """Each state-dict key's tensor, by its place in the module's tensors."""
        self._plain = _loads_plainly(initial) and len(self._keys) == len(entries)
        self._loans: list[_Loan] = []
        self._next = 0

    def __len__(self) -> int:
        """How many modules the pool has made: the most that were ever in use at once."""
        return len(self._loans)

    def take(self, state: Mapping[str, torch.Tensor] | None = None) -> nn.Module:
        """A module as a fresh copy of ``initial`` would be, then with ``state`` loaded if given.

        ``state`` is loaded as ``load_state_dict`` would (strict: the same keys, the
        same shapes, each tensor copied); without its per-module walk when the model
        has no loading hooks of its own, and by ``load_state_dict`` itself otherwise
        or when the keys or shapes differ (for its error message).
        """
        loan = self._returned() or self._new()
        self._reset(loan)
        if state is not None:
            self._load(loan, state)
        return loan.module

    def _returned(self) -> _Loan | None:
        count = len(self._loans)
        for offset in range(count):  # from where the last search stopped: the oldest loans
            index = (self._next + offset) % count
            if self._loans[index].returned():
                self._next = index + 1
                return self._loans[index]
        return None

    def _new(self) -> _Loan:
        loan = _Loan(copy.deepcopy(self._initial).to(self._device))
        loan.idle = loan.references()  # nothing but the loan refers to the new module yet
        self._loans.append(loan)
        self._next = 0
        return loan

    @torch.no_grad()
    def _reset(self, loan: _Loan) -> None:
        for tensor, initial in zip(loan.tensors, self._weights, strict=True):
            tensor.copy_(initial)
        for parameter, requires_grad in zip(loan.parameters, self._requires_grad, strict=True):
            parameter.grad = None
            parameter.requires_grad_(requires_grad)
        for module, training in zip(loan.modules, self._training, strict=True):
            module.training = training

    @torch.no_grad()
    def _load(self, loan: _Loan, state: Mapping[str, torch.Tensor]) -> None:
        keys = self._keys
        plain = (
            self._plain
            and state.keys() == keys.keys()
            and all(
                isinstance(value, torch.Tensor) and value.shape == loan.tensors[keys[k]].shape
                for k, value in state.items()
            )
        )
        if not plain:
            loan.module.load_state_dict(state)
            return
        for key, value in state.items():
            loan.tensors[keys[key]].copy_(value)
