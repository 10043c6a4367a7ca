"""nltk's punkt_tab (WhisperX splits sentences with it; no package ships it) on the volume, fetched at
container start: `python -m f5ui.punkt` (scripts/start.sh). Its outcome is judged by looking for the
data afterwards, never by the downloader's exit code, which is 0 even when nothing was fetched. A
failed try is stamped on the volume and not repeated the same (UTC) day: a host without the network
would otherwise spend up to two minutes of every start on it."""

from __future__ import annotations

import datetime
import logging
import os
import sys
from pathlib import Path

from .hub import hub_offline
from .logs import configure_logging

log = logging.getLogger("f5ui.punkt")
RESOURCE = "tokenizers/punkt_tab/english/"
STAMP = ".punkt_tab-last-try"  # in the nltk data folder: its text is the UTC day of the last failed try


def installed() -> bool:
    import nltk

    try:
        nltk.data.find(RESOURCE)
        return True
    except LookupError:
        return False


def today() -> str:
    return datetime.datetime.now(datetime.UTC).date().isoformat()


def fetch(folder: Path) -> int:
    """0 when punkt_tab is there afterwards (or already was), 1 when it is not; says which, plainly."""
    if installed():
        log.info("nltk punkt_tab present")
        return 0
    offline = hub_offline()
    if offline:
        log.info("nltk punkt_tab missing and %s is set: not downloading (WhisperX stays off, with the reason)",
                 offline)
        return 1
    stamp = folder / STAMP
    if stamp.is_file() and stamp.read_text().strip() == today():
        log.warning("nltk punkt_tab missing: today's download already failed, so it is tried again tomorrow "
                    "(delete %s to try at the next start); WhisperX stays off", stamp)
        return 1
    import nltk

    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(today())  # before the try: a try cut short by the start script's timeout counts too
    reason = "the downloader reported no error, yet the data is not there"
    try:
        nltk.download("punkt_tab", download_dir=str(folder), quiet=True, raise_on_error=True)
    except Exception as exc:  # offline, DNS, proxy, HTTP error, disk full: each means "not fetched"
        reason = f"{type(exc).__name__}: {exc}"
    if str(folder) not in nltk.data.path:
        nltk.data.path.append(str(folder))
    if installed():
        stamp.unlink(missing_ok=True)
        log.info("nltk punkt_tab downloaded into %s", folder)
        return 0
    log.warning("nltk punkt_tab could not be downloaded (%s): WhisperX stays off; tried again tomorrow", reason)
    return 1


def main() -> int:
    configure_logging(None)
    return fetch(Path(os.environ.get("NLTK_DATA", "nltk_data").split(os.pathsep)[0]))


if __name__ == "__main__":
    sys.exit(main())
