"""Callers and what they may do, without a server: passwords, the users file and the command that
writes it, signed sessions, the Studio's permission check, and the status panel's access rows.
Over HTTP, with a live app and a browser: tests/test_access.py."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from f5ui.accounts import (
    ADMIN,
    GUEST,
    USER,
    Accounts,
    Caller,
    Forbidden,
    hash_password,
    parse_users,
    user_line,
    verify_password,
    write_user,
)
from f5ui.config import from_env
from f5ui.diagnostics import security
from f5ui.diagnostics.context import Context
from f5ui.errors import InputError
from tests.helpers import ROOT, make_studio


def test_passwords_are_salted_scrypt_and_verify():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")  # a salt per hash
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("correct hors", first) and not verify_password("", first)
    kind, n, r, p, salt, digest = first.split("$")
    # A hash that asks for absurd memory, or is not one, is refused without computing anything.
    assert not verify_password("correct horse", "$".join([kind, str(2**30), r, p, salt, digest]))
    assert not verify_password("correct horse", "plain-text-password")


def test_a_users_file_names_its_bad_lines_by_number_only():
    good = user_line("ada", ADMIN, "pw-ada")
    secret_hash = good.split(":", 2)[2]
    text = "\n".join(["# the team", good, "", f"bob:root:{secret_hash}", f"ada:user:{secret_hash}", "carol"])
    users, problems = parse_users(text)
    assert list(users) == ["ada"] and users["ada"].role == ADMIN
    assert [p.split(" ", 2)[1] for p in problems] == ["4", "5", "6"]
    assert not any(secret_hash in p or "bob" in p or "carol" in p for p in problems)
    with pytest.raises(ValueError):
        user_line("has space", USER, "pw")
    with pytest.raises(ValueError):
        user_line("eve", "root", "pw")


def test_the_cli_writes_and_replaces_a_users_line(tmp_path):
    users = tmp_path / "users.txt"
    env = {k: v for k, v in os.environ.items() if k != "F5UI_USERS"}

    def add(name: str, password: str, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "f5ui.cli", "user", "add", name, "--password-stdin", *extra],
                              input=password + "\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)

    assert add("ada", "first-pw", "--role", "admin", "--file", str(users)).returncode == 0
    assert add("uma", "uma-pw", "--file", str(users)).returncode == 0
    assert stat.S_IMODE(users.stat().st_mode) == 0o600  # hashes are for the owner's eyes
    done = add("ada", "second-pw", "--role", "admin", "--file", str(users))
    assert done.returncode == 0 and "Replaced admin 'ada'" in done.stdout
    parsed, problems = parse_users(users.read_text())
    assert not problems and {u.name: u.role for u in parsed.values()} == {"ada": ADMIN, "uma": USER}
    assert verify_password("second-pw", parsed["ada"].hash) and not verify_password("first-pw", parsed["ada"].hash)
    assert "second-pw" not in users.read_text() and "second-pw" not in done.stdout
    printed = add("bob", "bob-pw")  # no file: the line is printed for the operator to place
    assert printed.returncode == 0 and printed.stdout.startswith("bob:user:scrypt$")
    assert add("bad name", "pw").returncode == 2


@pytest.fixture
def accounts_env(tmp_path):
    users = tmp_path / "users.txt"
    write_user(users, "ada", user_line("ada", ADMIN, "ada-pw"))
    write_user(users, "uma", user_line("uma", USER, "uma-pw"))
    return {"F5UI_API_KEY": "the-key", "F5UI_USERS": str(users), "F5UI_DATA_DIR": str(tmp_path / "data")}


def test_sessions_are_signed_and_end_with_the_password_or_the_key(accounts_env, monkeypatch):
    accounts = Accounts(from_env(accounts_env))
    uma = accounts.login("uma", "uma-pw")
    assert uma == Caller("uma", USER) and accounts.login("uma", "ada-pw") is None
    assert accounts.login("", "the-key").role == ADMIN and accounts.login("", "uma-pw") is None
    cookie = accounts.session(uma)
    assert accounts.from_session(cookie) == uma
    payload, signature = cookie.split(".")
    forged = payload.replace(payload[5], "A" if payload[5] != "A" else "B", 1)
    assert accounts.from_session(f"{forged}.{signature}") is None
    assert accounts.from_session(cookie[:-2]) is None and accounts.from_session("garbage") is None
    # A second process on the same data dir (another worker, or after a restart) accepts it too.
    assert Accounts(from_env(accounts_env)).from_session(cookie) == uma
    # The role is read from the file on every request: a demotion takes effect at once.
    write_user(accounts_env["F5UI_USERS"], "uma", user_line("uma", USER, "uma-pw").replace(":user:", ":admin:"))
    assert accounts.from_session(accounts.session(accounts.login("uma", "uma-pw"))).role == ADMIN
    newer = accounts.session(accounts.login("uma", "uma-pw"))
    write_user(accounts_env["F5UI_USERS"], "uma", user_line("uma", USER, "changed"))
    assert accounts.from_session(newer) is None  # a new password ends the sessions made with the old one
    key_session = accounts.session(accounts.login("", "the-key"))
    assert Accounts(from_env(dict(accounts_env, F5UI_API_KEY="another-key"))).from_session(key_session) is None
    import f5ui.accounts as module

    later = module.time.time() + accounts.session_seconds + 1
    monkeypatch.setattr(module.time, "time", lambda: later)
    assert accounts.from_session(key_session) is None  # expired


def test_the_studio_asks_who_is_calling(tiny_env, tmp_path, ref_clip):
    studio = make_studio(tiny_env, tmp_path, F5UI_PRELOAD="0")
    guest, user, admin = Caller("", GUEST), Caller("uma", USER), Caller("ada", ADMIN)
    for call in (lambda c: studio.save_voice(ref_clip[0], ref_clip[1], "V", caller=c),
                 lambda c: studio.delete_voice("V", caller=c), lambda c: studio.rename_voice("V", "W", caller=c),
                 lambda c: studio.sync_voices(caller=c)):
        for caller in (guest, user):
            with pytest.raises(Forbidden):
                call(caller)
    with pytest.raises(Forbidden, match="Only an admin can rename, delete or sync voices; 'uma'"):
        studio.delete_voice("V", caller=user)
    for call in (lambda c: studio.align(ref_clip[0], "text", caller=c),
                 lambda c: studio.check(ref_clip[0], "t", caller=c), lambda c: studio.export(ref_clip[0], caller=c),
                 lambda c: studio.generate(ref_clip[0], ref_clip[1], "Hi.", caller=c)):
        with pytest.raises(Forbidden, match="Visitors of this demo can only generate with the saved voices"):
            call(guest)
    with pytest.raises(InputError, match="no saved voice"):  # allowed: it gets as far as looking the voice up
        studio.generate(None, "", "Hi.", voice="Nobody", caller=guest)
    with pytest.raises(InputError, match="no saved voice"):
        studio.delete_voice("V", caller=admin)
    assert not studio.voice_list()


def test_the_status_panel_says_whether_access_control_is_on(tiny_env, tmp_path, accounts_env):
    def rows(**env: str) -> dict:
        studio = make_studio(tiny_env, tmp_path / str(len(env)), F5UI_PRELOAD="0", **env)
        context = Context(studio.settings, studio.model, studio.aligner, studio.output_dir, studio.exports,
                          studio.checkup)
        return {c.name: c for c in security.access(context)}

    assert rows()["access"].status == "off" and "Set F5UI_API_KEY" in rows()["access"].fix
    assert rows(F5UI_HOST="0.0.0.0")["access"].status == "warn"
    checks = rows(**{k: v for k, v in accounts_env.items() if k != "F5UI_DATA_DIR"})
    assert checks["access"].status == "ok" and "2 users (1 admins)" in checks["access"].detail
    assert "the-key" not in checks["access"].detail and checks["users file"].status == "ok"
    broken = tmp_path / "broken.txt"
    broken.write_text("ada:admin:not-a-hash\n")
    checks = rows(F5UI_USERS=str(broken))
    assert checks["users file"].status == "error" and "line 1" in checks["users file"].detail
    assert checks["access"].status == "ok"  # a broken file signs nobody in; it does not open the server
    assert Accounts(from_env({"F5UI_USERS": str(broken), "F5UI_DATA_DIR": str(tmp_path)})).enabled
