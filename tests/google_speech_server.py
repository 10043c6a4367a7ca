"""A real gRPC peer for `google.cloud.speech.v1.Speech/Recognize` on 127.0.0.1.

No emulator exists, so this serves the method with a generic handler and the
protobuf (de)serializers of google-cloud-speech's own message types. Answers are
scripted per test: a list of words with times, or a gRPC error code.
"""

from __future__ import annotations

import datetime
import threading
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from google.cloud.speech_v1.types import cloud_speech

METHOD = "/google.cloud.speech.v1.Speech/Recognize"


@dataclass
class SpeechServer:
    words: list[tuple[str, float, float]] = field(default_factory=list)  # answered when error is None
    error: grpc.StatusCode | None = None
    requests: list[cloud_speech.RecognizeRequest] = field(default_factory=list)
    port: int = 0
    _server: grpc.Server | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _recognize(self, request: cloud_speech.RecognizeRequest, context: grpc.ServicerContext):
        with self._lock:
            self.requests.append(request)
            error, words = self.error, list(self.words)
        if error is not None:
            context.abort(error, f"scripted {error.name}")
        infos = [cloud_speech.WordInfo(word=w, start_time=datetime.timedelta(seconds=s),
                                       end_time=datetime.timedelta(seconds=e), confidence=0.9)
                 for w, s, e in words]
        alt = cloud_speech.SpeechRecognitionAlternative(
            transcript=" ".join(w for w, _, _ in words), confidence=0.9, words=infos)
        return cloud_speech.RecognizeResponse(results=[cloud_speech.SpeechRecognitionResult(alternatives=[alt])])

    def start(self) -> SpeechServer:
        handler = grpc.method_handlers_generic_handler("google.cloud.speech.v1.Speech", {
            "Recognize": grpc.unary_unary_rpc_method_handler(
                self._recognize,
                request_deserializer=cloud_speech.RecognizeRequest.deserialize,
                response_serializer=cloud_speech.RecognizeResponse.serialize,
            )
        })
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self._server.add_generic_rpc_handlers((handler,))
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
