"""Word timings: forced alignment of a known text to audio through a chain of
backends (whisperx → google → sphinx → estimate). Heavy libraries load lazily."""

from .types import AlignmentResult, Attempt, WordTiming

__all__ = ["AlignmentChain", "AlignmentResult", "Attempt", "WordTiming"]


def __getattr__(name: str):  # noqa: ANN202 - lazy: importing the chain pulls scipy and friends
    if name == "AlignmentChain":
        from .chain import AlignmentChain

        return AlignmentChain
    raise AttributeError(name)
