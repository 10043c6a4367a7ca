"""The studio: one object per process holding the model service, caches, the voice library and
the export store, with one function per user action. The UI, the HTTP APIs, the CLI and the
serverless worker all call these."""

from __future__ import annotations

import logging
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .accounts import CHANGE_VOICES, EXPORT, GENERATE, OWN_AUDIO, OWNER, SAVE_VOICE, Caller, permit
from .audio import read_audio
from .checkup import Checkup
from .codecs import FORMATS, encode, encode_stream, format_for
from .config import Settings
from .engine.model_service import ModelService
from .engine.reference import ReferenceCache
from .engine.synthesis import MAX_TAKES, synthesize, validate_request
from .engine.voices import Voice, VoiceLibrary, stamp_order
from .errors import InputError, UserFacingError
from .export import voice_sync
from .export.bundle import ExportResult, export_files
from .export.stores import StoreError, create_store
from .export.subtitles import write_all
from .export.takes import TakeLog, audio_key
from .hangups import Gone, Hangups, StopWhenGone
from .paths import FileGate
from .schema import (
    AlignmentResult,
    ChunkHint,
    GenerationParams,
    PreparedReference,
    Progress,
    QualityReport,
    SynthesisResult,
    TimedAudio,
)
from .streaming import Piece, Stream, stream_call
from .text import request_text
from .timing.chain import AlignmentChain
from .timing.sphinx_models import decoder_pool

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("wav", "mp3", "opus", "flac")  # wav alone, or wav plus one compressed copy
MAX_TIMING_WORDS = 20000


class Studio:
    """`files` says which paths a request may name: by default only uploads (the server's case);
    the CLI passes FileGate(None), since its user names their own files."""

    def __init__(self, settings: Settings, files: FileGate | None = None) -> None:
        self.settings = settings
        self.files = files if files is not None else FileGate([settings.upload_dir])
        self.model = ModelService(settings)
        self.checkup = Checkup(settings)
        self.references = ReferenceCache(settings.writable_dir("cache/references"), settings.ref_cache_size,
                                         trim_text=self.checkup.kept_text)
        self.output_dir = settings.writable_dir("outputs")
        self.aligner = AlignmentChain(settings)
        self.decoders = decoder_pool(settings)
        self.voices = VoiceLibrary(settings.writable_dir("voices"), settings.max_voices,
                                   int(settings.max_voices_mb * 2**20))
        self.takes = TakeLog(self.output_dir / "takes")
        self.exports = create_store(settings, settings.writable_dir("exports"))
        self._on_gpu: bool | None = None  # resolved once, on the first generation
        self.hangups = Hangups()  # clients that hung up, recorded by the server, read by every surface

    def start(self) -> None:
        """Begin loading the model (and the take check's models) in the background, if configured to preload."""
        if self.settings.preload:
            self.model.ensure_loading()
            if self.settings.check or "sphinx" in self.aligner.order:
                self.decoders.start()  # pocketsphinx's processes (the word check's and the aligner's)
            if self.settings.check:
                threading.Thread(target=self.checkup.load, name="checkup-load", daemon=True).start()

    # --- speech --------------------------------------------------------------------------------
    def generate(self, ref_audio: str | Path | None, ref_text: str, gen_text: str,
                 params: GenerationParams = GenerationParams(), progress: Progress = lambda fraction, desc: None,
                 word_timings: bool = True, aligner: str | None = None, voice: str | None = None,
                 on_audio: Callable[[np.ndarray, int], None] | None = None, caller: Caller = OWNER,
                 background: threading.Event | None = None, gone: Gone | None = None) -> SynthesisResult:
        """Clone a voice saying `gen_text`: a saved `voice`, else the uploaded reference. With the time of
        every word unless `word_timings` is off; `on_audio` gets each piece of audio as soon as it is
        final (streaming). Raises UserFacingError for anything a user can fix. Every action takes the
        `caller` (f5ui.accounts): the default is the process itself (CLI, worker), which may do anything.
        `background` (its stop flag) marks background work (a project's segment): it takes the model only
        while no request waits, and stops waiting once the flag is set. Once `gone()` is true (the client
        hung up), the take stops before its next chunk, or leaves the wait for a slot (Cancelled)."""
        permit(caller, GENERATE if voice else OWN_AUDIO)
        watched = StopWhenGone(gone, progress)
        with watched.logged():
            return self._generate(ref_audio, ref_text, gen_text, params, watched, word_timings, aligner, voice,
                                  on_audio, background, gone)

    def _generate(self, ref_audio: str | Path | None, ref_text: str, gen_text: str, params: GenerationParams,
                  progress: Progress, word_timings: bool, aligner: str | None, voice: str | None,
                  on_audio: Callable[[np.ndarray, int], None] | None, background: threading.Event | None,
                  gone: Gone | None) -> SynthesisResult:
        ref_text = request_text(ref_text, "The reference text").strip()
        text = validate_request(gen_text, params, self.settings.max_chars, ref_text)
        saved = self.voices.get(voice) if voice else None
        ref_path = None if saved else self._admit(ref_audio, "No reference audio was given.",
                                                  "Upload or record 3–12 seconds of the voice to clone, or pick "
                                                  "a saved voice.")
        takes = params.max_takes or self.default_takes()
        progress(0.0, "Waiting for a model slot")
        with _user_facing("Generation"), self.model.slot(background, gone):
            progress(0.0, "Preparing the reference voice")
            reference, seconds = (saved.reference(), 0.0) if saved else self._prepare(ref_path, ref_text)
            judge = self.checkup.judge_for(reference) if self.settings.check else None
            result = synthesize(self.model, reference, text, params, self.output_dir, progress, on_audio,
                                judge=judge, max_takes=takes if judge else 1)
            result.timings_s["reference"] = seconds
        with _user_facing("The quality check"):
            if params.normalize_loudness:
                self._normalize(result)
            if self.settings.check:
                result.quality = self.checkup.report(result, reference, max_takes=takes)
        if saved and ref_audio:
            result.notices.append(f"Used the saved voice {saved.name!r}; the uploaded reference was not used.")
        if word_timings:
            progress(0.98, "Timing the words")
            try:
                # Chunk spans are only valid while the audio is as generated.
                hints = None if params.remove_silence else result.chunk_spans
                result.timing = self._align(result.audio_path, result.text, None, aligner, hints)
            except UserFacingError as error:  # the audio is still good: keep it and say why timings are missing
                result.notices.append(f"Word timings are not available: {error}")
        self._record(result, params, saved, ref_path)
        progress(1.0, "Done")
        return result

    def default_takes(self) -> int:
        """F5UI_MAX_TAKES, or when 0: 3 takes on a GPU, 1 on the CPU (where a take costs seconds)."""
        if self.settings.max_takes:
            return max(1, min(self.settings.max_takes, MAX_TAKES))  # a request may ask for no more either
        if self._on_gpu is None:
            from .device import resolve_device

            self._on_gpu = resolve_device(self.settings.device).startswith("cuda")
        return 3 if self._on_gpu else 1

    def _normalize(self, result: SynthesisResult) -> None:
        from .audio import write_wav
        from .quality.loudness import normalize

        audio = read_audio(result.audio_path)
        write_wav(result.audio_path, normalize(audio.samples, audio.sample_rate, self.settings.loudness_target),
                  audio.sample_rate)
        result.notices.append(f"Loudness normalized to {self.settings.loudness_target:g} LUFS.")

    def check(self, audio: str | Path | None, text: str, reference: str | Path | None = None,
              language: str | None = None, caller: Caller = OWNER) -> QualityReport:
        """The quality check of any recording against the text it should say (and a reference voice)."""
        permit(caller, OWN_AUDIO)
        path = self._admit(audio, "No audio was given.", "Upload the recording to check.")
        ref_path = self.files.admit(reference) if reference else None
        with _user_facing("The check"):
            return self.checkup.check(path, request_text(text, "The text"), ref_path, language)

    def generate_stream(self, ref_audio: str | Path | None, ref_text: str, gen_text: str,
                        params: GenerationParams = GenerationParams(), **options: Any) -> Stream[SynthesisResult]:
        """`generate`, streamed: each piece of audio as soon as it is final (`Piece`), then
        `Done(result)`. Joined, the pieces are the take's audio (before remove_silence or loudness
        normalization, which need the whole take). Errors raise from the iterator."""
        return stream_call(lambda on_audio: self.generate(ref_audio, ref_text, gen_text, params, on_audio=on_audio,
                                                          **options))

    def speech(self, text: str, voice: str, response_format: str = "mp3", speed: float = 1.0,
               gone: Gone | None = None) -> tuple[bytes, str]:
        """Audio bytes of `text` in a saved voice, and their content type (the OpenAI-compatible API)."""
        fmt = format_for(response_format)
        result = self.generate(None, "", text, GenerationParams(speed=speed), word_timings=False, voice=voice,
                               gone=gone)
        with _user_facing("Encoding the audio"):  # an encoder failure answers as the API's errors do
            audio = read_audio(result.audio_path)
            return encode(audio.samples, audio.sample_rate, fmt.name), fmt.content_type

    def speech_stream(self, text: str, voice: str, response_format: str = "mp3", speed: float = 1.0,
                      progress: Progress = lambda fraction, desc: None,
                      gone: Gone | None = None) -> tuple[Iterator[bytes], str]:
        """`speech`, streamed: the encoded bytes as each chunk is generated, and their content type.
        Returns once the first chunk is ready, so errors before any audio raise here. A client that
        hangs up stops the generation at its next chunk."""
        fmt = format_for(response_format)
        items = self.generate_stream(None, "", text, GenerationParams(speed=speed), word_timings=False, voice=voice,
                                     progress=progress, gone=gone)
        first = next(items)

        def samples() -> Iterator[np.ndarray]:
            item = first
            while isinstance(item, Piece):
                yield item.samples
                item = next(items)

        def answer(encoded: Iterator[bytes]) -> Iterator[bytes]:
            try:
                yield from encoded
            finally:  # the encoder's thread is inside `items`: it cannot be closed, only told to stop
                items.cancel()

        rate = first.sample_rate if isinstance(first, Piece) else 24000
        return answer(encode_stream(samples(), rate, fmt.name)), fmt.content_type

    def _admit(self, path: str | Path | None, missing: str, fix: str) -> Path:
        if not path:
            raise InputError(missing, fix)
        return self.files.admit(path)

    def _prepare(self, path: Path, ref_text: str) -> tuple[PreparedReference, float]:
        reference = self.references.prepare(path, ref_text)
        return reference, self.references.last_preprocess_seconds

    def _record(self, result: SynthesisResult, params: GenerationParams, saved: Voice | None,
                ref_path: Path | None) -> None:
        """What the take was made of, for the manifest of a later export."""
        timing = result.timing.alignment if result.timing else None
        self.takes.record(result.audio_path, {
            "kind": "generation", "text": result.text, "ref_text": result.ref_text,
            "voice": saved.name if saved else None, "reference_sha256": audio_key(ref_path) if ref_path else None,
            "settings": {"speed": params.speed, "nfe_step": params.nfe_step, "cfg_strength": params.cfg_strength,
                         "cross_fade": params.cross_fade, "remove_silence": params.remove_silence},
            "seed": result.seed, "model": {"config": self.settings.model, "checkpoint": Path(self.settings.ckpt).name},
            "duration": round(result.duration, 3), "chunks": len(result.chunks),
            "timing_backend": timing.backend if timing else None,
            "seconds": {k: round(v, 3) for k, v in result.timings_s.items()},
            "quality": _summary(result.quality)})

    # --- word timings --------------------------------------------------------------------------
    def align(self, audio: str | Path | None, transcript: str, language: str | None = None,
              aligner: str | None = None, caller: Caller = OWNER) -> TimedAudio:
        """Word timings and subtitle files for any recording and its transcript."""
        permit(caller, OWN_AUDIO)
        path = self._admit(audio, "No audio was given.", "Upload the recording whose words should be timed.")
        return self._align(path, transcript, language, aligner, None)

    def _align(self, audio: Path, transcript: str, language: str | None, aligner: str | None,
               hints: list[ChunkHint] | None) -> TimedAudio:
        with _user_facing("Alignment"):
            alignment = self.aligner.align(audio, transcript, language=language, chunk_hints=hints,
                                           backend=aligner or None)
            stem = f"{Path(audio).stem[:40]}-{uuid.uuid4().hex}"  # unguessable: outputs are served by name
            files = write_all(alignment, self.output_dir / "timings", stem)
        return TimedAudio(Path(audio), alignment, files)

    # --- export --------------------------------------------------------------------------------
    def export(self, audio: str | Path | None, timings: dict[str, Any] | None = None,
               audio_format: str = "mp3", caller: Caller = OWNER) -> ExportResult:
        """The audio (WAV, plus `audio_format` unless that is wav), every timing file and a manifest,
        to the S3 bucket, or to <data dir>/exports when none is configured."""
        permit(caller, EXPORT)
        path = self._admit(audio, "There is nothing to export yet.", "Generate or align something first.")
        return self._export(path, _parse_timings(timings), audio_format)

    def export_result(self, result: SynthesisResult, audio_format: str = "mp3") -> ExportResult:
        """Export a take this studio just made (the serverless worker): no request path involved."""
        return self._export(Path(result.audio_path), result.timing.alignment if result.timing else None, audio_format)

    def _export(self, path: Path, alignment: AlignmentResult | None, audio_format: str) -> ExportResult:
        if audio_format not in EXPORT_FORMATS:
            raise InputError(f"Unknown export format {audio_format!r}.", f"Use one of: {', '.join(EXPORT_FORMATS)}.")
        with _user_facing("Export"), tempfile.TemporaryDirectory(prefix="f5ui-export-") as folder:
            work = Path(folder)
            audio_in = read_audio(path, max_seconds=self.settings.max_align_seconds)  # decoding bounded as for /align
            wav = work / "speech.wav"
            wav.write_bytes(encode(audio_in.samples, audio_in.sample_rate, "wav"))
            files = [("speech.wav", wav)]
            if audio_format != "wav":
                compressed = work / f"speech{FORMATS[audio_format].suffix}"
                compressed.write_bytes(encode(audio_in.samples, audio_in.sample_rate, audio_format))
                files.append((compressed.name, compressed))
            if alignment is not None:
                files += [(p.name, p) for p in write_all(alignment, work, "timings").values()]
            take = self.takes.find(path) or {"kind": "recording"}
            manifest = {**take, "audio": {"duration": round(audio_in.duration, 3), "sample_rate": audio_in.sample_rate,
                                          "format": audio_format, "truncated": audio_in.truncated}}
            if alignment is not None:
                manifest.update(timing_backend=alignment.backend, words=len(alignment.words),
                                low_confidence=alignment.low_confidence)
                manifest.setdefault("text", " ".join(w.word for w in alignment.words))
            return export_files(self.exports, self.settings.s3_prefix, files, manifest)

    # --- the voice library ----------------------------------------------------------------------
    def voice_list(self) -> list[Voice]:
        return self.voices.list()

    def save_voice(self, audio: str | Path | None, ref_text: str, name: str, notes: str = "",
                   overwrite: bool = False, caller: Caller = OWNER) -> Voice:
        """Keep the reference (after conversion, clipping and transcription) as a named voice."""
        permit(caller, SAVE_VOICE)
        path = self._admit(audio, "No reference audio was given.", "Upload or record the voice to save.")
        ref_text = request_text(ref_text, "The reference text").strip()
        if not isinstance(overwrite, bool):
            raise InputError(f"overwrite must be true or false, not {overwrite!r}.", "Send a boolean.")
        self.voices.check_free(name, overwrite)  # before the conversion and transcription, not after
        with _user_facing("Saving the voice"), self.model.slot():  # transcription may use the GPU
            reference, _ = self._prepare(path, ref_text)
            return self.voices.save(name, reference, request_text(notes, "The notes"), overwrite)

    def rename_voice(self, old: str, new: str, caller: Caller = OWNER) -> Voice:
        permit(caller, CHANGE_VOICES)
        return self.voices.rename(old, new)

    def delete_voice(self, name: str, caller: Caller = OWNER) -> None:
        permit(caller, CHANGE_VOICES)
        self.voices.delete(name)

    def sync_voices(self, caller: Caller = OWNER) -> dict[str, list[str]]:
        """Push saved voices to `{prefix}/voices/` in the bucket and take in the ones found there."""
        permit(caller, CHANGE_VOICES)
        if self.exports.kind != "s3":
            raise InputError("Voice sync needs an S3 bucket, and none is configured.",
                             "Set F5UI_S3_BUCKET (and the AWS credentials) to sync voices.")
        prefix = self.settings.s3_prefix
        report: dict[str, list[str]] = {"pushed": [], "imported": [], "updated": [], "skipped": []}
        try:
            remote = voice_sync.remote_voice_ids(self.exports, prefix)
            local = {v.id: v for v in self.voices.list()}
            with tempfile.TemporaryDirectory(prefix="f5ui-voices-") as folder:
                newer_there: list[str] = []
                for voice_id, voice in local.items():
                    if voice_id in remote:
                        there = stamp_order(voice_sync.remote_updated(self.exports, prefix, voice_id, Path(folder)))
                        here = stamp_order(voice.updated)
                        if there > here:
                            newer_there.append(voice_id)
                        if there >= here:
                            continue
                    voice_sync.push(self.exports, prefix, voice_id, Path(voice.folder))
                    report["pushed"].append(voice.name)
                for voice_id in sorted(remote - set(local)) + newer_there:
                    meta, wav = voice_sync.fetch(self.exports, prefix, voice_id, Path(folder))
                    adopted = self.voices.adopt(voice_id, meta, wav, replace=voice_id in local)
                    kind = "updated" if voice_id in local else "imported"
                    report[kind if adopted else "skipped"].append(adopted.name if adopted else voice_id)
        except StoreError as exc:
            raise UserFacingError(f"Voice sync failed: {exc}.", "Fix the cause and sync again.") from exc
        log.info("Voice sync: %s", report)
        return report


def _summary(report: QualityReport | None) -> dict[str, Any] | None:
    """The report as a manifest keeps it: the figures, the flagged words and every chunk's takes."""
    if report is None:
        return None
    data = report.to_dict()
    data.pop("words")
    return data


def _parse_timings(timings: Any) -> AlignmentResult | None:
    if timings in (None, "", {}):
        return None
    try:
        if not isinstance(timings, dict) or len(timings.get("words", [])) > MAX_TIMING_WORDS:
            raise ValueError("not a timings object")
        return AlignmentResult.from_dict(timings)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError("The timings are not in the form /generate and /align return.",
                         "Pass the timings JSON unchanged, or leave it empty.") from exc


@contextmanager
def _user_facing(action: str) -> Iterator[None]:
    """Let user-facing errors through; turn anything unexpected into a short message (trace in the log)."""
    try:
        yield
    except UserFacingError:
        raise
    except Exception as exc:
        log.exception("%s failed", action)
        raise UserFacingError(f"{action} failed: {type(exc).__name__}: {str(exc)[:300]}",  # paths are redacted
                              "See the server log for details; if it persists, report it.") from exc
