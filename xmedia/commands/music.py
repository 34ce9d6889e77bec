"""CLI for composition: ``xmedia train music``, ``xmedia generate music --model NAME ...`` and ``xmedia eval
MODEL --data ...`` (nats per note).

``generate`` is one verb for text and music: ``xmedia generate MODEL`` writes text, ``xmedia generate music
--model NAME|DIR|"a:0.5,b:0.5" --bars N [--key Am --tempo 96 --metre 3/4 --seed S] -o out.mid`` composes. The
music flags are added to that verb here (``add_generate_flags``) and refused with a text model.
"""
from __future__ import annotations

from pathlib import Path

from xmedia.errors import ConfigError, XMediaError

from .training import ProcessTrainer, TrainFlag

ORDER = 55
PROCESS = "xmedia.adapters.music.markov:MusicMarkov"
MUSIC_FLAGS = ("music_model", "bars", "key", "metre", "tempo", "phrase_bars", "max_copy", "melody_only")
SCORE_OUT = (".mid", ".midi", ".musicxml", ".xml", ".mxl", ".abc", ".wav", ".flac")


def add_generate_flags(s) -> None:
    g = s.add_argument_group("music (xmedia generate music --model NAME ...)")
    g.add_argument("--model", dest="music_model", help="music style: zoo name (bach-chorales, irish-folk, "
                   "chinese-folk), a folder from `xmedia train music`, or a blend 'bach-chorales:0.5,irish-folk:0.5'")
    g.add_argument("--bars", type=int, help="bars to compose (default 16)")
    g.add_argument("--key", help="key, e.g. C, Am, 'F# minor' (default C or Am, as the style's pieces mostly are)")
    g.add_argument("--metre", help="metre, e.g. 4/4, 3/4, 6/8 (default the style's commonest)")
    g.add_argument("--tempo", type=float, help="crotchet beats per minute (default 100)")
    g.add_argument("--phrase-bars", type=int, help="bars per phrase; each phrase ends on the tonic (default 4)")
    g.add_argument("--max-copy", type=int, help="longest run of notes copied from one corpus piece (default 8; "
                                                "0: no cap)")
    g.add_argument("--melody-only", action="store_true", default=None, help="no bass or chords")


def cmd_generate_music(args) -> int:
    from xmedia.adapters.music.model import MusicModel
    from xmedia.atomic import check_destination
    from xmedia.blend import load_process

    if not args.music_model:
        raise ConfigError("xmedia generate music needs --model NAME (bach-chorales, irish-folk, chinese-folk, a "
                          "folder from `xmedia train music`, or a blend 'bach-chorales:0.5,irish-folk:0.5')")
    if not args.output:
        raise ConfigError("xmedia generate music needs -o OUT (.mid, .musicxml, .wav...)")
    out = Path(args.output)
    if out.suffix.lower() not in SCORE_OUT:
        raise ConfigError(f"-o {args.output}: write a score as {', '.join(SCORE_OUT)}")
    bars = 16 if args.bars is None else args.bars
    if bars < 1:
        raise ConfigError(f"--bars must be >= 1, got {bars}")
    if args.seed < 0:
        raise ConfigError(f"--seed must be a whole number >= 0, got {args.seed}")
    check_destination(args.output)
    model = load_process(args.music_model, MusicModel, "music style",
                         hint="train one with xmedia train music --data corpus:bach -o OUT")
    score = model.compose(bars, key=args.key, metre=args.metre, tempo=args.tempo, seed=args.seed,
                          temperature=args.temperature,
                          phrase_bars=4 if args.phrase_bars is None else args.phrase_bars,
                          max_copy=8 if args.max_copy is None else args.max_copy, harmony=not args.melody_only,
                          title=f"{args.music_model}, seed {args.seed}")
    if out.suffix.lower() in (".wav", ".flac"):
        import xmedia

        xmedia.translate(score, to="audio").save(out)
    else:
        score.save(out)
    print(f"wrote {out} ({score.num_notes} notes, {bars} bars, {score.key}, {score.metre}, "
          f"{float(score.tempo_bpm):g} bpm, {float(score.duration_s):.1f} s)")
    return 0


def refuse_music_flags(args) -> None:
    given = [n for n in MUSIC_FLAGS if getattr(args, n, None) not in (None, False)]
    if given:
        flag = "--model" if given[0] == "music_model" else "--" + given[0].replace("_", "-")
        raise ConfigError(f"{flag} is a flag of `xmedia generate music`; {args.model} is a text model")


# -- eval ---------------------------------------------------------------------------------------------------
def is_music_model(name_or_path) -> bool:
    from xmedia.pretrained import locate, read_config

    try:
        cfg = read_config(locate(name_or_path))
    except XMediaError:
        return False
    return str(cfg.get("module", "")).startswith("xmedia.adapters.music")


def eval_music(args) -> int:
    from xmedia.adapters.music.corpus import as_pieces, split_pieces
    from xmedia.adapters.music.model import MusicModel
    from xmedia.blend import load_process

    if not args.data:
        raise ConfigError("pass --data corpus:NAME, a folder of scores or a score file (the pieces to score)")
    model = load_process(args.bridge, MusicModel, "music style")
    pieces, described = as_pieces(args.data)
    if args.split != "all":
        train, val = split_pieces(pieces, 0.1)
        pieces = val if args.split == "val" else train
    r = model.nats_per_note(pieces)
    print(f"{args.bridge}: {r['nats_per_note']:.4f} nats/note (unigram baseline {r['unigram_nats_per_note']:.4f}) on "
          f"{r['notes']} notes of {r['pieces']} pieces ({args.split} split: "
          f"{'the last 10 %' if args.split == 'val' else 'the first 90 %' if args.split == 'train' else 'all'} "
          f"of {described})" + (f"; {r['unknown_tokens']} unknown tokens" if r["unknown_tokens"] else ""))
    return 0


# -- train --------------------------------------------------------------------------------------------------
def _card(args, result) -> dict:
    m = result.process
    return {"description": f"variable-order Markov model of note events (order {m.order} tokens, "
                           f"{m.order // 2} notes) trained with `xmedia train music`"
                           + (f", fine-tuned from {args.fine_tune}" if args.fine_tune else ""),
            "data": result.extra.get("data", ", ".join(args.data))}


TRAINERS = (ProcessTrainer(
    "music", "learn a composition style (variable-order Markov model of note events) from scores",
    PROCESS, "corpus:NAME (corpus:bach, corpus:ryansMammoth, corpus:essen-han...), a folder of MIDI/MusicXML/ABC/"
             "kern files or score files",
    flags=(TrainFlag("order", int, "context length in tokens (two a note)", target="model", default=4),
           TrainFlag("weight", float, "weight of the new counts (with --fine-tune: how far the copy moves)"),
           TrainFlag("val_fraction", float, "held-out last fraction of the pieces, in [0, 0.95]"),
           TrainFlag("max_pieces", int, "read at most this many pieces")),
    threads=1, card=_card, unused=("learning_rate", "max_steps", "max_minutes", "batch_size")).as_trainer(),)
