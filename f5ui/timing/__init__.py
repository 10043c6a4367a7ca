"""Word timings: forced alignment of a known text to audio through a chain of backends
(whisperx → google → sphinx → estimate, listed in `registry`). Heavy libraries load lazily."""
