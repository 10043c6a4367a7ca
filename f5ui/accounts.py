"""Who is calling, and what they may do: callers, roles, the permission table, passwords and the
users file. Nothing here speaks HTTP (f5ui.access does); the Studio asks `permit` before each action.

Access control is on as soon as one of F5UI_API_KEY, F5UI_USERS or F5UI_PUBLIC_DEMO is set. Then a
caller is an admin (the API key, or a user whose line says admin), a user (generates, aligns,
checks, exports, makes projects, reads the diagnostics; cannot change the voice library), or a guest
(not signed in, only with F5UI_PUBLIC_DEMO: generates with the saved voices, nothing else).

The users file has one `name:role:hash` line per user (`#` comments and blank lines are skipped);
the hash is scrypt from the standard library, with a random salt per user
(`python -m f5ui.cli user add NAME` writes the line). It is read again when it changes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .errors import UserFacingError

log = logging.getLogger(__name__)

ADMIN, USER, GUEST = "admin", "user", "guest"
ROLES = (ADMIN, USER)  # what a users file may give

# Actions, worded for the messages that refuse them ("Only an admin can <action>").
GENERATE = "generate with a saved voice"
OWN_AUDIO = "use your own recordings (upload a reference, align, check)"
EXPORT = "export"
SAVE_VOICE = "save a voice"
CHANGE_VOICES = "rename, delete or sync voices"
DIAGNOSTICS = "read the diagnostics"
PROJECTS = "make, run and review projects (books and scripts)"
ALLOWED = {
    ADMIN: {GENERATE, OWN_AUDIO, EXPORT, SAVE_VOICE, CHANGE_VOICES, DIAGNOSTICS, PROJECTS},
    USER: {GENERATE, OWN_AUDIO, EXPORT, DIAGNOSTICS, PROJECTS},
    GUEST: {GENERATE},
}


@dataclass(frozen=True)
class Caller:
    name: str
    role: str

    def may(self, action: str) -> bool:
        return action in ALLOWED.get(self.role, set())


OWNER = Caller("", ADMIN)  # access control off, or the process itself (CLI, serverless worker)
KEY_HOLDER = Caller("API key", ADMIN)  # a space: no users-file name can take it
ANONYMOUS = Caller("", GUEST)
NOBODY = Caller("", "none")  # a caller that could not be told: may do nothing


STATE_KEY = "f5ui_caller"  # where the server's access gate leaves the caller in a request's state


def caller_in(state: object) -> Caller | None:
    """The caller the access gate found, from a request's `state` (Starlette's, or gr.Request's copy)."""
    caller = state.get(STATE_KEY) if isinstance(state, dict) else getattr(state, STATE_KEY, None)
    return caller if isinstance(caller, Caller) else None


class Forbidden(UserFacingError):
    """The caller is known, and may not do this."""


def permit(caller: Caller, action: str) -> None:
    """The one permission check: returns, or raises Forbidden saying who may do it."""
    if caller.may(action):
        return
    if caller.role == GUEST:
        raise Forbidden(f"Visitors of this demo can only generate with the saved voices; sign in to {action}.",
                        "Sign in with your name and password, or the API key.")
    if caller.role == USER:
        raise Forbidden(f"Only an admin can {action}; {caller.name!r} is a user without that right.",
                        "Ask an admin to do it, or sign in as one.")
    raise Forbidden(f"You may not {action}.", "Sign in with your name and password, or the API key.")


# --- passwords -----------------------------------------------------------------------------------

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # 16 MiB and ~50 ms per check: costly to guess, cheap to log in
_MAX_N = 2**20  # a hash asking for more memory than this is refused, not computed


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        kind, n, r, p, salt, digest = encoded.split("$")
        n, r, p = int(n), int(r), int(p)
        if kind != "scrypt" or not (2 <= n <= _MAX_N and 1 <= r <= 32 and 1 <= p <= 16):
            return False
        expected = _unb64(digest)
        found = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=n, r=r, p=p, dklen=len(expected),
                               maxmem=256 * n * r + 2**20)
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(found, expected)


_DECOY = hash_password(os.urandom(8).hex())  # checked for unknown names: a refusal takes as long either way


# --- the users file ------------------------------------------------------------------------------

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    hash: str



def check_user_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise ValueError("a user name is 1-64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit")
    return name


def user_line(name: str, role: str, password: str) -> str:
    """One line of the users file."""
    if role not in ROLES:
        raise ValueError(f"the role is one of {', '.join(ROLES)}")
    if not password:
        raise ValueError("the password is empty")
    return f"{check_user_name(name)}:{role}:{hash_password(password)}"


def write_user(path: str | Path, name: str, line: str) -> bool:
    """Put `line` in the users file in place of `name`'s (True) or at its end (False); the file is
    written whole and swapped in, readable by its owner only."""
    path = Path(path).expanduser()
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    found = [i for i, old in enumerate(lines) if old.split(":", 1)[0].strip() == name]
    if found:
        lines[found[0]] = line
    else:
        lines.append(line)
    staged = path.with_name(f".{path.name}.partial")
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(staged, path)
    return bool(found)


def parse_users(text: str) -> tuple[dict[str, User], list[str]]:
    """The users, and one problem per bad line (by number: a line may hold a secret)."""
    users: dict[str, User] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, role, hashed = (line.split(":", 2) + ["", ""])[:3]
        if not NAME.fullmatch(name) or role not in ROLES or not hashed.startswith("scrypt$"):
            problems.append(f"line {number} is not name:role:scrypt-hash with role {' or '.join(ROLES)}")
        elif name in users:
            problems.append(f"line {number} names {name!r} again (the first line counts)")
        else:
            users[name] = User(name, role, hashed)
    return users, problems


class UserFile:
    """The users of F5UI_USERS, read again whenever the file changes (no restart to add a user)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, User] = {}
        self.problems: list[str] = []

    def users(self) -> dict[str, User]:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError as exc:
            with self._lock:
                self._users, self.problems = {}, [f"cannot read it ({type(exc).__name__})"]
                self._stamp = None
            return {}
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._users, self.problems = parse_users(self.path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError) as exc:
                    self._users, self.problems = {}, [f"cannot read it ({type(exc).__name__})"]
                self._stamp = stamp
                for problem in self.problems:
                    log.warning("Users file %s: %s", self.path, problem)
            return self._users

    def get(self, name: str) -> User | None:
        return self.users().get(name)

    def login(self, name: str, password: str) -> User | None:
        user = self.get(name)
        ok = verify_password(password, user.hash if user else _DECOY)
        return user if user and ok else None


# --- who is calling ------------------------------------------------------------------------------

def access_enabled(settings: Settings) -> bool:
    """Whether callers are told apart at all (otherwise every request may do everything)."""
    return bool(settings.api_key or settings.users or settings.public_demo)


class Accounts:
    """The API key, the users file and the public-demo switch, and the signed session a browser keeps
    after signing in (`session`/`from_session`): name, a fingerprint of the credential and an expiry,
    signed with HMAC-SHA256 by a secret kept in the data dir (so sessions survive a restart and are
    shared by pods on one volume). Changing the key or a password ends the sessions made with it."""

    def __init__(self, settings: Settings) -> None:
        self.key = settings.api_key
        self.users = UserFile(settings.users) if settings.users else None
        self.public = settings.public_demo
        self.enabled = access_enabled(settings)
        self.session_seconds = max(60.0, settings.session_hours * 3600)
        self._settings = settings
        self._secret = b""  # made or read on first use: describing the accounts writes nothing

    def by_key(self, token: str) -> Caller | None:
        if self.key and hmac.compare_digest(token.encode(), self.key.encode()):
            return KEY_HOLDER
        return None

    def login(self, name: str, password: str) -> Caller | None:
        """An empty name signs in with the API key. The same None for a wrong password and an unknown name."""
        if not name:
            return self.by_key(password)
        user = self.users.login(name, password) if self.users else None
        if user is None and not self.users:
            verify_password(password, _DECOY)  # as long as a real check
        return Caller(user.name, user.role) if user else None

    def session(self, caller: Caller) -> str:
        """The signed cookie value for a caller who just signed in."""
        payload = json.dumps({"n": caller.name, "f": self._fingerprint(caller.name),
                              "e": int(time.time() + self.session_seconds)}).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def from_session(self, value: str) -> Caller | None:
        try:
            payload_text, signature = value.split(".")
            payload = _unb64(payload_text)
            if not hmac.compare_digest(_unb64(signature), self._sign(payload)):
                return None
            data = json.loads(payload)
            name, fingerprint, expires = str(data["n"]), str(data["f"]), float(data["e"])
        except (ValueError, KeyError, TypeError):
            return None
        expected = self._fingerprint(name).encode()
        if expires < time.time() or not expected or not hmac.compare_digest(fingerprint.encode(), expected):
            return None
        if name == KEY_HOLDER.name:
            return KEY_HOLDER
        user = self.users.get(name) if self.users else None
        return Caller(user.name, user.role) if user else None

    def _fingerprint(self, name: str) -> str:
        """Changes with the key or the password, so sessions made before a change end with it; keyed by
        the secret, so a cookie that leaks gives nothing to guess the key or the password from."""
        if name == KEY_HOLDER.name:
            credential = self.key
        else:
            user = self.users.get(name) if self.users else None
            credential = user.hash if user else ""
        return _b64(self._sign(b"credential:" + credential.encode())[:12]) if credential else ""

    def _sign(self, payload: bytes) -> bytes:
        if not self._secret:
            self._secret = _session_secret(self._settings.writable_dir("cache") / "session-secret")
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def describe(self) -> str:
        """One line for the log and the status panel (no secret in it)."""
        if not self.enabled:
            return "off: no F5UI_API_KEY, F5UI_USERS or F5UI_PUBLIC_DEMO, so every route is open to all"
        parts = ["API key set" if self.key else "no API key"]
        if self.users:
            users = self.users.users()
            admins = sum(u.role == ADMIN for u in users.values())
            parts.append(f"{len(users)} users ({admins} admins) in {self.users.path.name}")
        parts.append("public demo: visitors generate with saved voices" if self.public else "sign-in required")
        return "on: " + ", ".join(parts)


def _session_secret(path: Path) -> bytes:
    """32 random bytes made once (mode 0600) and linked into place whole: processes starting together
    on one volume all read the first one's."""
    if not path.is_file():
        staged = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(os.urandom(32))
        try:
            os.link(staged, path)
        except FileExistsError:
            pass  # another process was first
        except OSError:  # a file system without hard links
            os.replace(staged, path)
        finally:
            staged.unlink(missing_ok=True)
    return path.read_bytes()
