"""The projects' API endpoints for programs, each one call of `Projects`: /project_create (a file
or text, a name, the default voice, speakers and settings), /project_run, /project_pause (cancel
as an option), /project_status, /project_segment (regenerate, lock, unlock or edit one segment),
/project_export (the files or links, the M4B among them), /projects and /project. Endpoints that
take or give files are events of hidden components (so uploads go through Gradio's checks); the
others are plain functions."""

from __future__ import annotations

import gradio as gr

from ..projects.studio import Projects
from .actions import caller_of, shown_as


def register_project_api(projects: Projects) -> None:
    """The endpoints, in the current Blocks context."""

    def project_create(file, text, name, default_voice, speakers, settings, request: gr.Request = None):
        """A project from a file (.md, .txt, .epub, .srt, .vtt) or a text; its id, chapters, segments, speakers."""
        with shown_as("create the project"):
            return projects.create(file, text or "", name or "", default_voice or "", speakers, settings,
                                   caller=caller_of(request))

    def project_export(project_id, audio_format="mp3", cover=None, srt_names=False, request: gr.Request = None):
        """Every chapter (WAV, a compressed copy, timings) and the M4B; the export and its files."""
        with shown_as("export the project"):
            result = projects.export(project_id or "", audio_format or "mp3", cover, bool(srt_names),
                                     caller=caller_of(request))
        return result.to_dict(), [f.local_path for f in result.files] if result.kind == "local" else None

    def project_segment(project_id, segment_id, action, text=None, speaker=None, seed=None,
                        request: gr.Request = None):
        """regenerate (seed: -1 or empty for a new one), lock, unlock or edit (text, speaker) one segment."""
        caller = caller_of(request)
        with shown_as("change the segment"):
            segment = projects.segment(project_id or "", segment_id, action or "", text, speaker,
                                       None if seed is None else int(seed), caller=caller)
            audio = projects.segment_audio(project_id or "", segment["id"], caller=caller)
        return segment, str(audio) if audio else None

    with gr.Group(visible=False):
        file = gr.File(type="filepath", file_types=[".txt", ".md", ".epub", ".srt", ".vtt"])
        text, name, voice = gr.Textbox(), gr.Textbox(), gr.Textbox()
        speakers, settings, created = gr.JSON(), gr.JSON(), gr.JSON()
        gr.Button().click(project_create, inputs=[file, text, name, voice, speakers, settings], outputs=[created],
                          api_name="project_create", concurrency_id="projects")
        project_id, audio_format, srt_names = gr.Textbox(), gr.Textbox(value="mp3"), gr.Checkbox()
        cover = gr.File(type="filepath", file_types=["image"])
        exported, downloads = gr.JSON(), gr.File(file_count="multiple")
        gr.Button().click(project_export, inputs=[project_id, audio_format, cover, srt_names],
                          outputs=[exported, downloads], api_name="project_export", concurrency_id="export")
        segment_id, action, seed = gr.Number(precision=0), gr.Textbox(), gr.Number(precision=0)
        segment_text, speaker, changed = gr.Textbox(), gr.Textbox(), gr.JSON()
        segment_audio = gr.Audio(type="filepath")
        gr.Button().click(project_segment, inputs=[project_id, segment_id, action, segment_text, speaker, seed],
                          outputs=[changed, segment_audio], api_name="project_segment", concurrency_id="model")

    def project_run(project_id: str, request: gr.Request) -> dict:
        """Start (or resume) the project's run in the background; its status."""
        with shown_as("run the project"):
            return projects.run(project_id, caller=caller_of(request))

    def project_pause(project_id: str, request: gr.Request, cancel: bool = False) -> dict:
        """Pause the run at the next chunk (cancel: stop it); its status."""
        with shown_as("pause the project"):
            return projects.pause(project_id, cancel, caller=caller_of(request))

    def project_status(project_id: str, request: gr.Request) -> dict:
        """Segments by status, audio seconds made, estimated seconds left, the state of the run."""
        with shown_as("read the project"):
            return projects.status(project_id, caller=caller_of(request))

    def project(project_id: str, request: gr.Request) -> dict:
        """The project with its chapters, segments and speakers."""
        with shown_as("read the project"):
            return projects.overview(project_id, caller=caller_of(request))

    def projects_list(request: gr.Request) -> list[dict]:
        """Every project with its state and segment counts."""
        with shown_as("list the projects"):
            return projects.list(caller=caller_of(request))

    for fn, api_name in ((project_run, "project_run"), (project_pause, "project_pause"),
                         (project_status, "project_status"), (project, "project"), (projects_list, "projects")):
        gr.api(fn, api_name=api_name, concurrency_limit=None)
