"""Regenerate the generated sections of README.md (settings table, risk policy) from the code
and docs/risk.md. Run: .venv/bin/python scripts/build_readme.py"""

from __future__ import annotations

import re
from pathlib import Path

from btcbot.config.reference import markdown_table

ROOT = Path(__file__).resolve().parents[1]


def replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {name} block")
    return pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    text = replace_block(text, "SETTINGS", markdown_table())
    risk = (ROOT / "docs" / "risk.md").read_text()
    risk = risk.split("\n", 1)[1]  # drop the document title
    risk = risk.split("## API for the other layers")[0]
    risk = re.sub(r"^## ", "### ", risk, flags=re.M)
    text = replace_block(text, "RISK", risk.strip())
    readme.write_text(text)


if __name__ == "__main__":
    main()
