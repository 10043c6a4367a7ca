"""The Projects tab: make a project from a book or a script, run it in the background (the page can
be closed; the run goes on), follow its progress, review every segment (play, edit the text or the
speaker, regenerate with a new or a chosen seed, lock), hear a chapter joined again, and export.
Each button is one call of `Projects`; the API endpoints for programs are in projects_api.py."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..accounts import Caller
from ..errors import UserFacingError
from ..projects.studio import Projects
from ..service import EXPORT_FORMATS
from . import projects_view as view
from .actions import caller_of, shown_as
from .timing_view import subtitle_file_list

REFRESH_SECONDS = 2.0
RUNNING = ("queued", "running")
SETTINGS_HINT = '{"nfe_step": 32, "speed": 1.0, "seed": 42, "max_takes": 0}'
SPEAKERS_HINT = '{"Alice": {"voice": "Emma", "speed": 1.1, "seed": 7}}'


def build_projects_tab(projects: Projects, voice_names: list[str]) -> gr.Dropdown:
    """Lay out the tab in the current context; returns its default-voice picker (a voice list)."""
    if projects.problem:
        gr.Markdown(f"**Projects are off:** {projects.problem}")
    gr.Markdown("Books and scripts with several voices, made segment by segment in the background: close the "
                "page and come back. Tag lines with `[Name]` or `{Name}` (a saved voice, or a speaker mapped to "
                "one below); untagged text uses the default voice.")
    with gr.Row():
        picker = gr.Dropdown([], label="Project", elem_id="project-picker", allow_custom_value=True, scale=3)
        refresh_btn = gr.Button("Refresh", elem_id="project-refresh", scale=0)
    with gr.Accordion("New project", open=False, elem_id="project-new"):
        with gr.Row():
            file = gr.File(label="Book or script (.md, .txt, .epub, .srt, .vtt)", type="filepath",
                           file_types=[".txt", ".md", ".epub", ".srt", ".vtt"], elem_id="project-file")
            text = gr.Textbox(label="…or paste the script (Markdown: # headings are chapters)", lines=8,
                              elem_id="project-text")
        with gr.Row():
            name = gr.Textbox(label="Name", max_lines=1, elem_id="project-name")
            default_voice = gr.Dropdown(voice_names, label="Default voice", allow_custom_value=True,
                                        elem_id="project-voice", info="Speaks untagged text.")
        with gr.Row():
            speakers = gr.Textbox(label="Speakers (JSON, optional)", placeholder=SPEAKERS_HINT, max_lines=4)
            settings = gr.Textbox(label="Settings (JSON, optional)", placeholder=SETTINGS_HINT, max_lines=4)
        create_btn = gr.Button("Create project", variant="primary", elem_id="project-create")
    with gr.Row():
        run_btn = gr.Button("Run / resume", variant="primary", elem_id="project-run")
        pause_btn = gr.Button("Pause", elem_id="project-pause")
        cancel_btn = gr.Button("Cancel", variant="stop", elem_id="project-cancel")
    progress = gr.Markdown(view.status_markdown(None), elem_id="project-status")
    chapter = gr.Dropdown([], label="Chapter", elem_id="project-chapter")
    table = gr.HTML(elem_id="project-segments")
    with gr.Row():
        with gr.Column():
            segment = gr.Dropdown([], label="Segment", elem_id="project-segment")
            segment_audio = gr.Audio(label="Segment", type="filepath", interactive=False, elem_id="segment-audio")
            segment_text = gr.Textbox(label="Text", lines=3, elem_id="segment-text")
            with gr.Row():
                segment_speaker = gr.Textbox(label="Speaker (empty: the default voice)", max_lines=1,
                                             elem_id="segment-speaker")
                seed = gr.Number(label="Seed (-1: a new one)", value=-1, precision=0, elem_id="segment-seed")
            with gr.Row():
                save_btn = gr.Button("Save text and speaker", elem_id="segment-save")
                regen_btn = gr.Button("Regenerate", elem_id="segment-regenerate")
                lock_btn = gr.Button("Lock", elem_id="segment-lock")
                unlock_btn = gr.Button("Unlock", elem_id="segment-unlock")
        with gr.Column():
            chapter_btn = gr.Button("Join this chapter", elem_id="chapter-join")
            chapter_audio = gr.Audio(label="Chapter", type="filepath", interactive=False, elem_id="chapter-audio")
            chapter_files = gr.File(label="Chapter subtitles (speaker names)", file_count="multiple",
                                    interactive=False)
    with gr.Accordion("Export", open=False, elem_id="project-export"):
        with gr.Row():
            audio_format = gr.Dropdown(list(EXPORT_FORMATS), value="mp3", label="Compressed copy per chapter")
            cover = gr.File(label="Cover image (optional; an EPUB's own is used otherwise)", type="filepath",
                            file_types=["image"])
            srt_names = gr.Checkbox(label="Speaker names in SRT", value=False)
        export_btn = gr.Button("Export chapters and M4B", elem_id="project-export-btn")
        export_note = gr.Markdown()
        downloads = gr.File(label="Exported files", file_count="multiple", interactive=False)
    timer = gr.Timer(REFRESH_SECONDS, active=False)  # ticks only while the shown project runs

    # --- handlers: one Projects call each, as the caller of the request -----------------------
    def shown(project_id, chapter_id=None, request: gr.Request = None):
        """Everything that shows the selected project: status, chapters, the chapter's segments."""
        if not project_id:
            return (view.status_markdown(None), gr.Dropdown(choices=[], value=None), "", gr.Dropdown(choices=[]),
                    gr.Timer(active=False))
        caller = caller_of(request)
        with shown_as("read the project"):
            chapters = projects.chapters(project_id, caller=caller)
            ids = [c["id"] for c in chapters]
            chapter_id = chapter_id if chapter_id in ids else (ids[0] if ids else None)
            segments = projects.segments(project_id, chapter_id, caller=caller) if chapter_id else []
            status = projects.status(project_id, caller=caller)
            return (view.status_markdown(status), gr.Dropdown(choices=view.chapter_choices(chapters), value=chapter_id),
                    view.segments_table(segments), gr.Dropdown(choices=view.segment_choices(segments)),
                    gr.Timer(active=status["state"] in RUNNING))

    def tick(project_id, chapter_id, request: gr.Request = None):
        if not project_id:
            return gr.skip(), gr.skip(), gr.Timer(active=False)
        caller = caller_of(request)
        try:
            status = projects.status(project_id, caller=caller)
            segments = projects.segments(project_id, chapter_id, caller=caller) if chapter_id else []
        except UserFacingError:  # a project deleted elsewhere, a bad id typed in: the next action says why
            return gr.skip(), gr.skip(), gr.Timer(active=False)
        # The last tick shows the finished table, then stops.
        return (view.status_markdown(status), view.segments_table(segments),
                gr.Timer(active=status["state"] in RUNNING))

    def listed(request: gr.Request = None):
        return gr.Dropdown(choices=_choices(projects, caller_of(request)))

    def create(file_path, text_value, name_value, voice, speakers_json, settings_json, request: gr.Request = None):
        caller = caller_of(request)
        with shown_as("create the project"):
            created = projects.create(file_path, text_value or "", name_value or "", voice or "", speakers_json,
                                      settings_json, caller=caller)
        gr.Info(f"Created {created['name']!r}: {len(created['chapters'])} chapter(s), "
                f"{len(created['segments'])} segment(s).")
        return gr.Dropdown(choices=_choices(projects, caller), value=created["id"])

    def control(what: str):
        def act(project_id, request: gr.Request = None):
            caller = caller_of(request)
            with shown_as(f"{what} the project"):
                if what == "run":
                    status = projects.run(project_id or "", caller=caller)
                else:
                    status = projects.pause(project_id or "", cancel=what == "cancel", caller=caller)
            return view.status_markdown(status), gr.Timer(active=True)  # ticks follow the run (or its pause)

        return act

    def pick_segment(project_id, segment_id, request: gr.Request = None):
        if not project_id or segment_id is None:
            return None, "", "", -1
        caller = caller_of(request)
        with shown_as("read the segment"):
            data = projects.segment_info(project_id, segment_id, caller=caller)
            audio = projects.segment_audio(project_id, segment_id, caller=caller)
        return (str(audio) if audio else None), data["text"], data["speaker"], data["used_seed"] or -1

    def change(action: str):
        def act(project_id, segment_id, text_value, speaker_value, seed_value, request: gr.Request = None):
            if segment_id is None:
                raise gr.Error("Pick a segment first.", title="Invalid input", print_exception=False)
            caller = caller_of(request)
            with shown_as(f"{action} the segment"):
                done = projects.segment(project_id or "", segment_id, action,
                                        text_value if action == "edit" else None,
                                        speaker_value if action == "edit" else None,
                                        None if seed_value in (None, -1) else int(seed_value), caller=caller)
                audio = projects.segment_audio(project_id or "", segment_id, caller=caller)
            gr.Info(f"Segment #{done['id']}: {done['status']}.")
            return str(audio) if audio else None

        return act

    def join_chapter(project_id, chapter_id, request: gr.Request = None):
        if not project_id or chapter_id is None:
            raise gr.Error("Pick a project and a chapter first.", title="Invalid input", print_exception=False)
        caller = caller_of(request)
        with shown_as("join the chapter"):
            joined = projects.chapter(project_id, chapter_id, served=True, caller=caller)
            files = projects.chapter_subtitles(project_id, chapter_id, caller=caller)
        return str(joined.path), subtitle_file_list(files)

    def export(project_id, fmt, cover_path, names, request: gr.Request = None):
        with shown_as("export the project"):
            result = projects.export(project_id or "", fmt or "mp3", cover_path, bool(names),
                                     caller=caller_of(request))
        data = result.to_dict()
        notes = data["manifest"].get("warnings", []) + data["manifest"].get("notes", [])
        where = f"**Exported to `{data['location']}`**" + "".join(f"\n- {n}" for n in notes)
        if result.kind == "s3":
            where += "".join(f"\n- [{f['name']}]({f['url']})" for f in data["files"])
        return where, [f.local_path for f in result.files] if result.kind == "local" else None

    # --- wiring ------------------------------------------------------------------------------
    private: dict[str, Any] = {"api_visibility": "private"}
    view_outputs = [progress, chapter, table, segment, timer]
    # The projects are listed for whoever opened the page (none for a visitor who may not see them).
    gr.on(None, listed, outputs=[picker], queue=False, show_progress="hidden", **private)
    picker.change(shown, inputs=[picker], outputs=view_outputs, **private)
    chapter.change(shown, inputs=[picker, chapter], outputs=view_outputs, **private)
    refresh_btn.click(listed, outputs=[picker], **private).then(shown, inputs=[picker, chapter],
                                                                outputs=view_outputs, **private)
    timer.tick(tick, inputs=[picker, chapter], outputs=[progress, table, timer], queue=False, **private)
    create_btn.click(create, inputs=[file, text, name, default_voice, speakers, settings], outputs=[picker],
                     concurrency_id="projects", **private)
    for button, what in ((run_btn, "run"), (pause_btn, "pause"), (cancel_btn, "cancel")):
        button.click(control(what), inputs=[picker], outputs=[progress, timer], **private)
    segment.change(pick_segment, inputs=[picker, segment], outputs=[segment_audio, segment_text, segment_speaker, seed],
                   **private)
    for button, action in ((save_btn, "edit"), (regen_btn, "regenerate"), (lock_btn, "lock"),
                           (unlock_btn, "unlock")):
        button.click(change(action), inputs=[picker, segment, segment_text, segment_speaker, seed],
                     outputs=[segment_audio], concurrency_id="model" if action == "regenerate" else None,
                     **private).then(shown, inputs=[picker, chapter], outputs=view_outputs, **private)
    chapter_btn.click(join_chapter, inputs=[picker, chapter], outputs=[chapter_audio, chapter_files], **private)
    export_btn.click(export, inputs=[picker, audio_format, cover, srt_names], outputs=[export_note, downloads],
                     concurrency_id="export", **private)
    return default_voice


def _choices(projects: Projects, caller: Caller) -> list[tuple[str, str]]:
    """The caller's choice of projects; none when projects are off or the caller may not see them."""
    try:
        return view.project_choices(projects.list(caller=caller))
    except UserFacingError:
        return []
