"""Routes check what flows: every step's output is of the kind its ``dst`` declares (``xmedia.node_kinds``)."""
from fractions import Fraction

import numpy as np
import pytest

import xmedia
from xmedia.errors import RouteError
from xmedia.media import Audio, Image, Motion, Text, Video
from xmedia.node_kinds import NodeKind, holds
from xmedia.routing import Registry, Route, Step, registry

# Options that select (``when=``) or feed the steps that need them; each names something shipped in the zoo.
STEP_OPTIONS = {"style-image": {"style": "starry"}, "style-video": {"style": "starry"},
                "soundtrack-style": {"styles": ("starry", "wave")}, "sfx": {"style": "sfx"},
                "timbre": {"timbre": "violin"}, "pitch-loudness": {"pitch": "yin"}}


def small_inputs() -> dict:
    """One cheap value per source node: a second of sound, a 16-frame 48x64 clip with sound, a photo, a phrase."""
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    sound = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2).astype(np.float32)
    audio = Audio(sound[:, None], 16000)
    frames = np.zeros((16, 48, 64, 3), np.uint8)
    for i in range(16):  # a bright square moving right over noise
        frames[i] = rng.integers(0, 40, (48, 64, 3), dtype=np.uint8)
        frames[i, 16:32, 2 + 3 * i:18 + 3 * i] = 230
    video = Video(frames=frames, fps=Fraction(16), audio=audio)
    motion = Motion(rng.random((32, 3)), rate_hz=Fraction(16), channels=("energy", "dx", "dy"))
    return {"audio": audio, "video": video, "image": Image(frames[8]), "text": Text("a warm slow evening by the sea"),
            "motion": motion}


def test_every_available_step_returns_what_it_declares():
    reg = registry()
    values, ran = small_inputs(), set()
    todo = [s for s in reg.steps.values() if s.is_available()]
    progress = True
    while progress:  # run each step once its input node has a value, feeding later steps with its output
        progress = False
        for st in todo:
            if st.name in ran or st.src not in values or (st.accepts and not st.accepts(values[st.src])):
                continue
            options = {k: v for k, v in STEP_OPTIONS.get(st.name, {}).items() if k in st.options}
            out = st(values[st.src], **options)
            assert holds(st.dst, out, reg.node_kinds), f"{st} returned {type(out).__name__}"
            values.setdefault(st.dst, out)
            ran.add(st.name)
            progress = True
    missed = sorted(s.name for s in todo if s.name not in ran)
    assert not missed, f"available steps whose input could not be built here: {missed}"
    assert {"perceptual-to-look", "motion-robot", "perceptual-to-composer", "lut", "robot-trajectory"} <= ran


def test_the_default_perceptual_routes_check_every_step():
    x = small_inputs()
    for src, to in (("audio", "filter"), ("text", "robot"), ("image", "audio"), ("video", "motion")):
        trace = xmedia.translate(x[src], to=to, trace=True)
        kinds = registry().node_kinds
        assert all(holds(node, value, kinds) for node, value in zip(trace.route.nodes, trace.values))


def test_a_step_that_returns_something_else_than_it_declares_is_a_route_error():
    liar = Step("liar", "text", "audio", lambda text: Image(np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(RouteError, match=r"'liar' declares it returns 'audio'.*returned Image \(KIND 'image'\)"):
        Route([liar]).run(Text("hello"))
    wrong_space = Step("wrong-space", "text", "space:clip", lambda text: xmedia.encode(text))
    with pytest.raises(RouteError, match=r"'space:clip' \(an Embedding of space 'clip'\).*of space 'perceptual'"):
        Route([wrong_space]).run(Text("hello"))


def test_a_plug_in_node_kind_states_what_its_node_holds():
    reg = Registry()
    reg._loaded = True  # only this test's module, not the installed providers

    class Provider:  # what a plug-in medium's provider module declares beside its steps
        score = NodeKind("score", lambda v: isinstance(v, list) and all(isinstance(n, int) for n in v),
                         "a list of MIDI note numbers")
        to_score = Step("text-score", "text", "score", lambda text: [60 + len(w) % 12 for w in text.text.split()])

    reg.add_module(Provider)
    assert "score" in reg.node_kinds and holds("score", [60, 62], reg.node_kinds)
    assert not holds("score", "C D E", reg.node_kinds)
    assert reg.node_kinds["score"].describe() == "a list of MIDI note numbers"
    assert holds("controls:filter", xmedia.translate(Text("dawn"), "filter", trace=True)["controls:filter"],
                 registry().node_kinds)


def test_visual_onsets_declares_the_space_its_run_returns():
    pytest.importorskip("torch")
    from xmedia.adapters.onsets.process import VisualOnsets

    process = VisualOnsets()
    out = process.run(small_inputs()["video"])
    assert process.dst == "space:perceptual" and holds(process.dst, out, {})
