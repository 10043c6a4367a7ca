"""Projects through their service (f5ui.projects.studio.Projects, what the UI, the API and the CLI
call) with the tiny model: files become chapters and segments with speakers, bad files get clear
messages, the database is versioned, a run pauses and resumes without making anything twice, a
segment is reviewed (regenerated with a chosen seed, locked, edited) and only its chapter joined
again, and a subtitle project places each cue's speech at its time."""

from __future__ import annotations

import sqlite3
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from f5ui.errors import Busy, InputError, UserFacingError
from tests.helpers import PATIENCE, make_studio
from tests.project_files import (
    BOOK_MD,
    CHAPTER_TITLES,
    SRT,
    VTT,
    build_epub,
    encryption_xml,
    png_bytes,
    with_entry,
)

FAST = {"nfe_step": 8, "seed": 5}


@pytest.fixture(scope="module")
def voice_studio(tiny_env, tmp_path_factory, ref_clip):
    """A started Studio of its own (its voices do not show in other tests) with Narrator and Alice saved."""
    from f5ui.paths import FileGate

    studio = make_studio(tiny_env, tmp_path_factory.mktemp("projects-data"))
    studio.files = FileGate(None)  # as the CLI: these tests name local files
    studio.start()
    assert studio.model.wait(timeout=PATIENCE).state == "ready"
    ref, ref_text = ref_clip
    for name in ("Narrator", "Alice"):
        studio.save_voice(ref, ref_text, name)
    return studio


@pytest.fixture(scope="module")
def projects(voice_studio):
    from f5ui.projects.studio import Projects

    made = Projects(voice_studio)
    made.start()
    yield made
    made.close()


def wait_state(projects, project_id, done, timeout=PATIENCE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = projects.status(project_id)
        if done(status):
            return status
        time.sleep(0.2)
    raise TimeoutError(f"the run did not get there: {status}")


def made(status) -> int:
    return status["segments"]["done"] + status["segments"]["flagged"] + status["segments"]["locked"]


# --- making a project -------------------------------------------------------------------------

def test_markdown_headings_are_chapters_and_tags_name_the_speakers(projects, tmp_path):
    path = tmp_path / "lighthouse.md"
    path.write_text(BOOK_MD, encoding="utf-8")
    created = projects.create(path, "", "", "Narrator", None, FAST)
    assert [c["title"] for c in created["chapters"]] == CHAPTER_TITLES
    assert created["title"] == "The Lighthouse" and created["name"] == "lighthouse"
    said = [(s["speaker"], s["text"], s["line"]) for s in created["segments"]]
    assert said[:3] == [("Narrator", "The storm came in from the sea. The keeper climbed the stairs.", 5),
                        ("Alice", "Is the lamp still burning?", 6), ("Narrator", "It was, but only just.", 8)]
    assert said[3][0] == ""  # a new chapter starts with the default voice
    assert created["speakers"] == {"(untagged)": "Narrator", "Alice": "Alice", "Narrator": "Narrator"}


def test_f5_multi_speech_tags_carry_seed_and_speed():
    from f5ui.config import Settings
    from f5ui.projects.importers import read_source
    from f5ui.projects.script import segment

    text = ('{Alice} Hello there. {"name": "Narrator", "seed": 11, "speed": 1.2} Welcome back.\n\n'
            "[1] is a footnote, not a speaker. {not a tag!} stays too.")
    (_, segments), = segment(read_source(None, text, Settings()), 300)
    assert [(s.speaker, s.text, s.seed, s.speed) for s in segments] == [
        ("Alice", "Hello there.", None, None), ("Narrator", "Welcome back.", 11, 1.2),
        ("Narrator", "[1] is a footnote, not a speaker. {not a tag!} stays too.", 11, 1.2)]


def test_an_unknown_speaker_is_reported_with_its_line_before_anything_is_made(projects):
    before = len(projects.list())
    with pytest.raises(InputError) as error:
        projects.create(None, BOOK_MD + "\n[Bob] Who is Bob?\n\n{Carol} And Carol.\n", "x", "Narrator", None, FAST)
    message = str(error.value)
    assert "'Bob' (line 20)" in message and "'Carol' (line 22)" in message, message
    with pytest.raises(InputError, match="needs a default voice"):
        projects.create(None, "Untagged text.", "x", "", None, FAST)
    # A speaker mapped to a saved voice is known.
    created = projects.create(None, "[Bob] Mapped.", "x", "", {"Bob": {"voice": "Alice", "speed": 1.1}}, FAST)
    assert created["speakers"] == {"Bob": "Alice"}
    assert len(projects.list()) == before + 1


def test_an_epub_built_with_ebooklib_gives_its_chapters(projects, tmp_path):
    path = build_epub(tmp_path / "short.epub", anchored=("Epilogue", "<p>Years later.</p>"))
    created = projects.create(path, "", "", "Narrator", None, FAST)
    assert [c["title"] for c in created["chapters"]] == ["Arrival", "The House", "Departure", "Epilogue"]
    by_chapter = {c["id"]: [s["text"] for s in created["segments"] if s["chapter_id"] == c["id"]]
                  for c in created["chapters"]}
    texts = list(by_chapter.values())
    assert texts[0] == ["Arrival", "The train was late.", "Nobody waited on the platform."]
    assert texts[1] == ["The House", "The door was open. Someone had been there."]
    assert texts[2] == ["Departure", "In the morning she left."]  # the script is not text
    assert texts[3] == ["Years later."]  # the anchored chapter, cut from the document it is in
    assert (created["title"], created["author"], created["cover"]) == ("A Short Book", "Ada Writer", True)


@pytest.mark.parametrize("case", ["rights", "encrypted", "not zip", "too big", "empty", "binary", "latin-1", "pdf",
                                  "too long", "too many chapters", "bad srt", "bad vtt"])
def test_a_file_that_is_not_what_it_says_gets_a_clear_message(projects, tmp_path, monkeypatch, case):
    good = build_epub(tmp_path / "good.epub")
    path, expected = tmp_path / "input.txt", ""
    if case == "rights":
        path, expected = with_entry(good, tmp_path / "a.epub", "META-INF/rights.xml", b"<rights/>"), "DRM"
    elif case == "encrypted":
        data = encryption_xml("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "EPUB/chap_1.xhtml")
        path, expected = with_entry(good, tmp_path / "a.epub", "META-INF/encryption.xml", data), "DRM"
    elif case == "not zip":
        path, expected = tmp_path / "a.epub", "not a readable EPUB"
        path.write_text("just text")
    elif case == "too big":
        monkeypatch.setattr(projects.settings, "project_max_unpacked_mb", 0.001)
        path, expected = good, "unpacks to"
    elif case == "empty":
        path, expected = tmp_path / "a.md", "is empty"
        path.write_text("  \n")
    elif case == "binary":
        path.write_bytes(b"\x00\x01PK" * 100)
        expected = "not a text file"
    elif case == "latin-1":
        path.write_bytes("Café au lait.".encode("latin-1"))
        expected = "not UTF-8"
    elif case == "pdf":
        path, expected = tmp_path / "book.pdf", "not a file a project can be made from"
        path.write_bytes(b"%PDF-1.4")
    elif case == "too long":
        monkeypatch.setattr(projects.settings, "project_max_chars", 40)
        path.write_text("A sentence that goes on. " * 5)
        expected = "F5UI_PROJECT_MAX_CHARS"
    elif case == "too many chapters":
        monkeypatch.setattr(projects.settings, "project_max_chapters", 2)
        path = tmp_path / "a.md"
        path.write_text(BOOK_MD)
        expected = "3 chapters"
    elif case == "bad srt":
        path, expected = tmp_path / "a.srt", "not a valid SubRip"
        path.write_text("1\nnot a time line\nHello\n")
    elif case == "bad vtt":
        path, expected = tmp_path / "a.vtt", "not a valid WebVTT"
        path.write_text("00:00:01.000 --> 00:00:02.000\nNo header.\n")
    with pytest.raises(InputError) as error:
        projects.create(path, "", "x", "Narrator", None, FAST)
    assert expected in str(error.value), str(error.value)
    assert str(tmp_path) not in str(error.value)  # never a server path


def test_an_epub_with_only_obfuscated_fonts_is_not_drm(projects, tmp_path):
    data = encryption_xml("http://www.idpf.org/2008/embedding", "EPUB/fonts/serif.otf")
    path = with_entry(build_epub(tmp_path / "good.epub"), tmp_path / "fonts.epub", "META-INF/encryption.xml", data)
    assert len(projects.create(path, "", "x", "Narrator", None, FAST)["chapters"]) == 3


def test_subtitle_cues_become_timed_segments_with_their_speakers(projects, tmp_path):
    (tmp_path / "dub.srt").write_text(SRT)
    (tmp_path / "dub.vtt").write_text(VTT)
    srt = projects.create(tmp_path / "dub.srt", "", "", "Narrator", None, FAST)
    assert [(s["speaker"], s["cue"]) for s in srt["segments"]] == [
        ("Narrator", [0.5, 2.6]), ("Alice", [4.0, 4.4]), ("Alice", [10.0, 12.5])]  # a tag holds until the next
    assert srt["segments"][1]["text"].startswith("A cue far too short")  # <i> markup read as HTML, then dropped
    vtt = projects.create(tmp_path / "dub.vtt", "", "", "Narrator", None, FAST)
    assert [(s["speaker"], s["text"], s["cue"]) for s in vtt["segments"]] == [
        ("Alice", "Hello from the first cue.", [1.0, 3.5]), ("Narrator", "And a second one.", [5.0, 7.0])]


# --- the database -----------------------------------------------------------------------------

def test_the_database_has_a_schema_version_and_migrates_in_place(tmp_path, monkeypatch):
    from f5ui.projects import database
    from f5ui.projects.database import Database, DatabaseProblem
    from f5ui.projects.records import Project
    from f5ui.projects.store import NewSegment, ProjectStore

    db = Database(tmp_path)
    assert db.version == database.SCHEMA_VERSION == 1
    with db.reading() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ProjectStore(db).create(Project("0123456789abcdef", "p", "text", "t", "t", "V", {}, {}),
                            [("One", [NewSegment(1, "", "Hello.")])])
    # The remote runner's job ids, as a later migration would add them: the data stays.
    later = ("ALTER TABLE segments ADD COLUMN job_id TEXT",)
    monkeypatch.setattr(database, "MIGRATIONS", (*database.MIGRATIONS, later))
    monkeypatch.setattr(database, "SCHEMA_VERSION", 2)
    migrated = Database(tmp_path)
    assert migrated.version == 2
    with migrated.reading() as conn:
        assert [tuple(r) for r in conn.execute("SELECT text, job_id FROM segments")] == [("Hello.", None)]
    monkeypatch.undo()
    with pytest.raises(DatabaseProblem, match="newer than this f5ui"):
        Database(tmp_path)


def test_projects_are_off_with_the_reason_when_the_database_cannot_be_used(tiny_env, tmp_path):
    from f5ui.projects.studio import Projects

    folder = tmp_path / "projects"
    folder.mkdir()
    conn = sqlite3.connect(folder / "projects.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    projects = Projects(make_studio(tiny_env, tmp_path))
    assert "schema version 99" in projects.problem
    with pytest.raises(UserFacingError, match="Projects are off"):
        projects.create(None, "Hello.", "x", "", None, None)


# --- the model slot: requests before background work ------------------------------------------

def test_a_waiting_request_takes_the_model_before_background_work(tiny_env, tmp_path):
    from f5ui.config import from_env
    from f5ui.engine.model_service import ModelService
    from f5ui.streaming import Cancelled

    service = ModelService(from_env(dict(tiny_env, F5UI_CONCURRENCY="1", F5UI_MAX_QUEUE="1",
                                         F5UI_MAX_WAIT_SECONDS="60")))
    order, errors, release = [], [], threading.Event()

    def hold(name, stop=None, wait_for=None):
        try:
            with service.slot(stop):
                order.append(name)
                if wait_for is not None:
                    wait_for.wait(60)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append((name, exc))

    background_stop = threading.Event()
    holder = threading.Thread(target=hold, args=("running segment", background_stop, release))
    holder.start()
    _until(lambda: order == ["running segment"])
    later_segment = threading.Thread(target=hold, args=("next segment", background_stop))
    later_segment.start()
    request = threading.Thread(target=hold, args=("request",))
    request.start()
    _until(lambda: service._waiting == 1)  # the request waits (background waiters are not counted)
    with pytest.raises(Busy, match="already waiting"):  # the queue limit still holds for requests
        with service.slot():
            pass
    release.set()
    for thread in (holder, request, later_segment):
        thread.join(60)
    assert order == ["running segment", "request", "next segment"] and not errors
    # Paused background work stops waiting for the model at once.
    release.clear()
    blocker = threading.Thread(target=hold, args=("request 2", None, release))
    blocker.start()
    _until(lambda: "request 2" in order)
    stop = threading.Event()
    waiting = threading.Thread(target=hold, args=("paused segment", stop))
    waiting.start()
    stop.set()
    waiting.join(30)
    release.set()
    blocker.join(30)
    assert errors and errors[0][0] == "paused segment" and isinstance(errors[0][1], Cancelled)


def _until(condition, timeout=PATIENCE):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


# --- running and reviewing --------------------------------------------------------------------

@pytest.fixture(scope="module")
def paused_and_resumed(projects):
    """A book run that is paused after its first segment and then run to its end (the review test goes on
    with the same project)."""
    created = projects.create(None, BOOK_MD, "Run", "Narrator", None, FAST)
    pid = created["id"]
    projects.run(pid)
    first = wait_state(projects, pid, lambda s: made(s) >= 1)
    projects.pause(pid)
    assert projects.runner.wait(pid, timeout=PATIENCE)
    paused = projects.status(pid)
    projects.run(pid)
    done = wait_state(projects, pid, lambda s: s["state"] not in ("queued", "running"))
    return created, first, paused, done


def test_a_run_pauses_resumes_and_makes_every_segment_once(projects, paused_and_resumed):
    created, first, paused, done = paused_and_resumed
    pid, total = created["id"], len(created["segments"])
    assert paused["state"] == "paused" and 1 <= made(paused) < total, paused
    assert first["eta_seconds"] is None or first["eta_seconds"] > 0
    assert done["state"] == "done" and made(done) == total and done["audio_seconds"] > 0
    counts = projects.store.take_counts(pid)
    assert sorted(counts) == [s["id"] for s in created["segments"]] and set(counts.values()) == {1}
    # Every segment went through the take check.
    assert all(s["word_accuracy"] is not None for s in projects.segments(pid))


def test_review_regenerates_locks_and_edits_and_rejoins_only_that_chapter(projects, paused_and_resumed):
    created = paused_and_resumed[0]
    pid = created["id"]
    chapter_ids = [c["id"] for c in created["chapters"]]
    before = {c: projects.chapter(pid, c).path.name for c in chapter_ids}
    second = created["segments"][1]
    changed = projects.segment(pid, second["id"], "regenerate", seed=77)
    assert changed["used_seed"] == 77 and changed["chunk_seeds"][0] == 77
    after = {c: projects.store.chapters(pid)[i].audio for i, c in enumerate(chapter_ids)}
    assert after[chapter_ids[0]] != before[chapter_ids[0]]  # joined again with the new take
    assert [after[c] for c in chapter_ids[1:]] == [before[c] for c in chapter_ids[1:]]
    assert projects.store.take_counts(pid)[second["id"]] == 2
    # Locked: kept as it is.
    projects.segment(pid, second["id"], "lock")
    for action in ("regenerate", "edit"):
        with pytest.raises(InputError, match="locked"):
            projects.segment(pid, second["id"], action, text="New words.")
    assert projects.segment(pid, second["id"], "unlock")["status"] in ("done", "flagged")
    # Edited: made again by the next run, alone.
    third = created["segments"][2]
    edited = projects.segment(pid, third["id"], "edit", text="It was burning brightly.", speaker="Alice")
    assert (edited["status"], edited["speaker"], edited["duration"]) == ("pending", "Alice", 0.0)
    with pytest.raises(InputError, match="No saved voice"):
        projects.segment(pid, third["id"], "edit", speaker="Nobody")
    projects.run(pid)
    wait_state(projects, pid, lambda s: s["state"] not in ("queued", "running"))
    counts = projects.store.take_counts(pid)
    assert counts[third["id"]] == 2 and counts[created["segments"][0]["id"]] == 1
    with pytest.raises(InputError, match="not a segment id"):
        projects.segment(pid, "../1", "lock")
    with pytest.raises(InputError, match="not a project id"):
        projects.status("../../etc/passwd")


def test_a_subtitle_project_speaks_each_cue_at_its_time(projects, tmp_path):
    (tmp_path / "dub.srt").write_text(SRT)
    created = projects.create(tmp_path / "dub.srt", "", "", "Narrator", None, FAST)
    pid = created["id"]
    projects.run(pid)
    wait_state(projects, pid, lambda s: s["state"] not in ("queued", "running"))
    first, short, last = projects.segments(pid)
    # At speed 1 its text takes about 2.9 s with the test voice: sped up to fit its 2.1 s cue.
    assert first["duration"] <= 2.1 + 0.05
    joined = projects.chapter(pid, created["chapters"][0]["id"])
    assert joined.overruns == [short["id"]]  # no allowed speed fits that one
    track, rate = sf.read(str(joined.path), dtype="float32")
    assert joined.duration >= 12.5 and len(track) == round(joined.duration * rate)
    assert not np.any(track[: int(0.5 * rate)])  # silence until the first cue
    assert np.any(track[int(0.5 * rate): int(0.6 * rate)])  # then its speech
    last_audio, _ = sf.read(str(projects.files.path(pid, "segments", projects.store.segment(pid, last["id"]).audio)),
                            dtype="float32")
    start = int(10.0 * rate)
    assert np.allclose(track[start: start + len(last_audio)], last_audio, atol=2e-4)  # the last cue at 10 s
    assert not np.any(track[start - int(0.5 * rate): start])  # after a silence
    result = projects.export(pid, "wav")
    assert any("could not fit" in w and f"#{short['id']}" in w for w in result.manifest["warnings"])


def test_subtitles_name_the_speakers_in_every_format(tmp_path):
    import pysubs2
    import srt
    import webvtt

    from f5ui.export.subtitles import write_all
    from f5ui.schema import AlignmentResult, WordTiming

    words = [WordTiming(w, i * 0.4, i * 0.4 + 0.3, 0.9) for i, w in enumerate("Hello there. Who is it? Me.".split())]
    speakers = ["Narrator", "Narrator", "Alice", "Alice", "Alice", "Narrator"]
    files = write_all(AlignmentResult(words, "project", duration=3.0), tmp_path, "ch", speakers=speakers,
                      srt_names=True)
    captions = webvtt.read(str(files["vtt"])).captions
    assert [(c.voice, c.text) for c in captions] == [("Narrator", "Hello there."), ("Alice", "Who is it?"),
                                                      ("Narrator", "Me.")]
    ass = pysubs2.load(str(files["ass"]))
    assert {"Narrator", "Alice"} <= set(ass.styles) and [e.style for e in ass] == ["Narrator", "Alice", "Narrator"]
    assert ass.styles["Narrator"].primarycolor != ass.styles["Alice"].primarycolor
    assert [c.content for c in srt.parse(files["srt_phrases"].read_text())] == [
        "Narrator: Hello there.", "Alice: Who is it?", "Narrator: Me."]


def test_the_cli_makes_a_book_with_a_progress_bar(voice_studio, tiny_env, tmp_path):
    import json
    import os
    import subprocess
    import sys

    from tests.helpers import ROOT

    env = dict(os.environ, **tiny_env, F5UI_DATA_DIR=str(voice_studio.settings.data_path))

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "f5ui.cli", "project", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=PATIENCE)

    script = tmp_path / "short.md"
    script.write_text("# One\n\n[Alice] The first chapter.\n\n# Two\n\nThe second chapter.\n")
    created = cli("create", "--file", str(script), "--voice", "Narrator", "--settings", json.dumps(FAST))
    assert created.returncode == 0, created.stderr
    project_id = created.stdout.split("\t")[0]
    assert "2 chapter(s)" in created.stdout and "Alice → Alice" in created.stdout
    ran = cli("run", project_id)
    assert ran.returncode == 0, ran.stderr
    assert "2/2" in ran.stderr and "done: 2 of 2 made" in ran.stderr  # tqdm's bar, then the summary
    out, cover = tmp_path / "export", tmp_path / "cover.png"
    cover.write_bytes(png_bytes())
    exported = cli("export", project_id, "--format", "wav", "--cover", str(cover), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert (out / "chapter-002.vtt").is_file() and (out / "cover.png").is_file()
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-show_chapters",
                                       "-of", "json", str(out / "book.m4b")], capture_output=True, text=True,
                                      check=True).stdout)
    assert [c["tags"]["title"] for c in probe["chapters"]] == ["One", "Two"]
    assert probe["format"]["tags"]["title"] == "short"  # the project's name: the script has no book title
    picture = [s for s in probe["streams"] if s["codec_type"] == "video"]
    assert picture and picture[0]["disposition"]["attached_pic"] == 1  # the cover
    bad = cli("status", "not-an-id")
    assert bad.returncode == 2 and "not a project id" in bad.stderr and "Traceback" not in bad.stderr


def test_the_status_panel_says_which_project_parts_work(voice_studio):
    from tests.helpers import by_name, diagnostics_for

    report = diagnostics_for(voice_studio)
    report.run_fast(log_results=False)
    checks = by_name(report.report())
    assert checks["epub import"]["status"] == "ok" and "ebooklib" in checks["epub import"]["detail"]
    assert checks["m4b export"]["status"] == "ok"


def test_a_book_exports_to_s3_with_links_and_the_manifest_last(tiny_env, tmp_path, s3_open, ref_clip, monkeypatch):
    import json

    import requests

    from f5ui.projects.studio import Projects
    from tests.helpers import s3_studio_for

    studio = s3_studio_for(tiny_env, tmp_path, s3_open.env(), monkeypatch)
    studio.save_voice(*ref_clip, "Narrator")
    projects = Projects(studio)
    try:
        pid = projects.create(None, "# One\n\nA short book.\n\n# Two\n\nThe end.", "s3 book", "Narrator", None,
                              FAST)["id"]
        projects.run(pid)
        wait_state(projects, pid, lambda s: s["state"] not in ("queued", "running"))
        result = projects.export(pid, "opus")
    finally:
        projects.close()
    assert result.kind == "s3" and result.location.startswith("s3://")
    names = [f.name for f in result.files]
    assert names[-1] == "manifest.json" and {"book.m4b", "chapter-001.opus", "chapter-002.vtt"} <= set(names)
    links = {f.name: f.url for f in result.files}
    m4b = requests.get(links["book.m4b"], timeout=30)
    assert m4b.ok and m4b.content[4:8] == b"ftyp"  # an MP4 container
    manifest = requests.get(links["manifest.json"], timeout=30).json()
    assert [c["title"] for c in manifest["m4b"]["chapters"]] == ["One", "Two"]
    assert json.dumps(manifest).count(str(tmp_path)) == 0  # no server paths in what is shared


def test_projects_are_for_users_and_admins_not_for_visitors(projects):
    from f5ui.accounts import ADMIN, ANONYMOUS, NOBODY, USER, Caller, Forbidden

    user, admin = Caller("uma", USER), Caller("ada", ADMIN)
    created = projects.create(None, "[Alice] A user's script.", "mine", "Narrator", None, FAST, caller=user)
    assert projects.status(created["id"], caller=admin)["state"] == "idle"
    for caller, words in ((ANONYMOUS, "Visitors of this demo can only generate"), (NOBODY, "You may not")):
        with pytest.raises(Forbidden, match=words):
            projects.create(None, "Hello.", "x", "Narrator", None, FAST, caller=caller)
        for call in (lambda c: projects.list(caller=c), lambda c: projects.status(created["id"], caller=c),
                     lambda c: projects.run(created["id"], caller=c),
                     lambda c: projects.segment(created["id"], created["segments"][0]["id"], "lock", caller=c),
                     lambda c: projects.export(created["id"], "wav", caller=c)):
            with pytest.raises(Forbidden, match=words):
                call(caller)
