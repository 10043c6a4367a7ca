"""The voice library in the UI: the picker and "save as a voice" of the Generate tab, and the
Voices tab (list, rename, delete, sync with S3). The API endpoints for programs (/voices,
/delete_voice, /rename_voice, /sync_voices) call the same Studio functions."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..engine.voices import Voice
from ..service import Studio
from .actions import caller_of, shown_as
from .inputs import checkbox

NONE = ""  # the picker's "no saved voice": use the uploaded reference
VOICE_COLUMNS = ["name", "duration (s)", "reference text", "notes", "saved"]


# Each takes the library's list, read once per refresh (every read parses every voice.json).
def voice_names(voices: list[Voice]) -> list[str]:
    return [v.name for v in voices]


def picker_choices(voices: list[Voice]) -> list[tuple[str, str]]:
    return [("— the reference below —", NONE), *((name, name) for name in voice_names(voices))]


def voice_rows(voices: list[Voice]) -> list[list[Any]]:
    return [[v.name, round(v.duration, 2), v.ref_text, v.notes, v.created] for v in voices]


def build_voice_picker(studio: Studio) -> gr.Dropdown:
    # Custom values allowed: a voice saved after the page (or this API session) was built is still valid;
    # the studio answers an unknown name with the list of saved ones.
    return gr.Dropdown(picker_choices(studio.voice_list()), value=NONE, label="Saved voice", elem_id="voice-picker",
                       allow_custom_value=True, info="Pick a saved voice instead of uploading a reference.")


def build_save_voice(studio: Studio, ref_audio: gr.Audio, ref_text: gr.Textbox, refresh: list) -> None:
    """"Save this reference as a voice", under the reference inputs; `refresh` = components that
    list the voices (updated after saving)."""
    with gr.Accordion("Save this reference as a voice", open=False, elem_id="save-voice"):
        with gr.Row():
            name = gr.Textbox(label="Name", max_lines=1, elem_id="voice-name",
                              info="Letters, digits, spaces, '-' and '_'.")
            overwrite = checkbox("Replace a voice of this name", "overwrite", value=False)
        notes = gr.Textbox(label="Notes (optional)", max_lines=2)
        save_btn = gr.Button("Save voice", elem_id="save-voice-btn")
        saved = gr.JSON(label="Saved voice", visible=False)

    def save_voice(audio, ref_text="", name="", overwrite=False, notes="", request: gr.Request = None):
        with shown_as("save the voice"):  # null (left off) is each input's default
            voice = studio.save_voice(audio, ref_text or "", name or "", notes or "", bool(overwrite),
                                      caller=caller_of(request))
        gr.Info(f"Saved the voice {voice.name!r} ({voice.duration:.1f} s).")
        return voice.public()

    save_btn.click(save_voice, inputs=[ref_audio, ref_text, name, overwrite, notes], outputs=[saved],
                   api_name="save_voice", concurrency_id="model").then(
        lambda: refreshed(studio, refresh), outputs=refresh, api_visibility="private", queue=False,
        show_progress="hidden")  # no tracker left spinning on a hidden tab (see ui/app.py)


def refreshed(studio: Studio, components: list) -> list:
    """New values for every component that lists voices (pickers, dropdowns, the table)."""
    voices, out = studio.voice_list(), []
    for component in components:
        if isinstance(component, gr.Dataframe):
            out.append(voice_rows(voices))
        elif getattr(component, "elem_id", "") == "voice-picker":
            out.append(gr.Dropdown(choices=picker_choices(voices)))
        else:
            out.append(gr.Dropdown(choices=voice_names(voices), value=None))
    return out


def build_voices_tab(studio: Studio, refresh: list) -> list:
    """The Voices tab; returns its components that list voices (to add to `refresh`)."""
    voices = studio.voice_list()
    table = gr.Dataframe(headers=VOICE_COLUMNS, value=voice_rows(voices), label="Saved voices",
                         interactive=False, elem_id="voices-table", wrap=True)
    with gr.Row():
        chosen = gr.Dropdown(voice_names(voices), label="Voice", elem_id="voices-chosen", allow_custom_value=True)
        new_name = gr.Textbox(label="New name", max_lines=1, elem_id="voices-new-name")
    with gr.Row():
        rename_btn = gr.Button("Rename", elem_id="voices-rename")
        delete_btn = gr.Button("Delete", variant="stop", elem_id="voices-delete")
        sync_btn = gr.Button("Sync with S3", elem_id="voices-sync", interactive=studio.exports.kind == "s3")
    status = gr.Markdown("" if studio.exports.kind == "s3" else
                         "Sync is off: no S3 bucket is configured (F5UI_S3_BUCKET).", elem_id="voices-status")
    mine = [table, chosen]

    def rename(old, new, request: gr.Request = None):
        with shown_as("rename the voice"):
            voice = studio.rename_voice(old or "", new or "", caller=caller_of(request))
        return f"Renamed to {voice.name!r}."

    def delete(name, request: gr.Request = None):
        with shown_as("delete the voice"):
            studio.delete_voice(name or "", caller=caller_of(request))
        return f"Deleted {name!r}."

    def sync(request: gr.Request = None):
        with shown_as("sync the voices"):
            report = studio.sync_voices(caller=caller_of(request))
        return ("Pushed: " + (", ".join(report["pushed"]) or "none") + " · imported: "
                + (", ".join(report["imported"]) or "none")
                + (" · updated from the bucket: " + ", ".join(report["updated"]) if report["updated"] else "")
                + (" · skipped (name taken here, or the library is full): " + ", ".join(report["skipped"])
                   if report["skipped"] else ""))

    private = {"api_visibility": "private"}
    for button, fn, inputs in ((rename_btn, rename, [chosen, new_name]), (delete_btn, delete, [chosen]),
                               (sync_btn, sync, [])):
        button.click(fn, inputs=inputs, outputs=[status], **private).then(
            lambda: refreshed(studio, refresh), outputs=refresh, queue=False, show_progress="hidden", **private)
    return mine


def register_voice_api(studio: Studio) -> None:
    """/voices, /delete_voice, /rename_voice and /sync_voices for programs (no components)."""

    def voices() -> list[dict]:
        """Every saved voice: name, reference text, duration (s), notes, when it was saved."""
        return [v.public() for v in studio.voice_list()]

    def delete_voice(name: str, request: gr.Request) -> list[dict]:
        """Delete a saved voice; the voices that remain."""
        with shown_as("delete the voice"):
            studio.delete_voice(name or "", caller=caller_of(request))  # null: no name, said as such
        return voices()

    def rename_voice(name: str, new_name: str, request: gr.Request) -> dict:
        """Give a saved voice another name."""
        with shown_as("rename the voice"):
            return studio.rename_voice(name or "", new_name or "", caller=caller_of(request)).public()

    def sync_voices(request: gr.Request) -> dict:
        """Push saved voices to the S3 bucket's voices/ prefix and take in the ones found there."""
        with shown_as("sync the voices"):
            return studio.sync_voices(caller=caller_of(request))

    for fn in (voices, delete_voice, rename_voice, sync_voices):
        gr.api(fn, api_name=fn.__name__)
