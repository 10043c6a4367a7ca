"""Google Cloud Speech-to-Text v1 `Recognize` with word time offsets.

Only on when credentials are configured (F5UI_GOOGLE_CREDENTIALS or
GOOGLE_APPLICATION_CREDENTIALS), or when F5UI_GOOGLE_ENDPOINT names a plaintext
gRPC server (`insecure://host:port`, for local test servers). Recognition is not
forced alignment: the heard words are mapped onto the script by sequence alignment
and the rest interpolated. No retries and a short deadline, so a failure falls
through to the next backend in seconds, not minutes.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from ..config import Settings
from .base import SAMPLE_RATE, AlignInput, Availability, BackendOutput, NeedsPackage
from .errors import BackendFailed, BackendSkipped
from .words import map_recognized

log = logging.getLogger(__name__)

INSECURE = "insecure://"
MAX_SYNC_SECONDS = 60.0  # v1 Recognize refuses longer audio (long_running_recognize needs a GCS upload)
RETRY_LOAD_AFTER = 300.0  # seconds
LOW_MATCH = 0.6  # fewer script words heard than this: the transcript probably differs
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
# BCP-47 codes Speech-to-Text expects for a bare language.
REGIONS = {"en": "en-US", "de": "de-DE", "fr": "fr-FR", "es": "es-ES", "it": "it-IT", "pt": "pt-BR",
           "nl": "nl-NL", "ja": "ja-JP", "zh": "cmn-Hans-CN", "ko": "ko-KR", "ru": "ru-RU", "pl": "pl-PL"}


class GoogleBackend(NeedsPackage):
    name = "google"
    package = "google-cloud-speech"
    module = "google.cloud.speech_v1"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._client: Any = None
        # A key that cannot be loaded is tried once per RETRY_LOAD_AFTER, not on every request.
        self._load_failure: tuple[float, str] | None = None

    def _credentials_path(self) -> str:
        return self.settings.google_credentials or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "")

    def availability(self, language: str) -> Availability:
        missing = self.package_availability()
        if missing:
            return missing
        endpoint = self.settings.google_endpoint
        if endpoint.startswith(INSECURE):
            return Availability.yes(f"Speech-to-Text at {endpoint} (plaintext gRPC, no credentials)")
        fix = "Set F5UI_GOOGLE_CREDENTIALS (or GOOGLE_APPLICATION_CREDENTIALS) to a service-account JSON file."
        if not self._credentials_path():
            return Availability.no("no Google credentials configured (set F5UI_GOOGLE_CREDENTIALS or "
                                   "GOOGLE_APPLICATION_CREDENTIALS to a service-account JSON file)", fix)
        failure = self._recent_failure()
        if failure:
            return Availability.no(f"the Google credentials could not be loaded ({failure}); see the status panel",
                                   fix)
        return Availability.yes(f"Speech-to-Text v1 at {endpoint or 'speech.googleapis.com'}")

    def load(self, language: str = "en") -> None:
        self._get_client()

    def _recent_failure(self) -> str:
        failure = self._load_failure
        if failure and time.monotonic() - failure[0] < RETRY_LOAD_AFTER:
            return failure[1]
        return ""

    def credentials_problem(self) -> str:
        """'' when the configured service-account key loads, else why not (full detail, for the
        status panel; loading parses the key but contacts nothing)."""
        path = self._credentials_path()
        if not path or self.settings.google_endpoint.startswith(INSECURE):
            return ""
        from google.oauth2 import service_account

        try:
            service_account.Credentials.from_service_account_file(path, scopes=SCOPES)
        except Exception as exc:  # missing file, not JSON, missing fields, a key that does not parse
            return f"{type(exc).__name__}: {exc}"
        return ""

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from google.cloud import speech_v1

                endpoint = self.settings.google_endpoint
                if endpoint.startswith(INSECURE):
                    import grpc
                    from google.cloud.speech_v1.services.speech.transports import SpeechGrpcTransport

                    channel = grpc.insecure_channel(endpoint[len(INSECURE):])
                    self._client = speech_v1.SpeechClient(transport=SpeechGrpcTransport(channel=channel))
                else:
                    from google.oauth2 import service_account

                    path = self._credentials_path()
                    failure = self._recent_failure()
                    if failure:
                        raise BackendFailed(f"the Google credentials could not be loaded ({failure})")
                    try:  # service accounts only: a generic loader would accept any credential config
                        credentials = service_account.Credentials.from_service_account_file(path, scopes=SCOPES)
                    except Exception as exc:  # missing file, not JSON, missing fields, bad key
                        log.warning("Google credentials from %s could not be loaded: %s: %s", path,
                                    type(exc).__name__, exc)
                        self._load_failure = (time.monotonic(), type(exc).__name__)
                        raise BackendFailed(f"the Google credentials could not be loaded ({type(exc).__name__}); "
                                            "see the status panel") from exc
                    options = {"api_endpoint": endpoint} if endpoint else None
                    self._client = speech_v1.SpeechClient(credentials=credentials, client_options=options)
            return self._client

    def align(self, request: AlignInput) -> BackendOutput:
        if request.duration > MAX_SYNC_SECONDS:
            raise BackendSkipped(f"audio is {request.duration:.0f} s; synchronous Recognize accepts at most "
                                 f"{MAX_SYNC_SECONDS:.0f} s")
        from google.api_core import exceptions as gexc
        from google.cloud import speech_v1

        client = self._get_client()
        language = request.language
        config = speech_v1.RecognitionConfig(
            encoding=speech_v1.RecognitionConfig.AudioEncoding.LINEAR16,
            sample_rate_hertz=SAMPLE_RATE,
            audio_channel_count=1,
            language_code=REGIONS.get(language, language),
            enable_word_time_offsets=True,
            enable_word_confidence=True,
            # The script as phrase hints: recognition leans toward the words we expect.
            speech_contexts=[speech_v1.SpeechContext(phrases=_phrases(request.transcript))],
        )
        audio = speech_v1.RecognitionAudio(content=request.pcm16())
        try:
            response = client.recognize(config=config, audio=audio, retry=None,
                                        timeout=15.0 + request.duration)
        except gexc.GoogleAPICallError as exc:
            raise BackendFailed(f"Speech-to-Text answered {exc.code.name if exc.code else ''} "
                                f"{exc.message}".replace("  ", " ").strip()) from exc
        except gexc.RetryError as exc:
            raise BackendFailed(f"Speech-to-Text did not answer: {exc}") from exc
        heard = []
        for result in response.results:
            if not result.alternatives:
                continue
            for w in result.alternatives[0].words:
                conf = float(w.confidence) if w.confidence else float(result.alternatives[0].confidence or 0.8)
                heard.append((w.word, w.start_time.total_seconds(), w.end_time.total_seconds(), conf))
        if not heard:
            raise BackendFailed("Speech-to-Text heard no words")
        times, flags, ratio = map_recognized(request.tokens, heard)
        low = ratio < LOW_MATCH
        note = (f"Speech-to-Text heard only {ratio:.0%} of the script's words; the transcript may not match the audio"
                if low else "")
        return BackendOutput(times=times, interpolated=flags, match_ratio=ratio, low_confidence=low, note=note)


def _phrases(transcript: str, limit: int = 100) -> list[str]:
    """The transcript cut into phrase hints of at most `limit` characters (the API's limit)."""
    phrases: list[str] = []
    current = ""
    for word in transcript.split():
        if current and len(current) + 1 + len(word) > limit:
            phrases.append(current)
            current = ""
        current = f"{current} {word}".strip()[:limit]
    if current:
        phrases.append(current)
    return phrases[:500]

