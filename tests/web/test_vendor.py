"""The vendored files (frontend/static/vendor/) are what their README says: byte for byte the npm packages'
files it names, by checksum, each beside its licence."""

from __future__ import annotations

import hashlib
import re

import pytest

from .conftest import ROOT

VENDOR = ROOT / "frontend" / "static" / "vendor"
README = (VENDOR / "README.md").read_text(encoding="utf-8")
FILES = ["chart.umd.min.js", "swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "redoc/redoc.standalone.js"]
LICENCES = ["chart.js.LICENSE.md", "swagger-ui/LICENSE", "swagger-ui/NOTICE", "swagger-ui/swagger-ui-bundle.js.LICENSE.txt",
            "redoc/LICENSE", "redoc/redoc.standalone.js.LICENSE.txt"]  # fmt: skip


@pytest.mark.parametrize("name", FILES)
def test_each_vendored_file_has_the_checksum_its_readme_gives(name: str) -> None:
    mention = README.index(f"`{name}`")
    written = re.compile(r"sha256 ([0-9a-f]{64})").search(README, mention)
    assert written, f"no checksum after {name} in vendor/README.md"
    assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == written.group(1)


def test_every_vendored_bundle_comes_with_its_licences() -> None:
    missing = [name for name in LICENCES if not (VENDOR / name).is_file() or (VENDOR / name).stat().st_size == 0]
    assert missing == []
    shipped = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}
    assert shipped == {*FILES, *LICENCES, "README.md"}, "a file here that the README does not account for"
