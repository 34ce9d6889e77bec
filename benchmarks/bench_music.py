"""Are the composition styles recognisable and realistic? Run:

    python benchmarks/bench_music.py [--n 30] [--bars 16] [--json out.json]   (about 30 s, the corpora cached)


Measured with what the models were not fitted to (``adapters/music/measure.py``), on music21's corpora split as
the zoo splits them (``zoo/build_music.py``: the last 10 % of each corpus's pieces held out; pieces from the
cache in ``$XMEDIA_CACHE/music``):

1. Style classifier: key-free melody histograms (pitch class from the tonic, interval, duration class, position
   in the beat) and plain logistic regression (numpy, classes balanced) trained on the REAL training pieces of the
   three zoo styles. Its accuracy on the held-out real pieces beside chance (1/3) and the majority class; then the
   share of generated pieces (``--n`` per style, seeds 0..n-1, ``--bars`` bars, the public ``compose``: with its
   defaults, and with a metre and mode drawn per seed from the style's training pieces) labelled with their own
   style (goal >= 90 %), and how a 50/50 blend ``bach-chorales:0.5,irish-folk:0.5`` is labelled (goal: neither style above 75 %). scikit-learn's
   ``LogisticRegression`` (when installed) is run beside as a check.
2. Yang & Lerch (2018) overlapping area per feature (pitch class, interval, note length): intra-set distances
   of the held-out real pieces vs real-to-generated distances (their measure; goal >= 0.8), and the overlap of
   the two sets' intra-set distance distributions; the reference is real vs real (the held-out set's two halves).
3. Held-out nats per note of each zoo style vs its unigram baseline (from the zoo cards).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STYLES = {"bach-chorales": "bach", "irish-folk": "ryansMammoth", "chinese-folk": "essen-han"}
BLEND = "bach-chorales:0.5,irish-folk:0.5"
OA_FEATURES = ("pitch_class", "interval", "duration")
VAL_FRACTION = 0.1
PROTOCOLS = ("defaults", "corpus metres")
MIN_METRE_SHARE = 0.02


def setting(model, proto: str, seed: int) -> dict:
    """``compose`` options for one generated piece: none (``defaults``: C major or A minor as the corpus is
    mostly, its commonest metre), or (``corpus metres``) a metre and a mode drawn (seeded) from the training
    pieces' shares (metres under 2 % left out), tonic C or A."""
    if proto == "defaults":
        return {}
    rng = np.random.default_rng(10_000 + seed)
    metres = {k: v for k, v in model.stats["metres"].items()}
    total = sum(metres.values())
    metres = {k: v for k, v in metres.items() if v / total >= MIN_METRE_SHARE}
    names = sorted(metres)
    metre = names[rng.choice(len(names), p=np.array([metres[k] for k in names]) / sum(metres.values()))]
    modes = model.stats["modes"]
    minor = rng.random() < modes.get("minor", 0) / max(sum(modes.values()), 1e-9)
    return {"metre": metre, "key": "Am" if minor else "C"}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="generated pieces per style (seeds 0..n-1)")
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--json", help="also write the numbers here")
    args = ap.parse_args(argv)

    from xmedia.adapters.music import measure as M
    from xmedia.adapters.music.corpus import named_corpus, split_pieces
    from xmedia.adapters.music.model import MusicModel
    from xmedia.blend import load_process

    t0 = time.perf_counter()
    train, held = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for style, corpus in STYLES.items():
            train[style], held[style] = split_pieces(named_corpus(corpus), VAL_FRACTION)
    names = list(STYLES)
    Xtr = np.concatenate([M.feature_matrix(train[s]) for s in names])
    ytr = [s for s in names for _ in train[s]]
    Xte = np.concatenate([M.feature_matrix(held[s]) for s in names])
    yte = [s for s in names for _ in held[s]]
    clf = M.LogisticStyle().fit(Xtr, ytr)
    pred = clf.predict(Xte)
    acc = float(np.mean([a == b for a, b in zip(pred, yte)]))
    majority = max(names, key=lambda s: len(train[s]))
    maj_acc = float(np.mean([y == majority for y in yte]))
    per_real = {s: float(np.mean([p == s for p, y in zip(pred, yte) if y == s])) for s in names}
    sk_acc = None
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        sk = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=5000)).fit(Xtr, ytr)
        sk_acc = float(np.mean(sk.predict(Xte) == np.array(yte)))
    except ImportError:
        pass

    generated, labelled, gen_seconds = {}, {}, {}
    for style in names + [BLEND]:
        model = load_process(style, MusicModel)
        for proto in PROTOCOLS:
            t = time.perf_counter()
            pieces = [model.compose(args.bars, seed=seed, **setting(model, proto, seed)) for seed in range(args.n)]
            gen_seconds[style, proto] = (time.perf_counter() - t) / args.n
            generated[style, proto] = pieces
            labels = clf.predict(M.feature_matrix(pieces))
            labelled[style, proto] = {s: labels.count(s) / len(labels) for s in names}
            if sk_acc is not None:
                sk_labels = list(sk.predict(M.feature_matrix(pieces)))
                labelled[style, proto]["sklearn"] = {s: sk_labels.count(s) / len(sk_labels) for s in names}

    print(f"\n1. Style classifier (logistic regression on {len(ytr)} real training pieces; {Xtr.shape[1]} key-free "
          "features)")
    print(f"   held-out real pieces: accuracy {acc:.3f} on {len(yte)} pieces ("
          + ", ".join(f"{s} {per_real[s]:.2f} of {len(held[s])}" for s in names) + ")"
          + f"; chance 0.333; majority class ({majority}) {maj_acc:.3f}"
          + (f"; sklearn LogisticRegression {sk_acc:.3f}" if sk_acc is not None else ""))
    print(f"\n   generated ({args.n} x {args.bars} bars each, seeds 0-{args.n - 1}): share labelled as ...")
    print("| generated by | key, metre | " + " | ".join(names)
          + " | own style (goal >= 0.90) | sklearn: own | s/piece |")
    print("|---|---|" + "---|" * (len(names) + 3))
    for style in names + [BLEND]:
        for proto in PROTOCOLS:
            row = labelled[style, proto]
            own = f"{row[style]:.2f}" if style in names else "(blend: each <= 0.75)"
            sk_own = (f"{row['sklearn'][style]:.2f}" if style in names else
                      " / ".join(f"{row['sklearn'][s]:.2f}" for s in names)) if "sklearn" in row else "-"
            print(f"| `{style}` | {proto} | " + " | ".join(f"{row[s]:.2f}" for s in names) + f" | {own} | {sk_own} | "
                  f"{gen_seconds[style, proto]:.2f} |")

    print("\n2. Yang & Lerch overlapping area (KDE of distances between per-piece histograms)")
    print("   intra/inter = intra-set distances of held-out real vs real-to-generated (Y&L; goal >= 0.8); "
          "intra/intra = the two sets' intra-set distances")
    print("| style | feature | generated, defaults: intra/inter | generated, corpus metres: intra/inter | "
          "(intra/intra) | real halves: intra/inter | (intra/intra) |")
    print("|---|---|---|---|---|---|---|")
    oa = {}
    for style in names:
        h = held[style]
        a, b = h[:len(h) // 2], h[len(h) // 2:]
        for feat in OA_FEATURES:
            oa[style, feat] = {proto: M.yang_lerch(h, generated[style, proto], feat) for proto in PROTOCOLS}
            oa[style, feat]["real halves"] = M.yang_lerch(a, b, feat)
        d, c, r = PROTOCOLS[0], PROTOCOLS[1], "real halves"
        for feat in OA_FEATURES + ("mean",):
            feats = OA_FEATURES if feat == "mean" else (feat,)
            v = {(p, k): float(np.mean([oa[style, f][p][k] for f in feats]))
                 for p in (d, c, r) for k in ("intra_inter", "intra_intra")}
            print(f"| `{style}` | {feat} | {v[d, 'intra_inter']:.3f} | {v[c, 'intra_inter']:.3f} | "
                  f"({v[c, 'intra_intra']:.3f}) | {v[r, 'intra_inter']:.3f} | ({v[r, 'intra_intra']:.3f}) |")

    print("\n3. Held-out nats per note (zoo cards; the last 10 % of the pieces)")
    print("| style | held-out pieces | order | held-out nats/note | unigram nats/note |")
    print("|---|---|---|---|---|")
    cards = {}
    for style in names:
        card = json.loads((ROOT / "zoo" / style / "1" / "config.json").read_text())["card"]["metrics"]
        cards[style] = card
        print(f"| `{style}` | {card['held-out pieces']} | {card['order']} | {card['held-out nats/note']:.4f} | "
              f"{card['unigram baseline nats/note']:.4f} |")
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    out = {"real_accuracy": acc, "majority": maj_acc, "chance": 1 / 3, "sklearn_real_accuracy": sk_acc,
           "per_real": per_real, "labelled": {f"{s} / {p}": v for (s, p), v in labelled.items()},
           "overlap": {f"{s} / {f}": v for (s, f), v in oa.items()},
           "cards": cards}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
