"""The key protects everything, tested over real HTTP: every route of the app (enumerated from the
app itself, so a new one cannot be forgotten) refuses a request without credentials; every named
endpoint of the Gradio API answers with the key (raw Bearer, gradio_client's headers, the OpenAI
client on /v1); the page sends a browser to the sign-in form; roles from F5UI_USERS hold over raw
HTTP and in Chromium; the voice library's ceiling; and a public demo that generates with saved
voices while the library stays safe."""

from __future__ import annotations

import re

import openai
import pytest
import requests
import soundfile as sf
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError
from starlette.routing import Mount, Route, WebSocketRoute

from f5ui.accounts import ADMIN, USER, user_line, write_user
from tests.helpers import LiveApp, diagnostics_for, generate, make_studio
from tests.raw_api import call, file_ref, generate_args, upload
from tests.test_browser import wait_for_audio_source

pytestmark = pytest.mark.live
KEY = "f5ui-access-test-key-7d1e0c"
BEARER = {"Authorization": f"Bearer {KEY}"}
PASSWORDS = {"ada": "ada-password-41", "uma": "uma-password-42"}
OPEN = {"/health", "/login", "/logout"}
VOICE = "Narrator"
JSON = {"accept": "application/json"}
HTML = {"accept": "text/html"}


def save_voice(url: str, ref_clip, name: str, headers: dict) -> object:  # noqa: ANN001
    ref = upload(url, ref_clip[0], headers=headers)
    return call(url, "save_voice", [file_ref(ref), ref_clip[1], name, False, ""], headers=headers)


def voice_names(url: str, headers: dict) -> list[str]:
    answer = call(url, "voices", [], headers=headers)
    assert answer.event == "complete", answer
    return [v["name"] for v in answer.data[0]]


def session_of(url: str, name: str, password: str) -> dict:
    """Sign in as a program does (gradio_client's auth= posts the same form); the cookie as a header."""
    answer = requests.post(f"{url}/login", data={"username": name, "password": password}, timeout=30)
    assert answer.status_code == 200 and answer.json()["user"] == name
    return {"Cookie": f"f5ui_session={answer.cookies['f5ui_session']}"}


def refused(answer: object, words: str) -> bool:
    return answer.event == "error" and words in answer.data["error"]


NO_PROJECT = "0123456789abcdef"  # a well-formed project id that names no project


@pytest.fixture(scope="module")
def users_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("users") / "users.txt"
    write_user(path, "ada", user_line("ada", ADMIN, PASSWORDS["ada"]))
    write_user(path, "uma", user_line("uma", USER, PASSWORDS["uma"]))
    return path


@pytest.fixture(scope="module")
def guarded(tiny_env, tmp_path_factory, users_file, ref_clip):
    env = dict(tiny_env, F5UI_API_KEY=KEY, F5UI_USERS=str(users_file), F5UI_MAX_VOICES="3",
               F5UI_ALIGNERS="estimate")
    app = LiveApp(env, tmp_path_factory.mktemp("guarded"))
    try:
        app.wait_http()
        app.wait_ready()
        assert save_voice(app.url, ref_clip, VOICE, BEARER).event == "complete"
        yield app
    finally:
        app.stop()


# --- every route --------------------------------------------------------------------------------

def routes_of(app: object, prefix: str = "") -> list[tuple[str, str]]:
    """(path, method) of every route, through mounts and included routers; an unknown kind fails."""
    found = []
    for route in app.routes:
        if isinstance(route, Mount):
            inner = getattr(route.app, "routes", None)
            here = prefix + route.path
            found += [(f"{here}/x", "GET")] if inner is None else routes_of(route.app, here)
        elif hasattr(route, "original_router"):  # FastAPI's included router
            found += routes_of(route.original_router, prefix + route.include_context.prefix)
        elif isinstance(route, WebSocketRoute):
            found.append((prefix + route.path, "WEBSOCKET"))
        else:
            assert isinstance(route, Route), f"a kind of route this test does not know: {route!r}"
            found += [(prefix + route.path, method) for method in route.methods]
    return found


def test_every_route_refuses_a_request_without_the_key(guarded, tiny_env, tmp_path):
    from f5ui.server import create_app

    studio = make_studio(tiny_env, tmp_path, F5UI_API_KEY=KEY, F5UI_PRELOAD="0")  # the same app, built here
    routes = sorted(set(routes_of(create_app(studio, diagnostics_for(studio)))))
    paths = {path for path, _ in routes}
    assert {"/", "/config", "/gradio_api/info", "/gradio_api/upload", "/gradio_api/queue/join", "/v1/audio/speech",
            "/diagnostics", "/gradio_api/call/{api_name}", "/gradio_api/file={path_or_url:path}"} <= paths
    assert not [r for r in routes if r[1] == "WEBSOCKET"], "a websocket route: test it here"
    for path, method in routes:
        url = guarded.url + re.sub(r"\{[^}]+\}", "x", path)

        def send(headers: dict, url: str = url, method: str = method) -> requests.Response:
            answer = requests.request(method, url, headers=headers, timeout=30, allow_redirects=False, stream=True)
            answer.close()  # event streams answer their headers at once; the body is not needed
            return answer

        if path in OPEN:  # answered by its route (a sign-in with no password is refused there), not by the gate
            answer = requests.request(method, url, headers=JSON, timeout=30, allow_redirects=False)
            assert "Sign in first" not in answer.text, path
            continue
        assert send(JSON).status_code == 401, (method, path)
        assert send({**JSON, "Authorization": "Bearer wrong-key"}).status_code == 401, (method, path)
        assert send({**JSON, "Cookie": "f5ui_session=forged.value"}).status_code == 401, (method, path)
        if method == "GET" and not path.startswith("/v1/"):  # a browser goes to the sign-in form, then back here
            page = send(HTML)
            assert page.status_code == 303 and page.headers["location"].startswith("/login?next=%2F"), path
        with_key = send({**JSON, **BEARER})
        assert with_key.status_code != 401 and "/login" not in with_key.headers.get("location", ""), (method, path)


def test_every_named_endpoint_answers_with_the_key_and_only_with_it(guarded, ref_clip):
    url = guarded.url
    assert requests.get(f"{url}/gradio_api/info", timeout=10).status_code == 401
    info = requests.get(f"{url}/gradio_api/info", headers=BEARER, timeout=10).json()
    ref = file_ref(upload(url, ref_clip[0], headers=BEARER))
    text = ref_clip[1]
    complete = "complete"
    calls = [  # in order: the voice saved first is renamed, then deleted
        ("generate", generate_args(ref, "Keyed.", text, word_timings=False), complete),
        ("generate_stream", generate_args(ref, "Keyed.", text, word_timings=False), complete),
        ("align", [ref, text, "en", "auto"], complete),
        ("check", [ref, text, None, "en"], complete),
        ("export", [ref, None, "wav"], complete),
        ("save_voice", [ref, text, "Scratch", False, ""], complete),
        ("voices", [], complete),
        ("rename_voice", ["Scratch", "Scratch Two"], complete),
        ("delete_voice", ["Scratch Two"], complete),
        ("sync_voices", [], "Voice sync needs an S3 bucket"),  # reached the service: no bucket here
        ("diagnostics", [], complete),
        ("project_create", [None, "A keyed project.", "Keyed", VOICE, None, None], complete),
        ("projects", [], complete),
        *((name, [NO_PROJECT, *rest], "There is no project") for name, rest in (  # reached the service
            ("project", []), ("project_run", []), ("project_pause", [False]), ("project_status", []),
            ("project_segment", [1, "lock", None, None, None]), ("project_export", ["mp3", None, False]))),
    ]
    # Every endpoint the app offers is called here: a new one fails this test until it is added.
    assert set(info["named_endpoints"]) == {f"/{name}" for name, _, _ in calls}
    for name, data, expected in calls:
        without = call(url, name, data)
        assert without.status == 401 and "Sign in first" in without.body and without.event == "", name
        answer = call(url, name, data, headers=BEARER)
        ok = answer.event == complete if expected == complete else refused(answer, expected)
        assert ok, (name, answer)
    with open(ref_clip[0], "rb") as handle:
        upload_without = requests.post(f"{url}/gradio_api/upload", files={"files": ("v.wav", handle)}, timeout=30)
    assert upload_without.status_code == 401
    assert voice_names(url, BEARER) == [VOICE]


def test_gradio_client_and_the_openai_client_with_the_key(guarded, ref_clip):
    client = guarded.client(headers=BEARER)  # @gradio/client sends the same header
    audio = generate(client, ref_clip[0], ref_clip[1], "Spoken through gradio_client.", word_timings=False)[0]
    assert sf.info(audio).duration > 0.3
    for headers in (None, {"Authorization": "Bearer wrong-key"}):
        with pytest.raises(AuthenticationError):
            Client(guarded.url, headers=headers, verbose=False)
    speech = openai.OpenAI(base_url=f"{guarded.url}/v1", api_key=KEY, max_retries=0, timeout=120)
    wav = speech.audio.speech.create(model="tts-1", voice=VOICE, input="Spoken through OpenAI.", response_format="wav")
    assert len(wav.read()) > 10_000
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{guarded.url}/v1", api_key="wrong", max_retries=0).models.list()


def test_health_stays_open_and_the_page_asks_to_sign_in(guarded):
    url = guarded.url
    health = requests.get(f"{url}/health", timeout=10)
    assert health.status_code == 200 and health.json()["ready"] is True
    page = requests.get(f"{url}/?tab=voices", headers=HTML, timeout=10, allow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2F%3Ftab%3Dvoices"
    form = requests.get(url + page.headers["location"], timeout=10)
    assert form.status_code == 200 and 'name="password"' in form.text and 'value="/?tab=voices"' in form.text
    session = requests.Session()
    signed = session.post(f"{url}/login", headers=HTML, allow_redirects=False, timeout=30,
                          data={"username": "", "password": KEY, "next": "/?tab=voices"})
    assert signed.status_code == 303 and signed.headers["location"] == "/?tab=voices"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and KEY.lower() not in cookie
    assert session.get(f"{url}/", headers=HTML, timeout=10).status_code == 200
    assert session.get(f"{url}/diagnostics", timeout=10).json()["checks"]
    elsewhere = session.post(f"{url}/login", headers=HTML, allow_redirects=False, timeout=30,
                             data={"username": "", "password": KEY, "next": "//evil.example/x"})
    assert elsewhere.headers["location"] == "/"  # never sent to another site
    assert session.get(f"{url}/logout", allow_redirects=False, timeout=10).headers["location"] == "/login"
    assert session.get(f"{url}/", headers=HTML, allow_redirects=False, timeout=10).status_code == 303


def test_a_wrong_sign_in_does_not_tell_whether_the_user_exists(guarded):
    tries = [("nobody", "x"), ("uma", "wrong"), ("ada", PASSWORDS["uma"]), ("", "wrong-key"), ("uma", KEY)]
    for headers in (JSON, HTML):
        answers = {(a.status_code, a.text) for a in (
            requests.post(f"{guarded.url}/login", data={"username": n, "password": p}, headers=headers, timeout=30)
            for n, p in tries)}
        assert len(answers) == 1 and next(iter(answers))[0] == 401
        assert "Wrong name or password." in next(iter(answers))[1]


def test_a_user_generates_but_only_an_admin_changes_the_library(guarded, ref_clip):
    url = guarded.url
    uma, ada = session_of(url, "uma", PASSWORDS["uma"]), session_of(url, "ada", PASSWORDS["ada"])
    ref = file_ref(upload(url, ref_clip[0], headers=uma))  # users may upload their own recordings
    for name, data in (("delete_voice", [VOICE]), ("rename_voice", [VOICE, "Mine"]), ("sync_voices", []),
                       ("save_voice", [ref, ref_clip[1], "Uma's voice", False, ""])):
        assert refused(call(url, name, data, headers=uma), "Only an admin can"), name
    assert voice_names(url, uma) == [VOICE]
    spoken = call(url, "generate", generate_args(None, "A user speaks.", "", voice=VOICE, word_timings=False),
                  headers=uma)
    assert spoken.event == "complete"
    assert call(url, "diagnostics", [], headers=uma).event == "complete"
    assert save_voice(url, ref_clip, "Ada scratch", ada).event == "complete"
    assert call(url, "rename_voice", ["Ada scratch", "Ada renamed"], headers=ada).event == "complete"
    assert call(url, "delete_voice", ["Ada renamed"], headers=ada).event == "complete"
    assert voice_names(url, ada) == [VOICE]


def sign_in(browser: object, url: str, name: str, password: str) -> tuple:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    assert "/login" in page.url  # the page itself needs signing in
    page.locator("#login-name").fill(name)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    page.locator("#generate-btn").wait_for(timeout=60_000)
    return context, page


def delete_in_voices_tab(page: object, name: str) -> None:
    page.get_by_role("tab", name="Voices").click()
    page.locator("#voices-chosen input").click()
    page.get_by_role("option", name=name).click()
    page.locator("#voices-delete").click()


def test_signing_in_and_the_roles_in_the_browser(chromium, guarded, ref_clip):
    url = guarded.url
    context = chromium.new_context()
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    page.locator("#login-name").fill("uma")
    page.locator("#login-password").fill("not her password")
    page.locator("#login-submit").click()
    assert page.locator("#login-error").inner_text(timeout=30_000) == "Wrong name or password."
    context.close()

    context, page = sign_in(chromium, url, "uma", PASSWORDS["uma"])
    page.locator("#voice-picker input").click()
    page.get_by_role("option", name=VOICE).click()
    page.locator("#gen-text textarea").fill("Signed in and speaking.")
    page.locator("#generate-btn").click()
    assert page.request.get(wait_for_audio_source(page, "#out-audio")).ok
    delete_in_voices_tab(page, VOICE)
    page.get_by_text("Only an admin can rename, delete or sync voices").first.wait_for(timeout=30_000)
    assert voice_names(url, BEARER) == [VOICE]
    context.close()

    assert save_voice(url, ref_clip, "Browser scratch", BEARER).event == "complete"
    context, page = sign_in(chromium, url, "ada", PASSWORDS["ada"])
    delete_in_voices_tab(page, "Browser scratch")
    page.locator("#voices-status").get_by_text("Deleted 'Browser scratch'.").wait_for(timeout=30_000)
    assert voice_names(url, BEARER) == [VOICE]
    context.close()


def test_the_voice_library_refuses_a_voice_past_its_ceiling(guarded, ref_clip):
    url = guarded.url
    added = [f"Filler {i}" for i in range(3 - len(voice_names(url, BEARER)))]  # F5UI_MAX_VOICES=3
    for name in added:
        assert save_voice(url, ref_clip, name, BEARER).event == "complete"
    over = save_voice(url, ref_clip, "One too many", BEARER)
    assert refused(over, "The voice library is full: it holds 3 voices, the most F5UI_MAX_VOICES allows.")
    assert "One too many" not in voice_names(url, BEARER)
    for name in added:
        assert call(url, "delete_voice", [name], headers=BEARER).event == "complete"


# --- a public demo -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_app(tiny_env, tmp_path_factory, ref_clip):
    app = LiveApp(dict(tiny_env, F5UI_API_KEY=KEY, F5UI_PUBLIC_DEMO="1", F5UI_ALIGNERS="estimate"),
                  tmp_path_factory.mktemp("public-demo"))
    try:
        app.wait_http()
        app.wait_ready()
        assert save_voice(app.url, ref_clip, VOICE, BEARER).event == "complete"
        yield app
    finally:
        app.stop()


def test_a_public_demo_generates_with_saved_voices_and_keeps_the_library(demo_app, ref_clip):
    url = demo_app.url
    page = requests.get(f"{url}/", headers=HTML, timeout=10, allow_redirects=False)
    assert page.status_code == 200 and "gradio" in page.text.lower()  # no sign-in needed to look
    config = requests.get(f"{url}/config", timeout=10)
    assert config.status_code == 200 and "data-check" not in config.text  # the checks are not in the page
    spoken = call(url, "generate", generate_args(None, "A visitor speaks.", "", voice=VOICE, word_timings=False))
    assert spoken.event == "complete"
    guest_refusal = "Visitors of this demo can only generate with the saved voices"
    for name, data in (("generate", generate_args(None, "My own voice.", "", word_timings=False)),
                       ("save_voice", [None, "", "Mine", False, ""]), ("delete_voice", [VOICE]),
                       ("rename_voice", [VOICE, "Mine"]), ("sync_voices", []), ("diagnostics", []),
                       ("align", [None, "Some words.", "en", "auto"]), ("export", [None, None, "wav"]),
                       ("project_create", [None, "A visitor's book.", "x", VOICE, None, None]), ("projects", []),
                       ("project_status", [NO_PROJECT]), ("project_run", [NO_PROJECT]),
                       ("project_export", [NO_PROJECT, "mp3", None, False])):
        assert refused(call(url, name, data), guest_refusal), name
    with open(ref_clip[0], "rb") as handle:  # a guest brings no recordings of their own
        uploaded = requests.post(f"{url}/gradio_api/upload", files={"files": ("v.wav", handle)}, timeout=30)
    assert uploaded.status_code == 401
    for path in ("/diagnostics", "/v1/models", "/docs"):
        assert requests.get(url + path, headers=JSON, timeout=10).status_code == 401, path
    wrong = requests.get(f"{url}/config", headers={"Authorization": "Bearer wrong-key"}, timeout=10)
    assert wrong.status_code == 401  # a wrong key is refused, not taken for a visitor
    assert voice_names(url, {}) == [VOICE]
    assert call(url, "delete_voice", [VOICE], headers=BEARER).event == "complete"  # the key holder still may


def test_no_key_or_password_reaches_a_log(guarded, demo_app):
    for app in (guarded, demo_app):
        logs = app.log_path.read_text() + (app.data_dir / "logs" / "f5ui.log").read_text()
        assert "Access control on: API key set" in logs
        assert "A sign-in failed" in logs or app is demo_app  # the tests above failed some on purpose
        for secret in (KEY, *PASSWORDS.values()):
            assert secret not in logs
