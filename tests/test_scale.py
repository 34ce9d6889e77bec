"""xmedia.scale: one training loop for one process or data-parallel processes (torchrun / accelerate)."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import corpus_path

from xmedia.adapters.text import CharGRU
from xmedia.scale import Local, is_main_process, runner

ROOT = Path(__file__).resolve().parents[1]


def test_import_xmedia_stays_light():
    code = "import sys, xmedia, xmedia.scale; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_single_process_runner_is_a_no_op(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    r = runner()
    assert isinstance(r, Local) and r.is_main and is_main_process()
    assert (r.num_processes, r.process_index, r.device) == (1, 0, torch.device("cpu"))
    model, opt = torch.nn.Linear(2, 1), object()
    assert r.prepare(model, opt) == (model, opt) and r.unwrap(model) is model
    assert r.max(2.5) == 2.5 and r.any(True) and not r.any(False)


def _gru_fit(text, **options):
    torch.manual_seed(0)
    model = CharGRU(sorted(set(text)), embed_dim=8, hidden=16)
    model.fit(text, max_steps=6, batch_size=4, seq_len=16, eval_every=3, seed=3, **options)
    return model.state_dict()


def test_local_runner_trains_exactly_as_before():
    torch.set_num_threads(1)
    text = corpus_path("text", "tinyshakespeare_en.txt").read_text(encoding="utf-8")[:4000]
    default, local = _gru_fit(text), _gru_fit(text, distributed=False)
    assert all(torch.equal(default[k], local[k]) for k in default)


SCRIPT = """
import hashlib, sys
import torch
from xmedia.adapters.text import CharGRU
from xmedia.cli import main
from xmedia.scale import runner

data, out = sys.argv[1], sys.argv[2]
text = open(data, encoding="utf-8").read()
torch.manual_seed(0)
model = CharGRU(sorted(set(text)), embed_dim=8, hidden=16)
model.fit(text, max_steps=4, batch_size=4, seq_len=16, eval_every=4)
digest = hashlib.md5(b"".join(v.numpy().tobytes() for v in model.state_dict().values())).hexdigest()
r = runner()
sys.stdout.write(f"rank {r.process_index} of {r.num_processes}: {digest}\\n")
sys.stdout.flush()
sys.exit(main(["train", "text", "--data", data, "-o", out, "--hidden", "16", "--max-steps", "6",
               "--batch-size", "4", "--seq-len", "32"]))
"""


@pytest.mark.skipif(importlib.util.find_spec("accelerate") is None, reason="accelerate is not installed")
def test_two_process_torchrun_trains_in_step_and_rank0_writes(tmp_path):
    data, script, out = tmp_path / "slice.txt", tmp_path / "train_gru.py", tmp_path / "gru"
    data.write_text(corpus_path("text", "tinyshakespeare_en.txt").read_text(encoding="utf-8")[:6000],
                    encoding="utf-8")
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
           str(data), str(out)]
    got = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert got.returncode == 0, got.stdout[-3000:] + got.stderr[-3000:]
    ranks = sorted(re.findall(r"rank (\d) of (\d): ([0-9a-f]{32})", got.stdout))  # the ranks' prints may interleave
    assert [rank[:2] for rank in ranks] == [("0", "2"), ("1", "2")], got.stdout  # really data-parallel
    assert ranks[0][2] == ranks[1][2]  # DDP kept the ranks' weights equal
    assert got.stdout.count(f"wrote {out}") == 1, got.stdout  # rank 1 trained in step but wrote nothing
    from xmedia.adapters.text.poem import load_text_model

    model = load_text_model(out)
    assert isinstance(model, CharGRU) and model.gru.hidden_size == 16
    assert (out / "loss.png").exists()
