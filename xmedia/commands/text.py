"""CLI for text as an output: ``xmedia train text``, ``xmedia generate MODEL``, ``xmedia eval MODEL --data t.txt``
(dispatched from ``commands/train.py``) and ``xmedia translate clip.mp4 --to text -o poem.srt --model bard/``.

``--data`` takes files, folders and weights: ``--data a.txt:0.7,b.txt:0.3`` trains on a weighted mix; a
``.jsonl`` manifest lists corpora with their weights (``{"input": "a.txt", "weight": 0.7}`` a line).
``--init MODEL`` fine-tunes a copy of a trained model on the new data instead of starting afresh.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

from xmedia.errors import ConfigError, XMediaError

from . import Trainer, flag_options

TEXT_OUT = (".srt", ".vtt", ".json", ".txt")


# -- translate ----------------------------------------------------------------------------------------------
def add_translate_arguments(parser) -> None:
    have = parser._option_string_actions
    group = parser.add_argument_group("text (any medium -> timed text)")
    flags = [
        ("--model", dict(help="text model for --to text: a folder from `xmedia train text` or a zoo name "
                              "(default shakespeare-markov)")),
        ("--temperature", dict(type=float, help="sampling temperature for --to text (default: from the energy)")),
        ("--sound-poem", dict(action="store_true", default=None, help="--to text writes invented words only")),
    ]
    for flag, kw in flags:
        if flag not in have:
            group.add_argument(flag, **kw)


def translate_options(args, to) -> dict:
    return flag_options(args, ("model", "temperature", "sound_poem")) if to == "text" else {}


def check_output(args, x, to) -> None:
    if to == "text" and Path(args.output).suffix.lower() not in TEXT_OUT:
        raise ConfigError(f"{args.output}: write timed text as {', '.join(TEXT_OUT)}")


def write_result(args, x, trace) -> bool:
    from xmedia.adapters.text.timed import TimedText

    out = trace.output
    if not isinstance(out, TimedText):
        return False
    out.save(Path(args.output))
    print(f"wrote {args.output} ({len(out.lines)} lines, {len(out.text)} characters, "
          f"{float(out.duration_s or 0):.2f} s)")
    if getattr(args, "report", None):
        write_report(args.report, trace, out, title=Path(args.input).name)
        print(f"wrote {args.report}")
    return True


def write_report(path, trace, timed, title: str = ""):
    """PNG: the source's energy and events above the text's characters per second and line starts."""
    import numpy as np

    from xmedia.report import pyplot, save_figure

    plt = pyplot()
    emb = trace.get("space:perceptual")
    fig, ax = plt.subplots(2, 1, figsize=(11, 5), sharex=True)
    if emb is not None and emb.track is not None:
        ax[0].plot(emb.times_s(), emb.axis("energy"), label="energy")
        for e in emb.events_s:
            ax[0].axvline(float(e), color="tab:red", lw=0.6, alpha=0.5)
    ax[0].set_ylabel("source")
    ax[0].legend(loc="upper right")
    cps = timed.chars_per_second(4.0)
    ax[1].step(np.arange(len(cps)) / 4.0, cps, where="post", color="tab:green", label="characters / s")
    for li in timed.lines:
        ax[1].axvline(float(li.start_s), color="0.4", lw=0.6)
    ax[1].set_ylabel("text")
    ax[1].set_xlabel("time (s)")
    ax[1].legend(loc="upper right")
    ax[0].set_title(f"{title}: {len(timed.lines)} lines")
    return save_figure(fig, path)


# -- generate -----------------------------------------------------------------------------------------------
def add_commands(subparsers) -> None:
    s = subparsers.add_parser("generate", help="generate text with a trained text model (zoo name or folder)")
    s.add_argument("model", help="zoo name (shakespeare-gru, shakespeare-markov) or a folder from `xmedia train text`")
    s.add_argument("--prompt", default="", help="text to continue")
    s.add_argument("--length", type=int, default=400, help="characters to generate (default 400)")
    s.add_argument("--temperature", type=float, default=0.8, help="0 = greedy, 1 = the model's distribution")
    s.add_argument("--seed", type=int, default=0, help="same seed, same text")
    s.add_argument("--lines", type=int, help="stop after this many line breaks")
    s.add_argument("--sound-poem", action="store_true", help="invented words in the corpus's sound")
    s.add_argument("--blend", metavar="MODEL:T", help="mix with a second model's next-character distribution")
    s.add_argument("-o", "--output", help="write to this .txt instead of streaming to the terminal")
    s.set_defaults(func=cmd_generate)


def cmd_generate(args) -> int:
    from xmedia.adapters.text.poem import load_text_model
    from xmedia.media import Text

    model = load_text_model(args.model)
    if args.blend:
        other, _, t = args.blend.rpartition(":")
        if not other:
            raise ConfigError("--blend takes MODEL:T, e.g. --blend genesis/:0.3")
        model = type(model).blend(model, load_text_model(other), float(t))
    pieces = model.stream(args.prompt, args.length, args.temperature, args.seed, args.lines, args.sound_poem)
    if args.output:
        Text(args.prompt + "".join(pieces)).save(args.output)
        print(f"wrote {args.output}")
        return 0
    sys.stdout.write(args.prompt)
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


# -- eval ---------------------------------------------------------------------------------------------------
def is_text_model(name_or_path) -> bool:
    from xmedia.pretrained import locate, read_config

    try:
        cfg = read_config(locate(name_or_path))
    except XMediaError:  # not a saved process: the bridge path reports it
        return False
    return str(cfg.get("module", "")).startswith("xmedia.adapters.text")


def eval_text(args) -> int:
    from xmedia.adapters.text.corpus import mix_corpora
    from xmedia.adapters.text.poem import load_text_model

    if not args.data:
        raise ConfigError("pass --data text.txt (the text to score)")
    model = load_text_model(args.bridge)
    text = mix_corpora(args.data, val_fraction=0.0).train
    r = model.nats_per_char(text)
    print(f"{args.bridge}: {r['nats_per_char']:.4f} nats/char ({r['bits_per_char']:.4f} bits/char) on "
          f"{r['chars']} characters of {args.data}" + (f"; {r['unknown']} unknown {model.level}s not scored"
                                                       if r["unknown"] else ""))
    return 0


# -- train --------------------------------------------------------------------------------------------------
def add_train_arguments(p) -> None:
    p.add_argument("--data", required=True,
                   help="corpus file(s)/folder(s)/.jsonl manifest(s), with weights: a.txt:0.7,b.txt:0.3 "
                   '(a manifest line: {"input": "a.txt", "weight": 0.7})')
    p.add_argument("-o", "--output", required=True, help="folder to save the model in")
    p.add_argument("--model", choices=("markov", "gru"), default="gru", help="model kind (default gru)")
    p.add_argument("--init", help="fine-tune a copy of this trained model (folder or zoo name) instead")
    p.add_argument("--level", choices=("char", "word"), default="char", help="Markov: characters or words")
    p.add_argument("--order", type=int, default=5, help="Markov: context length (default 5)")
    p.add_argument("--hidden", type=int, default=256, help="GRU: hidden size (default 256)")
    p.add_argument("--max-minutes", type=float, default=14.0, help="GRU: wall-clock budget (default 14)")
    p.add_argument("--max-steps", type=int, default=6000, help="GRU: step budget (default 6000)")
    p.add_argument("--seq-len", type=int, default=128, help="GRU: characters per training window")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, help="GRU: peak learning rate (default 3e-3, 1e-3 when fine-tuning)")
    p.add_argument("--weight", type=float, default=1.0, help="Markov --init: weight of the new counts")
    p.add_argument("--val-fraction", type=float, default=0.1, help="held-out end of each corpus (default 0.1)")
    p.add_argument("--encoding", default="utf-8", help="corpus encoding (latin-1 reads any bytes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--report", help="loss PNG (default OUTPUT/loss.png, GRU)")


def run_train(args) -> int:
    import torch

    from xmedia.adapters.text.corpus import mix_corpora
    from xmedia.adapters.text.gru import CharGRU, write_loss_report
    from xmedia.adapters.text.markov import MarkovText
    from xmedia.adapters.text.poem import load_text_model
    from xmedia.scale import is_main_process

    torch.set_num_threads(max(1, args.threads))
    corpus = mix_corpora(args.data, args.val_fraction, encoding=args.encoding)
    out = Path(args.output)
    report = args.report or str(out / "loss.png")
    gru_fit = dict(max_minutes=args.max_minutes, max_steps=args.max_steps, seq_len=args.seq_len,
                   batch_size=args.batch_size, seed=args.seed, progress=sys.stderr.isatty())
    if args.init:
        base = load_text_model(args.init)
        if isinstance(base, MarkovText):
            model = base.fine_tune(corpus.train, weight=args.weight)
        else:
            model = copy.deepcopy(base)
            model.fit(corpus, **{**gru_fit, "lr": args.lr or 1e-3, "warmup_steps": 10})
        how = f"fine-tuned from {args.init}"
    elif args.model == "markov":
        model = MarkovText.from_corpus(corpus, order=args.order, level=args.level)
        how = f"{args.level} Markov, order {args.order}"
    else:
        model = CharGRU.from_corpus(corpus, hidden=args.hidden, lr=args.lr or 3e-3, **gru_fit)
        how = f"character GRU, hidden {args.hidden}"
    if not is_main_process():  # torchrun: the other ranks trained in step; rank 0 writes
        return 0
    result = getattr(model, "result", None)
    val = model.nats_per_char(corpus.val)["nats_per_char"] if len(corpus.val) > 1 else float("nan")
    model.card = {**model.card, "title": out.name, "description": f"{how} on {corpus.describe()}",
                  "data": f"{corpus.describe()}; the last {args.val_fraction:.0%} of each held out",
                  "metrics": {"validation nats/char": round(val, 4),
                              **({"steps": result.steps, "training minutes": round(result.seconds / 60, 2)}
                                 if result else {})},
                  "reproduce": "xmedia train text " + " ".join(sys.argv[3:])}
    model.save_pretrained(out)
    if result is not None:
        write_loss_report(result, report, title=f"{how} on {corpus.describe()}")
        print(result.summary())
        print(f"loss curve: {report}")
    print(f"validation: {val:.4f} nats/char on {len(corpus.val)} held-out characters")
    print(f"wrote {out}")
    return 0


TRAINERS = (Trainer("text", "train a text model (character GRU or Markov chain) on corpora; fine-tune with --init",
                    add_train_arguments, run_train),)
