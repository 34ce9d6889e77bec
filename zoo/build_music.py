"""``python -m xmedia.zoo.build music``: the shipped composition styles (``MusicMarkov``, adapters/music).

- ``bach-chorales@1``: J. S. Bach's four-part chorales (music21 corpus ``bach``): soprano melody, bass table;
- ``irish-folk@1``: Ryan's Mammoth Collection (1883), Irish and Scottish fiddle tunes (music21 ``ryansMammoth``);
- ``chinese-folk@1``: the Han Chinese songs of the Essen folk-song collection (music21 ``essenFolksong/han*``).

Each is split by piece: the last 10 % of the pieces (in music21's order) held out. The context length is chosen
on a second split inside the training pieces (their last 10 %), never on the held-out pieces, among
``ORDERS``; then the model counts all the training pieces. Its card holds held-out nats per note (a note's two
tokens, rhythm and pitch) beside a unigram baseline (each token's training frequency, add-one smoothed).
"""
from __future__ import annotations

import time

from xmedia.adapters.music.corpus import named_corpus, split_pieces
from xmedia.adapters.music.markov import MusicMarkov

from . import ZOO_DIR, index_entry

VAL_FRACTION = 0.1
ORDERS = (2, 4, 6)
M21_LICENCE = ("music21's corpus licence (corpus/license.txt): the works are out of copyright in the United States "
               "or licensed for use, the encodings licensed to music21, some with restrictions on commercial use")
STYLES = {
    "bach-chorales": {"corpus": "bach", "tempo": 72, "programs": [19, 32, 48],
                      "data": "J. S. Bach, four-part chorales (music21 corpus 'bach', MusicXML encodings); melody = "
                              "soprano, harmony table from the bass on each beat",
                      "licence": "Apache-2.0 (tables); music public domain (Bach, d. 1750); " + M21_LICENCE},
    "irish-folk": {"corpus": "ryansMammoth", "tempo": 112, "programs": [40, 32, 24],
                   "data": "Ryan's Mammoth Collection (Boston, 1883): reels, jigs, hornpipes, strathspeys (music21 "
                           "corpus 'ryansMammoth', ABC transcriptions contributed by Ray Davies); melodies only: the "
                           "bass comes from the triad rule",
                   "licence": "Apache-2.0 (tables); tunes public domain (published 1883); " + M21_LICENCE},
    "chinese-folk": {"corpus": "essen-han", "tempo": 76, "programs": [73, 32, 46],
                     "data": "Essen folk-song collection, Han Chinese songs (music21 'essenFolksong/han1.abc, "
                             "han2.abc'; EsAC encodings by H. Schaffrath's team, ABC by S. Schlien); melodies only",
                     "licence": "Apache-2.0 (tables); the Essen collection is distributed with music21 by permission "
                                "of Prof. Ewa Dahlig-Turek for NON-COMMERCIAL use (essenFolksong/license.txt): this "
                                "model carries that restriction; " + M21_LICENCE},
}


def choose_order(train) -> tuple[int, dict]:
    """The context length with the lowest nats/note on the last 10 % of the training pieces."""
    inner, check = split_pieces(train, VAL_FRACTION)
    scores = {}
    for order in ORDERS:
        m = MusicMarkov(order=order).add_pieces(inner)
        scores[order] = round(m.nats_per_note(check)["nats_per_note"], 4)
    return min(scores, key=scores.get), scores


def build_style(name: str, spec: dict) -> dict:
    t0 = time.perf_counter()
    pieces = named_corpus(spec["corpus"])
    train, val = split_pieces(pieces, VAL_FRACTION)
    order, tried = choose_order(train)
    model = MusicMarkov(order=order)
    result = model.fit(pieces, val_fraction=VAL_FRACTION)
    m = result.metrics
    model.config["stats"].update(tempo=spec["tempo"], programs=spec["programs"])
    model.card = {
        "title": name, "data": f"{spec['data']}: {len(pieces)} pieces, the last {len(val)} held out",
        "description": f"{name}: variable-order Markov model of note events (order {order} tokens = {order // 2} "
                       f"notes): held-out {m['nats/note']:.3f} nats/note vs unigram {m['unigram nats/note']:.3f}",
        "objective": "n-gram counts of note-event tokens (rhythm: position in bar + length; pitch: semitones from "
                     "the tonic); interpolated absolute discounting",
        "metrics": {"held-out nats/note": round(m["nats/note"], 4),
                    "unigram baseline nats/note": round(m["unigram nats/note"], 4),
                    "held-out pieces": len(val), "held-out notes": int(m["held-out notes"]), "training pieces":
                    len(train), "order": order, "order chosen on the training pieces' last 10 %": tried,
                    "training seconds": round(time.perf_counter() - t0, 1)},
        "licence": spec["licence"], "reproduce": "python -m xmedia.zoo.build music"}
    folder = ZOO_DIR / name / "1"
    model.save_pretrained(folder)
    print(model.card["description"], tried)
    return {name: {"1": index_entry(folder, model, step=False)}}


def build_music(names=None, **_) -> dict:
    entries = {}
    for name in names or STYLES:
        entries.update(build_style(name, STYLES[name]))
    return entries

