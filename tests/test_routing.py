import numpy as np
import pytest

import xmedia
from xmedia import Embedding, RouteError, Text, WeightsError
from xmedia.node_kinds import NodeKind
from xmedia.routing import Registry, Step, Trace, step


def scale(factor):
    return lambda x: x * factor


@step("a", "space:s", name="a-to-s", cost=1.0, kind="encoder")
def a_to_s(x, gain=1.0):
    """Double, times a gain."""
    return x * 2 * gain


def small_registry():
    reg = Registry()
    reg._loaded = True
    reg.add(a_to_s.__xmedia_step__)
    reg.add(Step("a-to-t", "a", "space:t", scale(3), cost=0.5, kind="encoder"))
    reg.add(Step("s-to-b", "space:s", "b", scale(5), cost=1.0, kind="decoder"))
    reg.add(Step("t-to-b", "space:t", "b", scale(7), cost=2.0, kind="decoder"))
    reg.add(Step("t-to-s", "space:t", "space:s", scale(11), cost=0.1))
    reg.add(Step("locked", "a", "b", scale(13), cost=0.01, available=lambda: False))
    for node in ("a", "b", "space:s", "space:t"):  # the toy nodes hold plain numbers
        reg.add(NodeKind(node, (int, float), "a number"))
    return reg


def test_step_options_are_the_signature():
    st = a_to_s.__xmedia_step__
    assert st.options == ("gain",) and st.description == "Double, times a gain."
    assert a_to_s(1.0, gain=3) == 6  # the decorated function is still the plain function


@pytest.mark.parametrize("name, options", [("perceptual-image", ("max_side",)), ("perceptual-audio", ("onset_threshold",)),
                                           ("perceptual-video", ("max_side", "progress", "onset_model", "events"))])
def test_encoder_options_reach_translate(name, options):
    """Every keyword parameter of an encoder is an option of translate (no hand-kept option lists)."""
    assert xmedia.routing.registry().steps[name].options == options


def test_trace_keeps_every_intermediate():
    reg = small_registry()
    trace = reg.plan("a", "b").run(1.0, trace=True)
    assert isinstance(trace, Trace) and trace.output == 3 * 11 * 5
    assert trace["space:t"] == 3 and trace["space:s"] == 33 and trace["a"] == 1.0
    with pytest.raises(KeyError, match="does not pass through"):
        trace["space:zzz"]


def test_cheapest_route_uses_the_bridge_when_cheaper():
    reg = small_registry()
    route = reg.plan("a", "b")
    assert route.cost == pytest.approx(1.6)
    assert [s.name for s in route.steps] == ["a-to-t", "t-to-s", "s-to-b"]
    assert route.run(1.0) == 3 * 11 * 5


def test_via_forces_a_space_and_options_reach_their_step():
    reg = small_registry()
    route = reg.plan("a", "b", via=["space:t"])
    assert "space:t" in route.nodes
    route = reg.plan("a", "b", via=["a-to-s"])
    assert route.steps[0].name == "a-to-s"
    assert route.run(1.0, gain=2.0) == 2 * 2 * 5


def test_unknown_option_is_an_error_naming_the_accepted_ones():
    reg = small_registry()
    with pytest.raises(RouteError, match="colour"):
        reg.plan("a", "b", via=["a-to-s"]).run(1.0, colour="red")


def test_unavailable_step_skipped_unless_named():
    reg = small_registry()
    assert "locked" not in [s.name for s in reg.plan("a", "b").steps]
    assert [s.name for s in reg.plan("a", "b", via=["locked"]).steps] == ["locked"]


def test_impossible_route_lists_what_is_possible():
    reg = small_registry()
    with pytest.raises(RouteError) as err:
        reg.plan("b", "a")
    assert "no route from 'b' to 'a'" in str(err.value)
    with pytest.raises(RouteError, match=r"you can reach: \['b'\]"):
        reg.plan("a", "zzz")


def test_accepts_predicate_filters_first_step():
    reg = small_registry()
    reg.add(Step("only-big", "a", "b", scale(1), cost=0.0, accepts=lambda x: x > 100))
    assert reg.plan("a", "b", x=1.0).steps[0].name != "only-big"
    assert reg.plan("a", "b", x=1000.0).steps[0].name == "only-big"


def test_real_registry_text_to_perceptual():
    e = xmedia.translate(Text("fast bright dance"), to="perceptual")
    assert isinstance(e, Embedding) and e.space == "perceptual"
    assert e["pace"] > 0.6 and e["brightness"] > 0.6


def test_encode_shortcut_and_embedding_as_source():
    e = xmedia.encode(Text("calm"))
    assert e["energy"] < 0.5
    with pytest.raises(RouteError):
        xmedia.translate(e, to="video")  # nothing decodes into video


def test_routes_lists_pairs():
    pairs = {(a, b) for a, b, _ in xmedia.routes()}
    assert ("video", "audio") in pairs or ("video", "motion") in pairs
    assert all(a != b for a, b in pairs)


def test_translate_to_bad_target_type():
    with pytest.raises(RouteError, match="not an xmedia type"):
        xmedia.translate(Text("x"), to=int)


def test_missing_weights_raise_weights_error_when_asked_by_name():
    reg = xmedia.routing.registry()
    locked = [s for s in reg.steps.values() if not s.is_available() and s.src == "text"]
    if not locked:
        pytest.skip("every foundation backend has weights here")
    with pytest.raises(WeightsError):
        xmedia.translate(Text("a dog"), to=locked[0].dst, via=[locked[0].name])


def test_bridge_object_can_be_spliced_in():
    class Brighten:
        """A process-like object: called as ``bridge(embedding, **options)``; its options are ``run``'s."""

        src, dst = "space:perceptual", "space:perceptual"

        def run(self, x, amount=0.2):
            return x.replace(vector=np.clip(x.vector + amount, 0, 1))

        __call__ = run

    base = xmedia.encode(Text("dark"))
    out = xmedia.translate(Text("dark"), to="perceptual", bridge=Brighten(), amount=0.3)
    assert out["brightness"] == pytest.approx(min(1, base["brightness"] + 0.3), abs=1e-6)


def test_zoo_text_bridge_is_a_route_step():
    route = xmedia.plan(Text("x"), to="perceptual", via="zoo:text-perceptual")
    assert [s.name for s in route.steps] == ["zoo:text-perceptual"]
    hot, icy = (xmedia.translate(Text(w), to="perceptual", via="zoo:text-perceptual") for w in ("burning", "icy"))
    assert hot["warmth"] > icy["warmth"] + 0.3


@pytest.mark.parametrize("make", [lambda m: Text("a calm warm night"), lambda m: xmedia.load(m("image", "orange.jpg"))])
def test_any_input_reaches_any_output(media, make):
    """N encoders x M decoders: a phrase or a photo gets a soundtrack (held mood) and a colour look."""
    x = make(media)
    audio = xmedia.translate(x, to="audio", duration_s=2, seed=0)
    assert audio.duration_s == 2 and float(abs(audio.samples).max()) > 0.01
    look = xmedia.translate(x, to="filter")
    assert look.KIND == "filter"
    with pytest.raises(xmedia.ConfigError, match="still media"):
        xmedia.translate(xmedia.load(media("audio", "loop_amen.flac")), to="audio", duration_s=2)


def test_audio_to_new_audio_is_a_route(media):
    """Back to the source's kind through the shared space: a new piece that follows the loop's energy."""
    amen = xmedia.load(media("audio", "loop_amen.flac"))
    route = xmedia.plan(amen, to="audio")
    assert route.nodes[0] == route.nodes[-1] == "audio" and "space:perceptual" in route.nodes
    out = route.run(amen, seed=3)
    assert abs(float(out.duration_s - amen.duration_s)) < 1e-3


def test_a_step_whose_code_is_missing_is_a_route_error():
    st = Step("ghost", "a", "b", "xmedia.adapters.no_such_backend:run")
    with pytest.raises(RouteError, match="ghost.*no_such_backend"):
        st.options
