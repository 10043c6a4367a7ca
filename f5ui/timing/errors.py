"""How a backend says it did not produce times: it does not apply, or it tried and failed."""


class BackendSkipped(Exception):
    """The backend does not apply to this request (audio too long for it, text not in its language, ...)."""


class BackendFailed(Exception):
    """The backend ran and could not align; the message says why, for the user."""
