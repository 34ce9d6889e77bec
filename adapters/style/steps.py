"""Route steps of style transfer (light: the code loads when a route runs it).

``image -> image`` and ``video -> video`` are same-kind steps: the planner only returns a non-empty route, so
``translate(photo, to="image", style="starry")`` runs this one step; nothing else maps an image to an image, and
no other route passes through it (it would only add cost). Without ``style=``/``style_image=`` the step refuses
with a clear error rather than returning the input unchanged.
"""
from xmedia.routing import Step

style_image_step = Step("style-image", "image", "image", "xmedia.adapters.style.run:style_image", cost=1.0,
                        kind="decoder", description="fast style model (style=) or Gatys optimisation (style_image=)")
style_video_step = Step("style-video", "video", "video", "xmedia.adapters.style.run:style_video", cost=1.0,
                        kind="decoder", description="fast style model per frame, flow-guided temporal consistency")
