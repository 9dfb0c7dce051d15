"""Self-contained report.html pages (the placement evaluation's, the deferral and GPU-fraction studies'): a
template, the study's document as JSON data and Chart.js inlined, so a report opens offline and names nothing
elsewhere; and the three files every study writes (`write_files`).

The templates share their CSS (report_base.css, inlined where a template says /*BASE_CSS*/); a template's own
rules follow it and win over it. All text reaches the page through textContent in the template's own script;
the JSON is escaped so no value can close its <script> element, and the library's `</` so it cannot either.
"""

from pathlib import Path
from typing import Any

import orjson

from scheduler.settings import ROOT

CHART_JS = ROOT / "frontend" / "static" / "vendor" / "chart.umd.min.js"
BASE_CSS = Path(__file__).with_name("report_base.css")


def render(template: Path, document: dict[str, Any], chart_js: Path = CHART_JS) -> str:
    """`template` with /*BASE_CSS*/ replaced by the shared CSS, /*CHART_JS*/ by the library (or a note when it
    is absent: tables only) and /*DATA*/null by the document."""
    data = orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    library = chart_js.read_text(encoding="utf-8") if chart_js.is_file() else "/* Chart.js not found: tables only */"
    library = library.replace("</", "<\\/")
    page = template.read_text(encoding="utf-8").replace("/*BASE_CSS*/", BASE_CSS.read_text(encoding="utf-8"), 1)
    return page.replace("/*CHART_JS*/", library, 1).replace("/*DATA*/null", data, 1)


def write_files(out_dir: Path, document: dict[str, Any], csv_text: str, template: Path) -> None:
    """A study's results.json (the document, indented), results.csv and report.html (`template` rendered)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY) + b"\n")
    (out_dir / "results.csv").write_text(csv_text, encoding="utf-8")
    (out_dir / "report.html").write_text(render(template, document), encoding="utf-8")
