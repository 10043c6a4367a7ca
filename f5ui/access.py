"""Access control over HTTP: an ASGI middleware in front of every route, and the sign-in page.

Every request is tagged with its caller (f5ui.accounts) in `scope["state"]`, where the Gradio
handlers read it through gr.Request and hand it to the Studio's permission check. With access
control on, the middleware refuses a request with no valid credential before anything reads it:
open are only /health (hosts probe it), /login and /logout. Everything else needs
`Authorization: Bearer <F5UI_API_KEY>` or the session cookie /login sets — the Gradio page, its
config and API info (they list the endpoints and the saved voices), the API, the queue, uploads,
files, /v1 and /diagnostics, and Gradio's static files too (a list of one open path is easier to
trust than a list of prefixes). With F5UI_PUBLIC_DEMO, a visitor without credentials passes as a
guest to the page and the Gradio API, but not to uploads, /v1 or /diagnostics; what a guest may do
there is the Studio's decision. The key is never read from a URL, and never logged."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .accounts import ANONYMOUS, OWNER, STATE_KEY, Accounts, Caller

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "f5ui_session"
OPEN = {"/health", "/login", "/logout"}
# What a guest (public demo, not signed in) may reach: the page and what it loads, the Gradio API
# but not its uploads (a guest uses saved voices only).
GUEST_PREFIXES = ("/gradio_api/", "/assets/", "/static/", "/svelte/")
GUEST_PATHS = {"/", "/config", "/favicon.ico", "/theme.css", "/manifest.json", "/robots.txt", "/pwa_icon"}
GUEST_REFUSED = ("/gradio_api/upload", "/gradio_api/process_recording")
REFUSED = "Sign in first: send 'Authorization: Bearer <F5UI_API_KEY>', or sign in at /login."


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookie(header: str, name: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def for_guests(path: str) -> bool:
    if path.startswith(GUEST_REFUSED):
        return False
    return (path.rstrip("/") or "/") in GUEST_PATHS or path.startswith(GUEST_PREFIXES) or path.startswith("/pwa_icon/")


class AccessGate:
    """Pure ASGI (it must not buffer event streams); outermost, so a refused request costs no body read."""

    def __init__(self, app: ASGIApp, accounts: Accounts) -> None:
        self.app = app
        self.accounts = accounts

    def identify(self, headers: dict[str, str]) -> tuple[Caller | None, bool]:
        """(caller or None, whether a credential was sent and is wrong)."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            caller = self.accounts.by_key(token.strip())
            return caller, caller is None
        session = _cookie(headers.get("cookie", ""), COOKIE)
        return (self.accounts.from_session(session) if session else None), False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "/")
        caller: Caller | None = OWNER
        if self.accounts.enabled:
            headers = _headers(scope)
            caller, wrong = self.identify(headers)
            if caller is None and not wrong and self.accounts.public and for_guests(path):
                caller = ANONYMOUS
            if caller is None and path not in OPEN:
                await self._refuse(scope, receive, send, path, headers)
                return
        if caller is not None:
            scope.setdefault("state", {})[STATE_KEY] = caller
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, path: str, headers: dict[str, str]) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if path.startswith("/v1/") or path == "/v1":  # OpenAI's error shape, as the rest of /v1 answers
            answer: Response = JSONResponse(
                {"error": {"message": REFUSED, "type": "authentication_error", "param": None,
                           "code": "invalid_api_key"}}, status_code=401)
        elif scope["method"] in ("GET", "HEAD") and "text/html" in headers.get("accept", ""):
            query = scope.get("query_string", b"").decode("latin-1")
            target = scope.get("path", "/") + (f"?{query}" if query else "")
            answer = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        else:
            answer = JSONResponse({"error": REFUSED, "detail": REFUSED}, status_code=401,
                                  headers={"WWW-Authenticate": 'Bearer realm="f5ui"'})
        await answer(scope, receive, send)


# --- the sign-in page ------------------------------------------------------------------------------

WRONG = "Wrong name or password."  # the same whether the name exists or not


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_page(accounts: Accounts, next_path: str = "/", message: str = "") -> str:
    key_hint = "Leave the name empty to sign in with the API key." if accounts.key else ""
    error = f'<p class="error" role="alert" id="login-error">{html.escape(message)}</p>' if message else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · f5ui</title>
<style>body{{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0}}
form{{display:grid;gap:.6rem;min-width:18rem;padding:2rem;border:1px solid #ccc;border-radius:.6rem}}
input,button{{font:inherit;padding:.45rem}} .error{{color:#b91c1c;margin:0}} .hint{{color:#555;margin:0}}</style>
</head><body><form method="post" action="/login" id="login-form"><h1>f5ui</h1>{error}
<label>Name <input name="username" id="login-name" autocomplete="username"></label>
<label>Password or API key <input name="password" id="login-password" type="password" required
autocomplete="current-password"></label><p class="hint">{html.escape(key_hint)}</p>
<input type="hidden" name="next" value="{html.escape(safe_next(next_path))}">
<button type="submit" id="login-submit">Sign in</button></form></body></html>"""


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").split(",")[0] == "https"


def create_access_router(accounts: Accounts) -> APIRouter:
    """GET /login (the form), POST /login (form fields username, password and next, as Gradio's own
    /login takes them, so gradio_client's `auth=(name, password)` works too), and /logout."""
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    def login_form(next: str = "/") -> HTMLResponse:  # noqa: A002 - the query parameter's name
        return HTMLResponse(login_page(accounts, next))

    @router.post("/login")
    async def login(request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return JSONResponse({"error": "Send the sign-in as a form (application/x-www-form-urlencoded).",
                                 "detail": "Send the sign-in as a form."}, status_code=415)
        form = await request.form()  # urlencoded only: no files, and the request guard bounds the body
        name, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
        target = safe_next(str(form.get("next") or "/"))
        caller = accounts.login(name, password) if password else None
        if caller is None:
            log.warning("A sign-in failed (from %s)", request.client.host if request.client else "?")
            if _wants_html(request):
                return HTMLResponse(login_page(accounts, target, WRONG), status_code=401)
            return JSONResponse({"error": WRONG, "detail": WRONG}, status_code=401)
        log.info("Signed in: %s (%s)", caller.name, caller.role)
        answer: Response = (RedirectResponse(target, status_code=303) if _wants_html(request)
                            else JSONResponse({"success": True, "user": caller.name, "role": caller.role}))
        answer.set_cookie(COOKIE, accounts.session(caller), httponly=True, samesite="lax", secure=_secure(request),
                          path="/")
        return answer

    @router.api_route("/logout", methods=["GET", "POST"])
    def logout() -> Response:
        answer = RedirectResponse("/login", status_code=303)
        answer.delete_cookie(COOKIE, path="/")
        return answer

    return router

