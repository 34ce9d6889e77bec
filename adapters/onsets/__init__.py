"""Visual onsets learned from real sound: local-motion features, a tiny temporal model run in numpy, event picking.

``features`` (what the picture shows), ``model`` (numpy inference and peak picking; no torch), ``data`` (clips
with their own sound as labels), ``evaluate`` (scores against an independent detector, cross-validation) and
``process`` (the trainable ``VisualOnsets`` process, torch). See docs/soundtrack.md.
"""
