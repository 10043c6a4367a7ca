"""Export of word timings: subtitle and data files."""

from .subtitles import phrases, srt_phrases, srt_words, write_all

__all__ = ["phrases", "srt_phrases", "srt_words", "write_all"]
