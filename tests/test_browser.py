"""A real browser (Debian Chromium driven by Playwright) uses the Generate tab."""

from __future__ import annotations

import time
from pathlib import Path

import soundfile as sf
import srt

from tests.helpers import PATIENCE

ROOT = Path(__file__).resolve().parent.parent
WAIT_MS = PATIENCE * 1000  # Playwright counts milliseconds
SCREENSHOT = ROOT / "docs" / "screenshot.png"
def wait_for_audio_source(page, component: str, timeout: float = PATIENCE) -> str:
    """The URL the audio player of `component` plays and downloads. Gradio 6 renders the player with
    wavesurfer (the <audio> element gets its data by script), so the source shows in the download link.
    Poll: Gradio re-renders the component while the result arrives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        src = page.evaluate(f"""() => {{
            const root = document.querySelector({component!r});
            const audio = root && root.querySelector('audio');
            const link = root && root.querySelector('a[download]');
            return audio && link ? link.href : null; }}""")
        if src:
            return src
        page.wait_for_timeout(250)
    raise TimeoutError(f"no audio source in {component}")


def wait_for_upload(page, component: str) -> None:
    """Until the file given to `component` is uploaded and shown in its player (a click before that would
    send no audio)."""
    page.wait_for_function(f"""() => {{ const root = document.querySelector({component!r});
        return !!(root && root.querySelector('audio')); }}""", timeout=WAIT_MS)


def check_word_timings(page, tmp_path, script: str) -> None:
    """The word table, the karaoke view (highlight follows the player) and an SRT download."""
    words = script.split()
    karaoke = page.locator("#gen-karaoke .kw")
    karaoke.first.wait_for(timeout=WAIT_MS)
    assert karaoke.count() == len(words) and karaoke.all_inner_texts() == words
    table_text = page.locator("#gen-words").inner_text()
    assert all(word in table_text for word in words)
    assert "Word timings by" in page.locator("#gen-timing-backend").inner_text()
    # Seek the karaoke player into the third word: that word, and only it, lights up.
    page.wait_for_function("document.querySelector('#gen-karaoke audio').readyState >= 1", timeout=WAIT_MS)
    third = karaoke.nth(2)
    middle = (float(third.get_attribute("data-start")) + float(third.get_attribute("data-end"))) / 2
    page.evaluate(f"document.querySelector('#gen-karaoke audio').currentTime = {middle}")
    page.wait_for_function("document.querySelectorAll('#gen-karaoke .kw.active').length === 1", timeout=WAIT_MS)
    assert page.locator("#gen-karaoke .kw.active").inner_text() == words[2]
    # Download the phrase-level SRT the way a user would: its link in the file list.
    link = page.locator("#gen-subtitles a[href$='.srt']").filter(has_not_text=".words.").first
    with page.expect_download() as download_info:
        link.click()
    target = tmp_path / "phrases.srt"
    download_info.value.save_as(target)
    cues = list(srt.parse(target.read_text()))
    assert " ".join(c.content.replace("\n", " ") for c in cues).split() == words


def test_generate_in_the_browser(chromium, live_app, ref_clip, tmp_path):
    ref, ref_text = ref_clip
    live_app.wait_ready()
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_app.url, wait_until="networkidle")
    page.locator("#ref-audio input[type=file]").set_input_files(str(ref))
    page.locator("#ref-text textarea").fill(ref_text)
    page.locator("#gen-text textarea").fill("Hello from a real browser. This voice was cloned in seconds.")
    wait_for_upload(page, "#ref-audio")
    page.locator("#generate-btn").click()
    src = wait_for_audio_source(page, "#out-audio")
    assert src.endswith(".wav")
    response = page.request.get(src)
    assert response.ok
    audio_file = tmp_path / "downloaded.wav"
    audio_file.write_bytes(response.body())
    assert sf.info(str(audio_file)).duration > 1.0
    check_word_timings(page, tmp_path, "Hello from a real browser. This voice was cloned in seconds.")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()


def test_bad_input_shows_a_clear_error_in_the_browser(chromium, live_app, ref_clip):
    ref, ref_text = ref_clip
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_app.url, wait_until="networkidle")
    page.locator("#ref-audio input[type=file]").set_input_files(str(ref))
    page.locator("#ref-text textarea").fill(ref_text)
    page.locator("#generate-btn").click()  # no text to generate
    toast = page.get_by_text("The text to generate is empty.")
    toast.wait_for(timeout=WAIT_MS)
    assert toast.is_visible()
    page.close()


def test_save_a_voice_reload_generate_with_it_and_export(chromium, live_app, ref_clip, tmp_path):
    """Save the reference as a voice, reload the page (the voice is still there), generate with it,
    export the take and open an exported file."""
    ref, ref_text = ref_clip
    live_app.wait_ready()
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_app.url, wait_until="networkidle")
    page.locator("#ref-audio input[type=file]").set_input_files(str(ref))
    page.locator("#ref-text textarea").fill(ref_text)
    page.get_by_text("Save this reference as a voice").click()
    page.locator("#voice-name input").fill("Browser Voice")
    wait_for_upload(page, "#ref-audio")
    page.locator("#save-voice-btn").click()
    page.get_by_text("Saved the voice 'Browser Voice'").wait_for(timeout=WAIT_MS)

    page.reload(wait_until="networkidle")
    page.locator("#voice-picker input").click()
    page.get_by_role("option", name="Browser Voice").click()
    page.locator("#gen-text textarea").fill("A saved voice, picked after a reload.")
    page.wait_for_function("document.querySelector('#voice-picker input').value === 'Browser Voice'",
                           timeout=WAIT_MS)
    page.locator("#generate-btn").click()
    src = wait_for_audio_source(page, "#out-audio")
    assert page.request.get(src).ok

    page.get_by_text("Export", exact=True).first.click()
    page.locator("#gen-export-btn").click()
    link = page.locator("#gen-export-files a[href$='manifest.json']")
    link.wait_for(timeout=WAIT_MS)
    with page.expect_download() as download_info:
        link.click()
    target = tmp_path / "manifest.json"
    download_info.value.save_as(target)
    import json

    manifest = json.loads(target.read_text())
    assert manifest["voice"] == "Browser Voice" and manifest["text"] == "A saved voice, picked after a reload."
    assert "Saved on the server" in page.locator("#gen-export-links").inner_text()
    page.close()


def test_exported_links_open_from_the_page(chromium, tiny_env, tmp_path, ref_clip, s3_open):
    """With a bucket configured, the Export section lists presigned links; opening one gets the file."""
    from tests.helpers import LiveApp

    app = LiveApp({**tiny_env, **s3_open.env()}, tmp_path / "s3-app")
    try:
        app.wait_http()
        app.wait_ready()
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app.url, wait_until="networkidle")
        page.locator("#ref-audio input[type=file]").set_input_files(str(ref_clip[0]))
        page.locator("#ref-text textarea").fill(ref_clip[1])
        page.locator("#gen-text textarea").fill("Exported to a bucket.")
        wait_for_upload(page, "#ref-audio")
        page.locator("#generate-btn").click()
        wait_for_audio_source(page, "#out-audio")
        page.get_by_text("Export", exact=True).first.click()
        page.locator("#gen-export-format input").click()
        page.get_by_role("option", name="wav").click()
        page.locator("#gen-export-btn").click()
        link = page.locator("#gen-export-links a", has_text="speech.wav")
        link.wait_for(timeout=WAIT_MS)
        assert "Exported to s3://f5ui-test/takes/" in page.locator("#gen-export-links").inner_text()
        answer = page.request.get(link.get_attribute("href"))
        assert answer.ok and answer.body()[:4] == b"RIFF"
        page.close()
    finally:
        app.stop()


def test_align_then_check_a_recording_and_a_new_one_clears_both(chromium, live_app, tmp_path_factory):
    """The Align tab: word timings and the check of one recording are shown together; uploading
    another recording clears them, so no marks of the first are shown on the second."""
    from tests.speech import CLIPS, clip, clip_dir

    first, second = (clip(clip_dir(tmp_path_factory), *spec) for spec in CLIPS[:2])
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_app.url, wait_until="networkidle")
    page.get_by_role("tab", name="Align").click()
    page.locator("#align-audio input[type=file]").set_input_files(str(first.wav))
    page.locator("#align-transcript textarea").fill(first.text)
    wait_for_upload(page, "#align-audio")
    page.locator("#align-btn").click()
    karaoke = page.locator("#align-karaoke .kw")
    karaoke.first.wait_for(timeout=WAIT_MS)
    assert karaoke.all_inner_texts() == first.text.split()
    page.locator("#check-btn").click()
    page.wait_for_function("document.querySelector('#align-quality').innerText.includes('word accuracy')",
                           timeout=WAIT_MS)
    assert karaoke.count() == len(first.text.split())  # the timings stay, with the check's marks
    page.locator("#align-audio button[aria-label='Clear']").first.click()
    page.locator("#align-audio input[type=file]").set_input_files(str(second.wav))
    page.wait_for_function("document.querySelectorAll('#align-karaoke .kw').length === 0", timeout=WAIT_MS)
    assert "word accuracy" not in page.locator("#align-quality").inner_text()
    page.close()
