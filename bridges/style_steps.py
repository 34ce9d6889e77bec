"""Route step of the soundtrack -> style bridge (light; the code loads when a route runs it).

``video -> video`` like the plain style step, selected by its own option: ``translate(clip, to="video",
styles=("starry", "wave"))`` or ``via="soundtrack-style"`` (CLI: ``--style soundtrack``).
"""
from xmedia.routing import Step

soundtrack_style = Step(
    "soundtrack-style", "video", "video", "xmedia.bridges.audio_style:style_by_soundtrack", cost=3.0,
    kind="bridge", when=lambda options: "styles" in options, description="the clip's own music picks and blends zoo styles along time (perceptual axes)",
)
