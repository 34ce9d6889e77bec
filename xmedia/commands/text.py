"""CLI for text as an output: ``xmedia train text``, ``xmedia generate MODEL``, ``xmedia eval MODEL --data t.txt``
(dispatched from ``commands/train.py``) and ``xmedia translate clip.mp4 --to text -o poem.srt --model bard/``.

``--data`` takes files, folders and weights: ``--data a.txt:0.7,b.txt:0.3`` trains on a weighted mix; a
``.jsonl`` manifest lists corpora with their weights (``{"input": "a.txt", "weight": 0.7}`` a line).
``--fine-tune MODEL`` trains a copy of a trained model further on the new data instead of starting afresh. The
trainer is the one every family has (``xmedia.commands.training.ProcessTrainer`` over ``xmedia.trainer``).
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from importlib import import_module, util
from pathlib import Path

from xmedia.errors import ConfigError, XMediaError

from . import Flag
from .music import add_generate_flags, cmd_generate_music, refuse_music_flags
from .training import ProcessTrainer, TrainFlag

ORDER = 50  # where this area's hooks run among the others' (xmedia.commands.areas)
TEXT_OUT = (".srt", ".vtt", ".json", ".txt")


# -- translate ----------------------------------------------------------------------------------------------
REPORTS = ("text",)
TRANSLATE_GROUP = "text (any medium -> timed text)"
TRANSLATE_FLAGS = (
    Flag("model", "text model for --to text: a folder from `xmedia train text` or a zoo name (default "
                  "shakespeare-markov)"),
    Flag("temperature", "sampling temperature for --to text (default: from the energy)", type=float),
    Flag("sound-poem", "--to text writes invented words only", action="store_true"),
)


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
    s.add_argument("model", help="zoo name (shakespeare-gru, shakespeare-markov) or a folder from `xmedia train text`; "
                   "`music` composes a score (see the music flags)")
    s.add_argument("--prompt", default="", help="text to continue")
    s.add_argument("--length", type=int, default=400, help="characters to generate (default 400)")
    s.add_argument("--temperature", type=float, default=0.8, help="0 = greedy, 1 = the model's distribution")
    s.add_argument("--seed", type=int, default=0, help="same seed, same text")
    s.add_argument("--lines", type=int, help="stop after this many line breaks")
    s.add_argument("--sound-poem", action="store_true", help="invented words in the corpus's sound")
    s.add_argument("--blend", metavar="MODEL:T", help="mix with a second model's next-character distribution")
    s.add_argument("-o", "--output", help="write to this .txt instead of streaming to the terminal")
    add_generate_flags(s)  # `xmedia generate music --model NAME ...` (xmedia/commands/music.py)
    s.set_defaults(func=cmd_generate)


def cmd_generate(args) -> int:
    from xmedia.adapters.text.poem import load_text_model
    from xmedia.media import Text

    if args.model == "music":
        return cmd_generate_music(args)
    refuse_music_flags(args)
    check_generate_args(args)  # before the model loads: wrong values are refused at once
    model = load_text_model(args.model)
    if args.blend:
        other, _, t = args.blend.rpartition(":")
        if not other:
            raise ConfigError("--blend takes MODEL:T, e.g. --blend genesis/:0.3")
        model = type(model).blend(model, load_text_model(other), float(t))
    pieces = model.stream(args.prompt, args.length, args.temperature, args.seed, args.lines, args.sound_poem)
    if args.output:
        Text(args.prompt + "".join(with_progress(pieces, args.length))).save(args.output)
        print(f"wrote {args.output}")
        return 0
    sys.stdout.write(args.prompt)
    for piece in pieces if sys.stdout.isatty() else with_progress(pieces, args.length):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def check_generate_args(args) -> None:
    from xmedia import limits
    from xmedia.atomic import check_destination

    if args.seed < 0:
        raise ConfigError(f"--seed must be a whole number >= 0, got {args.seed}")
    if args.length < 0:
        raise ConfigError(f"--length must be >= 0 characters, got {args.length}")
    limits.check("text_chars", args.length, "--length")
    if args.lines is not None and args.lines < 1:
        raise ConfigError(f"--lines must be at least 1, got {args.lines}")
    if args.output:
        out = Path(args.output)
        if out.is_dir() or out.suffix.lower() != ".txt":
            example = out / "generated.txt" if out.is_dir() else out.with_suffix(".txt")
            raise ConfigError(f"-o {args.output}: generate writes a .txt file; give a file name such as {example}")
        check_destination(args.output)


PROGRESS_MIN_CHARS = 100_000  # shorter runs take seconds: no progress lines
PROGRESS_EVERY_S = 5.0


def with_progress(pieces, total: int, every_s: float = PROGRESS_EVERY_S):
    """The pieces, with a progress line on stderr every ``every_s`` for a long run (a line per update when
    stderr is not a terminal, so logs show it too)."""
    import time

    if total < PROGRESS_MIN_CHARS:
        yield from pieces
        return
    tty, done, last, shown = sys.stderr.isatty(), 0, time.monotonic(), False
    for piece in pieces:
        done += len(piece)
        yield piece
        if time.monotonic() - last >= every_s:
            last = time.monotonic()
            line = f"generate: {done:,} of {total:,} characters ({100 * done / total:.0f}%)"
            sys.stderr.write(f"\r{line}" if tty else f"{line}\n")
            sys.stderr.flush()
            shown = True
    if tty and shown:
        sys.stderr.write("\n")


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
    text = mix_corpora(args.data, val_fraction=0.0, encoding=getattr(args, "encoding", "utf-8")).train
    r = model.nats_per_char(text)
    print(f"{args.bridge}: {r['nats_per_char']:.4f} nats/char ({r['bits_per_char']:.4f} bits/char) on "
          f"{r['chars']} characters of {args.data}" + (f"; {r['unknown']} unknown {model.level}s not scored"
                                                       if r["unknown"] else ""))
    return 0


# -- train --------------------------------------------------------------------------------------------------
KINDS = {"gru": "xmedia.adapters.text.gru:CharGRU", "markov": "xmedia.adapters.text.markov:MarkovText"}
ONLY = {"gru": ("hidden", "seq_len", "learning_rate", "max_steps", "max_minutes", "batch_size", "seed"),
        "markov": ("order", "level", "weight")}  # the flags of one kind (a Markov chain counts: no steps)


def _model_defaults(kind: str) -> dict:
    """The constructor defaults in the kind's recipe JSON (read without importing torch: --help stays light)."""
    spec = util.find_spec("xmedia.adapters.text")
    return json.loads(Path(spec.origin).with_name(f"{kind}.json").read_text())["model"]


GRU, MARKOV = _model_defaults("gru"), _model_defaults("markov")


def _kind(args) -> str:
    """``--model``, or the class of the ``--fine-tune`` model; a flag of the other kind is refused."""
    if args.fine_tune:
        from xmedia.pretrained import locate, read_config

        found = read_config(locate(args.fine_tune)).get("class")
        kind = {process.partition(":")[2]: k for k, process in KINDS.items()}.get(found)
        if kind is None:
            raise ConfigError(f"--fine-tune {args.fine_tune} is a {found}: `xmedia train text` fine-tunes a "
                              "character GRU or a Markov chain")
        fixed = [n for n in ("hidden", "order", "level") if getattr(args, n) is not None]
        if fixed or args.model not in (None, kind):
            raise ConfigError(f"--{fixed[0] if fixed else 'model'} does not go with --fine-tune: the fine-tuned "
                              f"copy keeps the shape of {args.fine_tune} (a {found})")
    else:
        kind = args.model or "gru"
    foreign = [n for other, names in ONLY.items() if other != kind for n in names if getattr(args, n) is not None]
    if foreign:
        other = next(k for k, names in ONLY.items() if foreign[0] in names)
        raise ConfigError(f"--{foreign[0].replace('_', '-')} is a flag of --model {other}; this trains a {kind} "
                          "model")
    return kind


def _build(args, options: dict):
    """A new model of ``--model``'s kind, its vocabulary from ``--data`` (sizes checked before reading it)."""
    kind = options.pop("model", None) or "gru"
    config = {k: v for k, v in options.items() if k in (GRU if kind == "gru" else MARKOV)}
    module, _, name = KINDS[kind].partition(":")
    klass = getattr(import_module(module), name)
    data = args.data[0] if len(args.data) == 1 else list(args.data)
    return klass.for_corpus(data, val_fraction=args.val_fraction, encoding=args.encoding, seed=args.seed, **config)


def _card(args, result) -> dict:
    m = result.process
    how = (f"{m.level}-level Markov chain of order {m.order}" if "order" in m.config
           else f"character GRU (hidden {m.gru.hidden_size})")
    return {"description": f"{how} trained with `xmedia train text`"
            + (f", fine-tuned from {args.fine_tune}" if args.fine_tune else ""),
            "data": result.extra.get("data", ", ".join(args.data))}


class TextTrainer(ProcessTrainer):
    """One verb, two kinds: ``--model`` (or the class of the ``--fine-tune`` model) picks the process; each
    kind's defaults are in its recipe JSON (``adapters/text/gru.json``, ``markov.json``)."""

    def defaults(self) -> dict:
        return {**ProcessTrainer.defaults(replace(self, process=KINDS["markov"])),
                **ProcessTrainer.defaults(replace(self, process=KINDS["gru"]))}

    def run(self, args) -> int:
        return ProcessTrainer.run(replace(self, process=KINDS[_kind(args)]), args)


TRAINERS = (TextTrainer(
    "text", "train a text model (character GRU or Markov chain) on corpora; fine-tune one with --fine-tune",
    KINDS["gru"],
    "corpus file(s)/folder(s)/.jsonl manifest(s), with weights: a.txt:0.7,b.txt:0.3 "
    '(a manifest line: {"input": "a.txt", "weight": 0.7})',
    flags=(TrainFlag("model", str, "model kind", choices=tuple(KINDS), target="model", default="gru"),
           TrainFlag("hidden", int, "GRU: hidden units", target="model", default=GRU["hidden"]),
           TrainFlag("seq_len", int, "GRU: characters per training window"),
           TrainFlag("order", int, "Markov: context length in tokens", target="model", default=MARKOV["order"]),
           TrainFlag("level", str, "Markov: characters or words", choices=("char", "word"), target="model",
                     default=MARKOV["level"]),
           TrainFlag("weight", float, "Markov: weight of the new counts (with --fine-tune: how far the copy moves "
                                      "toward --data)"),
           TrainFlag("val_fraction", float, "held-out end of each corpus, in [0, 0.95]"),
           TrainFlag("encoding", str, "corpus encoding (latin-1 reads any bytes)")),
    threads=1, build=_build, card=_card).as_trainer(),)
