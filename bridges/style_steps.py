"""Route step of the soundtrack -> style bridge (light; the code loads when a route runs it).

``video -> video`` like the plain style step but costlier, so it runs only when asked for:
``translate(clip, to="video", via="soundtrack-style")`` (CLI: ``--style soundtrack``).
"""
from xmedia.routing import Step

soundtrack_style = Step(
    "soundtrack-style", "video", "video", "xmedia.bridges.audio_style:style_by_soundtrack", cost=3.0,
    kind="bridge", description="the clip's own music picks and blends zoo styles along time (perceptual axes)",
)
