"""Engine room: the model service (load once, in the background), the reference
cache, and synthesis on top of f5-tts's own inference functions."""
