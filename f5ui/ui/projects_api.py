"""The projects' API endpoints for programs, each one call of `Projects`: /project_create (a file
or text, a name, the default voice, speakers and settings), /project_run, /project_pause (cancel
as an option), /project_status, /project_segment (regenerate, lock, unlock or edit one segment),
/project_export (the files or links, the M4B among them), /projects and /project. Endpoints that
take or give files are events of hidden components (so uploads go through Gradio's checks); the
others are plain functions."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..projects.studio import Projects
from ..service import EXPORT_FORMATS
from .actions import shown_as


def create_project(projects: Projects, file: str | None, text: str | None, name: str | None,
                   default_voice: str | None, speakers: Any, settings: Any) -> dict[str, Any]:
    with shown_as("create the project"):
        return projects.create(file, text or "", name or "", default_voice or "", speakers, settings)


def export_project(projects: Projects, project_id: str | None, audio_format: str | None, cover: str | None,
                   srt_names: bool | None) -> tuple[dict[str, Any], list[str] | None]:
    with shown_as("export the project"):
        result = projects.export(project_id or "", audio_format or "mp3", cover, bool(srt_names))
    downloads = [f.local_path for f in result.files] if result.kind == "local" else None
    return result.to_dict(), downloads


def segment_action(projects: Projects, project_id: str | None, segment_id: Any, action: str | None,
                   text: str | None, speaker: str | None, seed: Any) -> tuple[dict[str, Any], str | None]:
    with shown_as("change the segment"):
        segment = projects.segment(project_id or "", segment_id, action or "", text, speaker,
                                   None if seed is None else int(seed))
        audio = projects.segment_audio(project_id or "", segment["id"])
    return segment, str(audio) if audio else None


def register_project_api(projects: Projects) -> None:
    """The endpoints, in the current Blocks context."""
    with gr.Group(visible=False):
        file = gr.File(type="filepath", file_types=[".txt", ".md", ".epub", ".srt", ".vtt"])
        text, name, voice = gr.Textbox(), gr.Textbox(), gr.Textbox()
        speakers, settings, created = gr.JSON(), gr.JSON(), gr.JSON()
        create = gr.Button()
        create.click(lambda *args: create_project(projects, *args), inputs=[file, text, name, voice, speakers,
                                                                            settings],
                     outputs=[created], api_name="project_create", concurrency_id="projects")

        project_id, audio_format, srt_names = gr.Textbox(), gr.Dropdown(list(EXPORT_FORMATS)), gr.Checkbox()
        cover = gr.File(type="filepath", file_types=["image"])
        exported, downloads = gr.JSON(), gr.File(file_count="multiple")
        export = gr.Button()
        export.click(lambda *args: export_project(projects, *args), inputs=[project_id, audio_format, cover,
                                                                            srt_names],
                     outputs=[exported, downloads], api_name="project_export", concurrency_id="export")

        segment_id, action, seed = gr.Number(precision=0), gr.Textbox(), gr.Number(precision=0)
        segment_text, speaker, changed = gr.Textbox(), gr.Textbox(), gr.JSON()
        segment_audio = gr.Audio(type="filepath")
        change = gr.Button()
        change.click(lambda *args: segment_action(projects, *args),
                     inputs=[project_id, segment_id, action, segment_text, speaker, seed],
                     outputs=[changed, segment_audio], api_name="project_segment", concurrency_id="model")

    def project_run(project_id: str) -> dict:
        """Start (or resume) the project's run in the background; its status."""
        with shown_as("run the project"):
            return projects.run(project_id)

    def project_pause(project_id: str, cancel: bool = False) -> dict:
        """Pause the run at the next chunk (cancel: stop it); its status."""
        with shown_as("pause the project"):
            return projects.pause(project_id, cancel)

    def project_status(project_id: str) -> dict:
        """Segments by status, audio seconds made, estimated seconds left, the state of the run."""
        with shown_as("read the project"):
            return projects.status(project_id)

    def project(project_id: str) -> dict:
        """The project with its chapters, segments and speakers."""
        with shown_as("read the project"):
            return projects.overview(project_id)

    def projects_list() -> list[dict]:
        """Every project with its state and segment counts."""
        with shown_as("list the projects"):
            return projects.list()

    for fn, api_name in ((project_run, "project_run"), (project_pause, "project_pause"),
                         (project_status, "project_status"), (project, "project"), (projects_list, "projects")):
        gr.api(fn, api_name=api_name, concurrency_limit=None)
