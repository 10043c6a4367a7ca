"""A real browser (Debian Chromium driven by Playwright) uses the Generate tab."""

from __future__ import annotations

import time
from pathlib import Path

import soundfile as sf
import srt

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "screenshot.png"
def wait_for_audio_source(page, component: str, timeout: float = 90) -> str:
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


def check_word_timings(page, tmp_path, script: str) -> None:
    """The word table, the karaoke view (highlight follows the player) and an SRT download."""
    words = script.split()
    karaoke = page.locator("#gen-karaoke .kw")
    karaoke.first.wait_for(timeout=30_000)
    assert karaoke.count() == len(words) and karaoke.all_inner_texts() == words
    table_text = page.locator("#gen-words").inner_text()
    assert all(word in table_text for word in words)
    assert "Word timings by" in page.locator("#gen-timing-backend").inner_text()
    # Seek the karaoke player into the third word: that word, and only it, lights up.
    page.wait_for_function("document.querySelector('#gen-karaoke audio').readyState >= 1", timeout=30_000)
    third = karaoke.nth(2)
    middle = (float(third.get_attribute("data-start")) + float(third.get_attribute("data-end"))) / 2
    page.evaluate(f"document.querySelector('#gen-karaoke audio').currentTime = {middle}")
    page.wait_for_function("document.querySelectorAll('#gen-karaoke .kw.active').length === 1", timeout=10_000)
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
    page.wait_for_timeout(500)
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
    toast.wait_for(timeout=30_000)
    assert toast.is_visible()
    page.close()
