"""Regenerate the README's settings table from f5ui/config.py."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from f5ui.config import markdown_table  # noqa: E402

readme = ROOT / "README.md"
text = readme.read_text()
text = re.sub(r"<!-- settings-table -->.*?<!-- /settings-table -->",
              lambda _: f"<!-- settings-table -->\n{markdown_table()}\n<!-- /settings-table -->", text, flags=re.S)
readme.write_text(text)
