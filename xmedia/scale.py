"""One training loop for every scale: a plain process, or data-parallel processes under ``torchrun`` /
``accelerate launch``.

``runner(distributed)`` returns an object with ``prepare(*objs)``, ``backward(loss)``, ``unwrap(model)``,
``is_main``, ``num_processes``, ``process_index``, ``device``, ``max(value)`` and ``any(flag)`` (agreed
over the processes: clocks and time limits). Single-process it is a no-op wrapper (the loop behaves exactly
as without it); with ``distributed=True`` (the default when ``WORLD_SIZE`` > 1) it is
HF ``accelerate``'s ``Accelerator`` (DDP: gradients all-reduced, only the main process should write files).
torch and accelerate are imported only when a runner is made.
"""
from __future__ import annotations

import os


class Local:
    """The single-process path: what ``accelerate`` does, minus the processes."""

    is_main, num_processes, process_index = True, 1, 0

    @property
    def device(self):
        import torch

        return torch.device("cpu")

    def prepare(self, *objs):
        return objs

    def backward(self, loss) -> None:
        loss.backward()

    def unwrap(self, model):
        return model

    def max(self, value: float) -> float:
        """The largest ``value`` over the processes (a clock read per process: all agree on it)."""
        return float(value)

    def any(self, flag) -> bool:
        """Whether ``flag`` is true on any process (a time limit read per process: all stop together)."""
        return self.max(1.0 if flag else 0.0) > 0


class Accelerated(Local):
    """Data-parallel processes through ``accelerate.Accelerator`` (needs the ``accelerate`` package)."""

    def __init__(self):
        import torch
        from accelerate import Accelerator

        # without cpu=True, accelerate treats a CPU-only torchrun group as one process (each rank alone)
        self.acc = Accelerator(cpu=not torch.cuda.is_available())
        self.is_main, self.num_processes = self.acc.is_main_process, self.acc.num_processes
        self.process_index = self.acc.process_index

    @property
    def device(self):
        return self.acc.device

    def prepare(self, *objs):
        out = self.acc.prepare(*objs)
        return out if isinstance(out, tuple) else (out,)

    def backward(self, loss) -> None:
        self.acc.backward(loss)

    def unwrap(self, model):
        return self.acc.unwrap_model(model)

    def max(self, value: float) -> float:
        import torch

        t = torch.tensor([float(value)], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return float(t.item())


def runner(distributed: bool | None = None) -> Local:
    """The training runner: ``Accelerated`` when ``distributed`` (``None``: when ``WORLD_SIZE`` > 1), else
    ``Local``."""
    if distributed is None:
        distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    return Accelerated() if distributed else Local()


def is_main_process() -> bool:
    """Whether this process writes files: rank 0 of a ``torchrun`` / ``accelerate launch`` group, or a plain
    process (read from ``RANK``; makes no runner)."""
    return int(os.environ.get("RANK", "0")) == 0


LAUNCH_HINT = "scale out: torchrun --nproc_per_node N -m xmedia.cli train {name} ... (data-parallel; rank 0 writes)"
