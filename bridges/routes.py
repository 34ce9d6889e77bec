"""The route steps of the shipped bridges (a provider in the ``xmedia.providers`` entry-point group).

This module is light: each step names its bridge as ``"module:attr"``, so torch loads only when a route runs
one. Options are read from the bridge's ``run`` signature then.
"""
from __future__ import annotations

from xmedia.adapters import minilm, weights
from xmedia.routing import Step, StreamTarget, resolve

perceptual_to_composer = Step(
    "perceptual-to-composer", "space:perceptual", "controls:composer",
    "xmedia.bridges.controls_map:ControlsMap", cost=0.1, kind="bridge",
    description="ControlsMap (the numpy twin of PerceptualToComposer): tempo from pace, intensity from energy, "
                "key/mode/register from brightness, warmth and valence, timbre from texture, accents on events",
)

perceptual_to_look = Step(
    "perceptual-to-look", "space:perceptual", "controls:filter", "xmedia.bridges.look_map:LookMap",
    cost=0.2, kind="bridge", only_for=("filter",),
    description="LookMap (numpy): perceptual axes -> Look parameters of a colour look (Palmer et al. 2013; "
                "Whiteford et al. 2018)",
)

motion_robot = Step(
    "motion-robot", "motion", "controls:robot", "xmedia.bridges.motion_map:motion_to_commands", cost=1.0,
    kind="bridge",
    description="motion_to_commands: a MotionMap (the numpy form of MotionToJoints) fitted on the clip: "
                "motion-energy envelope -> arm speed, principal components -> posture; joint commands in [-1, 1]",
)

minilm_anchors = Step(
    "minilm-anchors", "space:minilm", "space:perceptual", "xmedia.bridges.foundation:minilm_anchors", cost=1.0,
    kind="bridge", available=minilm.is_available,
    description="anchor-phrase projection onto the perceptual axes: " + weights.describe(minilm.NAME),
)

robot = StreamTarget("robot", "xmedia.bridges.robot_stream:RobotController")

# Trained foundation bridges: available once $XMEDIA_HOME/bridges/<a>-to-<b> holds one (docs/foundation.md).
# The cost is above a native encoder's, so a real CLIP/CLAP encoder is preferred to reaching its space by a bridge.
TRAINED_PAIRS = (("clap", "clip"), ("perceptual", "clip"), ("clip", "clap"), ("perceptual", "clap"),
                 ("clip", "perceptual"), ("clap", "perceptual"))


def _trained_runner(name: str):
    def run(embedding):
        return resolve("xmedia.bridges.foundation:load_trained")(name)(embedding)

    return run


def _has_trained(name: str):
    return lambda: (weights.xmedia_home() / "bridges" / name / "config.json").is_file()


def provide_steps():
    for a, b in TRAINED_PAIRS:
        name = f"{a}-to-{b}"
        yield Step(name, f"space:{a}", f"space:{b}", _trained_runner(name), cost=30.0, kind="bridge",
                   available=_has_trained(name),
                   description=f"trained bridge {a} -> {b}; save one to $XMEDIA_HOME/bridges/{name} "
                               "(docs/foundation.md)")
