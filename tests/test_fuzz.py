"""Fuzz: damaged copies of real files (bytes flipped, truncated, spliced with another file, header zeroed) go
through ``xmedia.load`` and ``xmedia info`` in a worker process under a time and memory limit: the answer is a
result or one of the project's own errors, never another exception, a crash, a hang or a blow-up.

The CI budget is small (``XMEDIA_FUZZ_EXAMPLES``, default 60 examples, about 15-25 s); raise it for a longer run:
``XMEDIA_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py``.
"""
import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
SEEDS = ["audio/loop_amen.flac", "audio/voice_front_center.wav", "audio/elec_chime.flac", "image/home.jpg",
         "image/butterfly.jpg", "video/phone_portrait.mp4", "video/tree.avi"]
EXAMPLES = int(os.environ.get("XMEDIA_FUZZ_EXAMPLES", "60"))
TIME_LIMIT_S = 30  # per file, both calls
MEMORY_LIMIT_BYTES = 6 * 2**30  # address space of the worker (the libraries map a few GiB they never touch)

WORKER = r"""
import json, resource, sys, traceback, warnings
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
warnings.simplefilter("ignore")
import xmedia
from xmedia import cli
import xmedia.io, av, cv2, soundfile  # loaded before the first file, outside its time

def outcome(fn):
    try:
        fn()
        return "ok"
    except xmedia.XMediaError as exc:
        return "error: " + type(exc).__name__
    except BaseException as exc:
        return "CRASH " + "".join(traceback.format_exception(exc))[-1500:]

answers, sys.stdout = sys.stdout, open("/dev/null", "w")  # `info` prints; the answers go on the real stdout
print("ready", file=answers, flush=True)
for line in sys.stdin:
    path = line.strip()
    a = outcome(lambda: xmedia.load(path))
    b = outcome(lambda: cli.main(["info", path]) in (0, 2) or (_ for _ in ()).throw(RuntimeError("exit status")))
    print(json.dumps({"load": a, "info": b}), file=answers, flush=True)
"""


class Worker:
    def __init__(self):
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, str(MEMORY_LIMIT_BYTES)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        assert self._read(120) == "ready"

    def _read(self, timeout_s):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        if not ready:
            return None
        return self.proc.stdout.readline().strip()

    def ask(self, path: Path) -> dict | None:
        """The worker's answer, or None when it hung past the time limit or died (crash, memory)."""
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        line = self._read(TIME_LIMIT_S)
        return json.loads(line) if line else None

    def close(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def worker():
    if not all((MEDIA / s).exists() for s in SEEDS):
        pytest.skip(f"real media not found in {MEDIA} (../shared/media beside the checkout)")
    w = Worker()
    yield w
    w.close()


mutation = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=40)),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("splice"), st.tuples(st.sampled_from(SEEDS), st.floats(0, 1), st.floats(0, 1),
                                           st.integers(1, 4096))),
    st.tuples(st.just("zero_header"), st.integers(1, 512)),
)


def mutate(data: bytes, kind: str, arg) -> bytes:
    b = bytearray(data)
    if kind == "flip":
        for where, value in arg:
            b[min(len(b) - 1, int(where * len(b)))] ^= value or 0xFF
    elif kind == "truncate":
        b = b[: int(arg * len(b))]
    elif kind == "splice":
        other, at, src_at, n = arg
        donor = (MEDIA / other).read_bytes()
        s = int(src_at * max(0, len(donor) - n))
        i = int(at * len(b))
        b[i:i + n] = donor[s:s + n]
    else:
        b[:arg] = bytes(min(arg, len(b)))
    return bytes(b)


@settings(max_examples=EXAMPLES, deadline=None, derandomize="XMEDIA_FUZZ_EXAMPLES" not in os.environ,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), change=mutation)
def test_damaged_files_give_a_result_or_our_error(worker, tmp_path_factory, seed, change):
    path = tmp_path_factory.mktemp("fuzz") / f"damaged{Path(seed).suffix}"
    path.write_bytes(mutate((MEDIA / seed).read_bytes(), *change))
    answer = worker.ask(path)
    if answer is None:
        pytest.fail(f"{seed} {change[0]}: the worker hung (> {TIME_LIMIT_S} s) or died (memory > "
                    f"{MEMORY_LIMIT_BYTES >> 30} GiB, or a crash)")
    for call, result in answer.items():
        assert not result.startswith("CRASH"), f"{seed} {change}: {call} raised\n{result}"
    path.unlink()
