"""Self-contained report.html pages (the placement evaluation's and the deferral study's): a template, the
study's document as JSON data and Chart.js inlined, so a report opens offline and names nothing elsewhere.

All text reaches the page through textContent in the template's own script; the JSON is escaped so no
value can close its <script> element, and the library's `</` so it cannot either.
"""

from pathlib import Path
from typing import Any

import orjson

from scheduler.settings import ROOT

CHART_JS = ROOT / "frontend" / "static" / "vendor" / "chart.umd.min.js"


def render(template: Path, document: dict[str, Any], chart_js: Path = CHART_JS) -> str:
    """`template` with /*CHART_JS*/ replaced by the library (or a note when it is absent: tables only) and
    /*DATA*/null by the document."""
    data = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    library = chart_js.read_text(encoding="utf-8") if chart_js.is_file() else "/* Chart.js not found: tables only */"
    library = library.replace("</", "<\\/")
    page = template.read_text(encoding="utf-8")
    return page.replace("/*CHART_JS*/", library, 1).replace("/*DATA*/null", data, 1)
