"""The studio's page (Gradio): drop a file, pick a target and options, run, preview and download.

Every job is ``studio_jobs.Studio.run``, which runs ``xmedia translate`` itself; this module only lays out the
page and maps results onto its components. Imported only by ``xmedia studio`` (Gradio is heavy).
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no calls home

import gradio as gr  # noqa: E402

from xmedia.errors import XMediaError  # noqa: E402
from xmedia.media import Text  # noqa: E402

from .studio_jobs import FIELDS, Studio, check_upload, describe, route_options, targets  # noqa: E402

TITLE = "xmedia studio"
INTRO = ("Drop a video, song, photo or text file (or type text), pick what to translate it into, and run. "
         "Everything runs on this machine with the embedded defaults; each run is `xmedia translate`.")
HINTS = {"seed": "integer: same seed, same result", "style": "e.g. music or foley (soundtrack)",
         "bank": "folder of your own audio samples to compose from", "timbre": "instrument timbre name or folder",
         "urdf": "kuka_iiwa, franka_panda, xarm6 or a .urdf path", "model": "a saved model folder or zoo name"}


def theme():
    """The default look with the system's fonts (the stock theme fetches web fonts, and the studio is offline)."""
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "monospace"])


def build(studio: Studio) -> gr.Blocks:
    all_targets = targets()
    with gr.Blocks(title=TITLE, analytics_enabled=False) as page:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Row():
            with gr.Column(scale=1):
                upload = gr.File(label="video, song, photo or text file", type="filepath", elem_id="upload")
                text = gr.Textbox(label="... or type text", lines=2, elem_id="text")
                about = gr.Markdown(elem_id="about")
                target = gr.Dropdown(choices=all_targets, value=all_targets[0][1] if all_targets else None,
                                     label="translate into", elem_id="target")
                with gr.Accordion("options", open=False):
                    fields = {}
                    for name in FIELDS:  # text fields: empty means "not given", as a flag left out
                        fields[name] = gr.Textbox(label=name, info=HINTS[name], elem_id=name)
                    extra = gr.Textbox(label="more route options, one key=value per line", lines=2, elem_id="extra")
                    ext = gr.Textbox(label="output file type", elem_id="ext",
                                     info="e.g. .wav instead of the clip with its soundtrack (.mp4), .png for a "
                                          "Hald look, .csv for a trajectory, .srt for timed text")
                run = gr.Button("translate", variant="primary", elem_id="run")
            with gr.Column(scale=2):
                status = gr.Markdown(elem_id="status")
                video = gr.Video(label="result video", interactive=False, visible=False, elem_id="result-video")
                audio = gr.Audio(label="result audio", interactive=False, visible=False, elem_id="result-audio")
                with gr.Row():
                    before = gr.Image(label="before", interactive=False, visible=False, elem_id="before")
                    after = gr.Image(label="after", interactive=False, visible=False, elem_id="after")
                report = gr.Image(label="report", interactive=False, visible=False, elem_id="report")
                files = gr.File(label="download", file_count="multiple", interactive=False, visible=False,
                                elem_id="files")
                log = gr.Textbox(label="log", lines=4, interactive=False, visible=False, elem_id="log")

        def on_input(path, typed, to):
            """Describe the upload (or refuse it now, before any work), offer the targets its kind reaches, and
            show the option fields the route to the chosen target accepts."""
            show_all = [gr.update(visible=True) for _ in FIELDS]
            if path is None and not (typed or "").strip():
                return ("", gr.update(choices=all_targets), *show_all)
            try:
                x = check_upload(path) if path is not None else Text(typed)
            except XMediaError as exc:
                return (_error(f"xmedia: error: {exc}", path), gr.update(), *show_all)
            choices = targets(x.KIND) or all_targets
            value = to if to in [c[1] for c in choices] else choices[0][1]
            line = f"**{os.path.basename(path)}**: {describe(x)}" if path is not None else "**typed text**"
            try:
                route, options = route_options(x, value)
            except XMediaError as exc:
                return (line + f"  \n{exc}", gr.update(choices=choices, value=value), *show_all)
            line += f"  \nroute: `{route}`  \noptions: {', '.join(options) or 'none'}"
            return (line, gr.update(choices=choices, value=value),
                    *[gr.update(visible=name in options) for name in FIELDS])

        def on_run(path, typed, to, *values, progress=gr.Progress(track_tqdm=True)):
            *field_values, extra_text, output_ext = values
            if path is None and (typed or "").strip():
                path = str(studio.text_input(typed))
            result = studio.run(path, to, dict(zip(FIELDS, field_values)), extra_text, output_ext=output_ext,
                                stage=lambda f, desc: progress(f, desc=desc))
            first, *notes = result.message.split("\n")
            status_md = (f"**{_escape(first)}**" + "".join(f"  \n{_escape(n)}" for n in notes) if result.ok
                         else _error(result.message, None))
            # subtitles: a text target's timed captions, played over the clip
            video_update = gr.update(value=result.video, subtitles=result.subtitles, visible=result.video is not None)
            return (status_md, video_update, _show(audio, result.audio), _show(before, result.before),
                    _show(after, result.after), _show(report, result.report), _show(files, result.files or None),
                    gr.update(value=result.log, visible=bool(result.log)))

        for source in (upload, text, target):
            source.change(on_input, [upload, text, target], [about, target, *fields.values()])
        run.click(on_run, [upload, text, target, *fields.values(), extra, ext],
                  [status, video, audio, before, after, report, files, log], concurrency_limit=1)
    return page


def _show(component, value):
    return gr.update(value=value, visible=value is not None)


def _error(message: str, path) -> str:
    if path:
        message = message.replace(os.path.dirname(str(path)) + "/", "")
    return f'<div class="xmedia-error" role="alert">{_escape(message)}</div>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def launch(studio: Studio, port: int, host: str = "127.0.0.1"):
    """Start the server in the background; returns the page (``page.block_thread()`` waits) and the address."""
    page = build(studio)
    page.queue(default_concurrency_limit=1)
    page.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True, inbrowser=False,
                show_error=True, allowed_paths=[str(studio.work_dir)], ssr_mode=False, theme=theme(),
                css=".xmedia-error{color:#b00020;font-weight:600;white-space:pre-wrap}")
    return page, f"http://{host}:{page.server_port}"
