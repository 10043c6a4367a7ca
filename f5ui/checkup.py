"""Every take checks itself: the judge that decides whether a chunk's take is kept or made again,
and the quality report that comes with the audio. It combines the word check (which words of
the script were spoken, missing, repeated or garbled: f5ui.timing.check), speaker similarity to
the reference (f5ui.quality.similarity) and loudness (f5ui.quality.loudness); with a recognizer
configured (F5UI_CHECK_ASR), words heard as other words (f5ui.timing.recognize). A part that is
missing or breaks turns only its figure off, with the reason in the report and the status panel."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .audio import SPEECH_RATE, read_audio, resample
from .config import Settings
from .errors import InputError
from .packages import PackageProbe
from .quality.loudness import measure
from .quality.similarity import MIN_SECONDS as MIN_SPEECH_SECONDS
from .quality.similarity import SpeakerSimilarity, cosine
from .schema import (
    ChunkHint,
    ChunkReport,
    ChunkTake,
    PreparedReference,
    QualityReport,
    SynthesisResult,
    TakeVerdict,
    WordVerdict,
)
from .text import clean_text
from .timing.base import Availability
from .timing.check import WordChecker
from .timing.recognize import FreeRecognizer, substituted
from .timing.words import tokenize
from .workers import WorkerLost

log = logging.getLogger(__name__)

METHOD = "pocketsphinx recognition constrained to the script (each word may be left out or said twice)"
MAX_EMBEDDINGS = 32  # reference voices whose embedding is kept
BROKEN_FIX = ("See the log for the error; restart to try this part again (the other parts of the check are "
              "still reported).")


class Checkup:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.words = WordChecker(settings)
        self.recognizer = FreeRecognizer(settings)
        self.similarity = SpeakerSimilarity(settings.device, settings.similarity_model)
        self.loudness = PackageProbe("pyloudnorm", "pyloudnorm")
        self._broken: dict[str, str] = {}  # part → why it failed at run time
        self._embeddings: OrderedDict[str, np.ndarray | None] = OrderedDict()
        self._lock = threading.Lock()

    # --- which parts run --------------------------------------------------------------------
    def parts(self, language: str | None = None) -> list[tuple[str, Availability]]:
        """Each part of the check and whether it runs (with the reason and the fix when not)."""
        language = (language or self.settings.language).lower()
        words = self.words.availability(language)
        problem = self.similarity.problem()
        if problem:
            similarity = Availability.no(problem, "pip install resemblyzer (in the pinned requirements), then "
                                         "restart.")
        elif self.similarity.fallback_reason:
            similarity = Availability.yes(f"resemblyzer: F5UI_SIMILARITY_MODEL={self.settings.similarity_model!r} "
                                          f"could not load ({self.similarity.fallback_reason})")
        else:
            similarity = Availability.yes(self.similarity.name if self.settings.similarity_model else
                                          "resemblyzer GE2E embeddings")
        ok, reason = self.loudness.availability()
        loudness = Availability.yes("pyloudnorm, ITU-R BS.1770") if ok else Availability.no(
            reason, "pip install pyloudnorm (in the pinned requirements), then restart.")
        parts = [("word check", words), ("recognizer", self.recognizer.availability(language)),
                 ("speaker similarity", similarity), ("loudness", loudness)]
        # A part that failed while running is off from then on, whatever its package says.
        return [(name, Availability.no(self._broken[name], BROKEN_FIX) if state.ok and name in self._broken else state)
                for name, state in parts]

    def probe(self) -> None:
        """Import every part for real (diagnostics call it in the background: seconds)."""
        self.words.probe_import()
        self.similarity.package.probe()
        self.loudness.probe()
        if self.settings.check_asr:
            self.recognizer.probe_import()

    def notes(self, language: str) -> list[str]:
        """What cannot be checked here, and why (the recognizer only when one is configured)."""
        return [f"{name} off: {state.reason}" for name, state in self.parts(language)
                if not state.ok and (name != "recognizer" or self.settings.check_asr)]

    def method(self, language: str) -> str:
        parts = dict(self.parts(language))
        out = [METHOD] if parts["word check"].ok else []
        if parts["recognizer"].ok:
            out.append(f"words heard as other words: {parts['recognizer'].reason}")
        if parts["speaker similarity"].ok:
            out.append(f"speaker similarity: {parts['speaker similarity'].reason}")
        if parts["loudness"].ok:
            out.append("loudness: ITU-R BS.1770")
        return "; ".join(out)

    def load(self) -> None:
        """Load the checker's models now (background warm-up), so the first take is not slower."""
        for name, state in self.parts():
            try:
                if state.ok and name == "word check":
                    self.words.load()
                elif state.ok and name == "speaker similarity":
                    self.similarity.load()
                elif state.ok and name == "recognizer":
                    self.recognizer.load()
            except Exception as exc:  # a broken part turns only itself off
                self._fail(name, exc)

    def _fail(self, part: str, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        if part not in self._broken:
            log.warning("The %s failed and is turned off: %s", part, reason)
        self._broken[part] = reason

    # --- pieces ----------------------------------------------------------------------------
    def _reference_embedding(self, reference: PreparedReference) -> np.ndarray | None:
        if self.similarity.problem():
            return None
        key = reference.cache_key()
        with self._lock:
            if key in self._embeddings:
                self._embeddings.move_to_end(key)
                return self._embeddings[key]
        audio = read_audio(reference.audio_path)
        embedding = self._embed(audio.samples, audio.sample_rate)
        with self._lock:
            self._embeddings[key] = embedding
            while len(self._embeddings) > MAX_EMBEDDINGS:
                self._embeddings.popitem(last=False)
        return embedding

    def _embed(self, samples: np.ndarray, rate: int) -> np.ndarray | None:
        if self.similarity.problem() or "speaker similarity" in self._broken:
            return None
        try:
            return self.similarity.embed(samples, rate)
        except Exception as exc:
            self._fail("speaker similarity", exc)
            return None

    def _word_verdicts(self, speech: np.ndarray, tokens: list, language: str) -> tuple[list[WordVerdict] | None, str]:
        """`speech`: 16 kHz mono. The verdicts (None: no word check), and a note when its deadline stopped it."""
        parts = dict(self.parts(language))
        if not tokens or not parts["word check"].ok:
            return None, ""
        try:
            words, note = self.words.check_within(speech, tokens)
        except WorkerLost as exc:  # this take goes unchecked, with the reason; the check itself still works
            return None, f"the word check could not run: {exc}"
        except Exception as exc:
            self._fail("word check", exc)
            return None, ""
        if parts["recognizer"].ok:
            try:
                heard = self.recognizer.hear(speech, language)
            except Exception as exc:
                self._fail("recognizer", exc)
                heard = None
            for i in substituted(tokens, heard) if heard else ():
                if words[i].status == "spoken" and words[i].checked:
                    w = words[i]
                    words[i] = WordVerdict(w.word, "garbled", w.start, w.end, w.repeats, w.checked)
        return words, note

    def verdict(self, samples: np.ndarray, rate: int, text: str, reference: np.ndarray | None,
                language: str) -> TakeVerdict:
        """The check of `samples` against `text` (and the reference voice's embedding)."""
        tokens = tokenize(clean_text(text))
        speech = resample(samples, rate)  # once, for the word check and the speaker encoder
        words, note = self._word_verdicts(speech, tokens, language)
        checked = words is not None
        if words is None:
            words = [WordVerdict(t.text, "spoken", 0.0, 0.0, checked=False) for t in tokens]
        take = None if reference is None else self._embed(speech, SPEECH_RATE)
        return TakeVerdict(words, cosine(reference, take), checked, note)

    # --- generation --------------------------------------------------------------------------
    def judge_for(self, reference: PreparedReference, language: str | None = None):  # noqa: ANN201 - engine.Judge
        """A judge for the chunks of one generation in this reference's voice."""
        language = (language or self.settings.language).lower()
        embedding = self._reference_embedding(reference)

        def judge(index: int, text: str, wave: np.ndarray, rate: int) -> TakeVerdict:
            return self.verdict(wave, rate, text, embedding, language)

        return judge

    def report(self, result: SynthesisResult, reference: PreparedReference, language: str | None = None,
               max_takes: int = 1) -> QualityReport:
        """The take's report: the kept takes' word verdicts, placed at their chunk's time in the
        audio; overall word accuracy, similarity and loudness; the takes tried per chunk."""
        language = (language or self.settings.language).lower()
        audio = read_audio(result.audio_path)
        words: list[WordVerdict] = []
        for chunk, (_text, start, _end) in zip(result.chunk_reports, result.chunk_spans):
            verdict = chunk.kept.verdict
            for w in verdict.words if verdict else []:
                words.append(WordVerdict(w.word, w.status, w.start + start, w.end + start, w.repeats, w.checked))
        embedding = self._reference_embedding(reference)
        overall = _overall_similarity(result.chunk_reports, result.chunk_spans)
        loudness = self._loudness(audio)
        notes = self.notes(language)  # after every part ran: a part that broke just now is named
        notes += [f"chunk {chunk.index + 1}: {chunk.kept.verdict.note}" for chunk in result.chunk_reports
                  if chunk.kept.verdict is not None and chunk.kept.verdict.note]
        still = [w.word for w in words if w.status != "spoken"]
        if still and max_takes > 1:
            notes.append(f"after {max_takes} takes, still flagged: {', '.join(still)}")
        if embedding is not None and overall is None:
            notes.append("speaker similarity not measured: the take has under "
                         f"{MIN_SPEECH_SECONDS:.1f} s of speech the voice detector accepts")
        return QualityReport(words, _accuracy(words), overall, loudness, list(result.chunk_reports),
                             self.method(language), notes)

    def _loudness(self, audio) -> dict:  # noqa: ANN001 - audio.Audio
        if not self.loudness.availability()[0]:
            return {}
        try:
            return measure(audio.samples, audio.sample_rate).to_dict()
        except Exception as exc:
            self._fail("loudness", exc)
            return {}

    # --- the reference --------------------------------------------------------------------
    def kept_text(self, samples: np.ndarray, rate: int, text: str) -> tuple[str, str] | None:
        """For a reference clipped to `samples`: `text` cut after the last word the clip still says, and
        a note; None when the words cannot be checked or nothing needs cutting."""
        tokens = tokenize(text)
        if len(tokens) < 2 or not dict(self.parts())["word check"].ok:
            return None
        try:
            said = self.words.spoken_prefix(resample(samples, rate), tokens)
        except WorkerLost as exc:  # this request goes without the cut; the check itself still works
            log.warning("Reference text not checked against the clip: %s", exc)
            return None
        except Exception as exc:
            self._fail("word check", exc)
            return None
        if said is None or said >= len(tokens):
            return None
        last, dropped = said - 1, len(tokens) - said
        kept = text[: tokens[last].end_char].rstrip()
        kept = kept if kept[-1:] in ".!?。！？" else kept + "."
        note = (f"Its text was cut after “{tokens[last].text}” to match ({dropped} word{'s' if dropped > 1 else ''} "
                "past the clip dropped).")
        log.info("Reference text cut to the clipped audio: %r", kept)
        return kept + " ", note

    # --- any recording ----------------------------------------------------------------------
    def check(self, audio_path: Path, text: str, reference_path: Path | None = None,
              language: str | None = None) -> QualityReport:
        """The same check for any recording and the text it should say (the /check endpoint)."""
        language = (language or self.settings.language).lower()
        if not tokenize(clean_text(text or "")):
            raise InputError("The text is empty.", "Type the words the recording should say.")
        if len(text) > self.settings.max_chars:  # the word check's grammar grows with the text
            raise InputError(f"The text is {len(text)} characters long; the maximum is {self.settings.max_chars}.",
                             "Check a shorter part of the recording, or raise F5UI_MAX_CHARS.")
        audio = read_audio(audio_path, max_seconds=self.settings.max_align_seconds)
        if audio.truncated:
            raise InputError(f"The audio is longer than {self.settings.max_align_seconds:.0f} s.",
                             "Check a shorter recording, or raise F5UI_MAX_ALIGN_SECONDS.")
        embedding = None
        if reference_path is not None:
            ref = read_audio(reference_path, max_seconds=30.0)
            embedding = self._embed(ref.samples, ref.sample_rate)
        verdict = self.verdict(audio.samples, audio.sample_rate, text, embedding, language)
        loudness = self._loudness(audio)
        notes = self.notes(language) + ([verdict.note] if verdict.note else [])
        if reference_path is None:
            notes.append("no reference given: speaker similarity not measured")
        chunk = ChunkReport(0, text, [ChunkTake(0, verdict)], 0)
        return QualityReport(verdict.words, _accuracy(verdict.words), verdict.similarity, loudness, [chunk],
                             self.method(language), notes)


def _overall_similarity(chunks: list[ChunkReport], spans: list[ChunkHint]) -> float | None:
    """The kept chunks' similarities, weighted by their length: the judge embedded every chunk already,
    and one embedding of the whole take would cost what the take's length makes it cost."""
    weighted = [(chunk.kept.verdict.similarity, end - start) for chunk, (_text, start, end) in zip(chunks, spans)
                if chunk.kept.verdict is not None and chunk.kept.verdict.similarity is not None]
    total = sum(length for _similarity, length in weighted)
    return round(sum(s * length for s, length in weighted) / total, 4) if total else None


def _accuracy(words: list[WordVerdict]) -> float | None:
    checked = [w for w in words if w.checked]
    if not checked:
        return None
    return round(sum(1 for w in checked if w.status == "spoken") / len(checked), 4)
