"""No request freezes the server (issue 15 §1): pocketsphinx holds the GIL for a whole decode, so
the word check and the aligner decode in worker processes. /health keeps answering while a 600 s
/check and a long take run; a decoder process that dies is replaced; a check or an alignment past
its deadline answers with what it has and says so; the processes leave with their server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import ROOT, LiveApp, by_name
from tests.raw_api import call, file_ref, generate_args, upload
from tests.speech import CHECK_SENTENCES, check_speaker, clip, clip_dir, recording

HEALTH_LIMIT = 1.0  # seconds: the bound for every /health answer while the server is busy
TAKE = "This studio clones a voice from a short recording and speaks any text you type. " * 5


def _decoder_pids(app: LiveApp) -> list[int]:
    """The app's decoder processes: its children started by multiprocessing's spawn."""
    children = []
    for task in Path(f"/proc/{app.proc.pid}/task").iterdir():
        try:
            children += [int(pid) for pid in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that just ended
            continue
    return sorted(pid for pid in children if b"spawn_main" in _cmdline(pid))


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:  # it just ended
        return b""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_until(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def test_health_answers_within_a_second_during_a_600_s_check_and_a_long_take(live_app, ref_clip, tmp_path_factory):
    """The outside tester's case, over raw HTTP: a 600 s /check (its text inside F5UI_MAX_CHARS) and a
    take of several checked chunks with word timings at once, /health polled the whole time."""
    long = recording(clip_dir(tmp_path_factory), 598, max_chars=4990)
    live_app.wait_ready()
    audio, reference = upload(live_app.url, long.wav), upload(live_app.url, ref_clip[0])
    answers: dict[str, object] = {}
    requests_ = {"check": [file_ref(audio), long.text, None, "en"],
                 "generate": generate_args(file_ref(reference), TAKE, ref_clip[1])}
    workers = [threading.Thread(target=lambda name=name: answers.__setitem__(name, call(
        live_app.url, name, requests_[name], timeout=1200))) for name in requests_]
    for worker in workers:
        worker.start()
    latencies = []
    deadline = time.monotonic() + 1200
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        started = time.perf_counter()
        assert requests.get(live_app.url + "/health", timeout=60).status_code == 200
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)
    for worker in workers:
        worker.join(1)
    check, take = answers["check"], answers["generate"]
    assert check.event == "complete" and take.event == "complete", (check.text[-500:], take.text[-500:])
    report = check.data[0]
    assert len(report["words"]) == len(long.text.split()) > 800
    assert report["word_accuracy"] > 0.95 and not [n for n in report["notes"] if "deadline" in n], report["notes"]
    print(f"/health answered {len(latencies)} times during a 598 s /check and a {TAKE.count('.')}-sentence take: "
          f"longest {max(latencies):.3f} s, median {sorted(latencies)[len(latencies) // 2]:.3f} s")
    assert max(latencies) < HEALTH_LIMIT


def test_a_killed_decoder_process_is_replaced_and_the_next_check_works(live_app, tmp_path_factory):
    folder = clip_dir(tmp_path_factory)
    spoken = clip(folder, CHECK_SENTENCES[2], *check_speaker(2))
    audio = upload(live_app.url, spoken.wav)
    first = call(live_app.url, "check", [file_ref(audio), CHECK_SENTENCES[2], None, "en"])
    assert first.event == "complete" and first.data[0]["word_accuracy"] == 1.0
    pids = _decoder_pids(live_app)
    assert len(pids) == 2  # F5UI_DECODER_PROCESSES' default
    os.kill(pids[0], signal.SIGKILL)
    _wait_until(lambda: not _alive(pids[0]), 30, "the killed process stayed")
    again = call(live_app.url, "check", [file_ref(audio), CHECK_SENTENCES[2], None, "en"])
    assert again.event == "complete", again.text[-500:]
    assert again.data[0]["words"] == first.data[0]["words"]
    _wait_until(lambda: len(_decoder_pids(live_app)) == 2, 60, "the pool did not come back to 2 processes")
    assert pids[0] not in _decoder_pids(live_app)
    row = by_name(live_app.diagnostics())["decoder processes"]
    assert row["status"] == "ok" and "replaced after a lost process 1 time(s)" in row["detail"], row


@pytest.fixture(scope="module")
def hasty_app(tiny_env, tmp_path_factory):
    """An app whose decoding may take almost no time: every check and alignment past its first piece
    stops at the deadline."""
    app = LiveApp({**tiny_env, "F5UI_DECODE_DEADLINE": "0.001", "F5UI_DECODE_DEADLINE_FLOOR": "0.01",
                   "F5UI_ALIGNERS": "sphinx,estimate"}, tmp_path_factory.mktemp("hasty-app"))
    try:
        app.wait_http()
        yield app
    finally:
        app.stop()


def test_a_check_and_an_alignment_past_their_deadline_answer_with_what_they_have(hasty_app, tmp_path_factory):
    long = recording(clip_dir(tmp_path_factory), 60)
    audio = upload(hasty_app.url, long.wav)
    check = call(hasty_app.url, "check", [file_ref(audio), long.text, None, "en"], timeout=300)
    assert check.event == "complete", check.text[-500:]
    report = check.data[0]
    words = report["words"]
    note = next(n for n in report["notes"] if "stopped at its deadline" in n)
    assert "F5UI_DECODE_DEADLINE" in note and "were not checked" in note
    checked = [w["checked"] for w in words]
    reached = checked.index(False)
    assert 0 < reached < len(words) and not any(checked[reached:])  # the first piece was checked, the rest not
    assert all(w["status"] == "spoken" for w in words[reached:])  # not reached is not missing
    assert report["word_accuracy"] == 1.0  # of the words checked

    aligned = call(hasty_app.url, "align", [file_ref(audio), long.text, "en", "sphinx"], timeout=300)
    assert aligned.event == "complete", aligned.text[-500:]
    timing = aligned.data[0]
    used = timing["attempts"][-1]
    assert timing["backend"] == "sphinx" and used["status"] == "used"
    assert "stopped at its deadline" in used["reason"] and "timed by the estimate" in used["reason"]
    assert timing["low_confidence"] and "deadline" in timing["warning"]
    flags = [w["interpolated"] for w in timing["words"]]
    assert len(flags) == len(long.text.split()) and 0 < flags.index(True) and all(flags[flags.index(True):])
    starts = [w["start"] for w in timing["words"]]
    assert starts == sorted(starts) and starts[-1] < 60.0


def test_the_decoder_processes_leave_when_their_server_is_killed(tmp_path):
    """A server killed outright (SIGKILL: no shutdown runs) must not leave its decoder processes behind."""
    script = ("import sys\nfrom f5ui.workers import ProcessPool\n"
              "if __name__ == '__main__':\n"
              "    pool = ProcessPool('test', 2)\n    assert pool.warm(120)\n"
              "    print(*pool.pids(), flush=True)\n    sys.stdin.read()\n")
    (tmp_path / "server.py").write_text(script)
    server = subprocess.Popen([sys.executable, str(tmp_path / "server.py")], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        pids = [int(p) for p in server.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
    finally:
        server.kill()
        server.wait(10)
    _wait_until(lambda: not any(_alive(p) for p in pids), 30, f"decoder processes {pids} outlived their server")


def test_a_task_whose_process_dies_twice_fails_with_a_message_and_the_pool_recovers():
    from f5ui.workers import ProcessPool, WorkerLost

    pool = ProcessPool("test", 1)
    try:
        with pytest.raises(WorkerLost, match="stopped twice while working on this request"):
            pool.run(os._exit, 3)  # the process dies, its replacement too
        assert pool.run(pow, 2, 10) == 1024
        assert pool.state().restarts == 2
    finally:
        pool.shutdown()


def test_no_processes_decodes_in_the_calling_process_and_the_panel_warns(tmp_path):
    from f5ui.diagnostics.decoders import decoder_processes
    from f5ui.workers import IN_PROCESS, ProcessPool
    from tests.helpers import diagnostics_for, make_studio

    pool = ProcessPool("test", 0)
    assert pool.run(os.getpid) == os.getpid() and pool.state().state == IN_PROCESS
    studio = make_studio({}, tmp_path, F5UI_DECODER_PROCESSES="0", F5UI_PRELOAD="0")
    row = decoder_processes(diagnostics_for(studio).context)
    assert row.status == "warn" and "F5UI_DECODER_PROCESSES=0" in row.detail and row.fix


def test_a_process_lost_during_a_check_is_replaced_and_the_check_completes(tmp_path_factory):
    """The piece under way when its process dies is decoded again by a new one: the verdicts are the
    same as those of a check nothing happened to."""
    from f5ui.audio import read_audio
    from f5ui.config import from_env
    from f5ui.timing.check import WordChecker
    from f5ui.timing.words import tokenize

    long = recording(clip_dir(tmp_path_factory), 60)
    audio = read_audio(long.wav)
    tokens = tokenize(long.text)
    checker = WordChecker(from_env({}))
    clean = checker.check(audio.samples, tokens)
    pool = checker.pool
    restarts, tasks = pool.state().restarts, pool.state().tasks
    result: dict = {}
    worker = threading.Thread(target=lambda: result.setdefault("verdicts", checker.check(audio.samples, tokens)))
    worker.start()
    _wait_until(lambda: pool.state().tasks >= tasks + 2 or not worker.is_alive(), 120, "the check did not start")
    assert worker.is_alive(), "the check was over before a process could be killed"
    for pid in pool.pids():  # every process: whichever holds the piece under way
        os.kill(pid, signal.SIGKILL)
    worker.join(300)
    assert pool.state().restarts == restarts + 1
    assert result["verdicts"] == clean
