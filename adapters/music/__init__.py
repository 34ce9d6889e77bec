"""Composition: variable-order Markov models of note events learned from scores (Bach chorales, Irish fiddle
tunes, folk songs...), generated under constraints (key, metre, range, cadences, a cap on copying the corpus),
with a bass and chords, blended by style. ``docs/music.md`` describes them.

Light to import: the model (torch) and music21 load only when used.
"""
