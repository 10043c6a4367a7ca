"""f5ui: a voice-cloning studio on F5-TTS."""

__version__ = "0.1.0"
