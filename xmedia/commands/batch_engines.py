"""Where a batch's jobs run: ``local`` (a process pool on this machine) or ``ray`` (Ray tasks on a cluster).

Each engine is ``run_<engine>(jobs, workers, **options)``, a generator of ``JobResult`` in completion order;
every job runs ``jobs.run_job``, so both engines write the same files. Ray is imported only when asked for.
"""
from __future__ import annotations

import importlib.util
import os
import sys

from xmedia.errors import ConfigError, XMediaError

from . import areas
from .jobs import JobResult, run_job

ENGINES = ("local", "ray")
HEAVY = ("torch", "scipy.signal", "scipy.stats", "scipy.ndimage", "cv2", "av")  # seconds to import, first use
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def threads_per_worker(workers: int) -> int:
    return max(1, cpu_count() // max(1, workers))


def _limit_threads(threads: int) -> None:
    """Each worker uses its share of the cores: N workers with N threads each would fight over them."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:
        pass


def preload_modules(jobs) -> list[str]:
    """What the pool's fork server imports once, so that no worker pays it again: the CLI and its areas, the
    modules of the steps on the jobs' routes, and the heavy libraries those steps import when they first run."""
    from xmedia.routing import registry

    from .jobs import input_kind

    found = ["xmedia.commands.jobs", *(area.__name__ for area in areas())]
    reg = registry()
    for kind, to in sorted({(input_kind(job.input), job.to) for job in jobs}):
        try:
            route = reg.plan(kind, to)
        except XMediaError:
            continue  # the job itself will say why
        for step in route.steps:
            module = step.target.split(":", 1)[0] if isinstance(step.target, str) else step.target.__module__
            if module not in found:
                found.append(module)
    return found + [m for m in HEAVY if importlib.util.find_spec(m.split(".")[0])]


def run_local(jobs, workers: int):
    """Run the jobs in a pool of ``workers`` processes (one process: in this one, one after another).

    The pool forks from a server process that has imported xmedia once (``forkserver``), so a worker starts in
    milliseconds and shares nothing mutable with the caller. A worker that dies (killed, out of memory) fails the
    jobs it had not finished with a clear message; a rerun resumes them."""
    jobs = list(jobs)
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_job(job)
        return
    import multiprocessing  # stdlib, but tens of ms to import: only when a pool starts (xmedia --help stays fast)
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    threads = threads_per_worker(workers)
    for var in THREAD_VARS:  # before the server starts: OpenMP reads them when it loads
        os.environ.setdefault(var, str(threads))
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(preload_modules(jobs))
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context, initializer=_limit_threads,
                               initargs=(threads,))
    try:
        pending = {pool.submit(run_job, job): job for job in jobs}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    yield JobResult(job, False, error="xmedia: error: a worker process died (killed or out of memory) "
                                                      "before this item finished; rerun the batch to resume it",
                                    error_type="BrokenProcessPool")
    finally:  # Ctrl+C or a caller that stops early: drop the queued items instead of running them all first
        pool.shutdown(wait=True, cancel_futures=True)


def run_ray(jobs, workers: int, address: str | None = None):
    """Run the jobs as Ray tasks (one CPU each) on the cluster at ``address`` (``auto``: the running one), or on
    a Ray instance the caller already started (``ray.init``), or on a new local one with ``workers`` CPUs.

    Every node must see the inputs and the output folder at the same paths (a shared filesystem)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'xmedia[batch]' (or pip install 'ray[default]')") from None
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1, max_retries=0)(run_job)
    pending = {remote.remote(job): job for job in jobs}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            job = pending.pop(ref)
            try:
                yield ray.get(ref)
            except ray.exceptions.RayError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                yield JobResult(job, False, error=f"xmedia: error: the Ray task failed: {first}",
                                error_type=type(exc).__name__)


def run(engine: str, jobs, workers: int, address: str | None = None):
    if engine == "local":
        if address:
            raise ConfigError("--address is for --engine ray")
        return run_local(jobs, workers)
    if engine == "ray":
        return run_ray(jobs, workers, address)
    raise ConfigError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
