from pathlib import Path

import pytest

from scheduler.studies import report_html

TEMPLATES = sorted(Path(report_html.__file__).parent.glob("*_template.html"))


def test_there_are_the_three_study_templates() -> None:
    assert [t.name for t in TEMPLATES] == ["deferral_template.html", "gpu_fraction_template.html", "report_template.html"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_every_report_inlines_the_shared_css_once_and_its_own_after_it(template: Path, tmp_path: Path) -> None:
    report_html.write_files(tmp_path, {"figure": 1.5}, "a,b\n1,2\n", template)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    base = report_html.BASE_CSS.read_text(encoding="utf-8")
    assert "/*BASE_CSS*/" not in page and page.count(base) == 1
    style = page[page.index("<style>") : page.index("</style>")]
    assert style.index(base) == len("<style>\n")  # first, so a template's own rules override it
    assert '{"figure":1.5}' in page and (tmp_path / "results.csv").read_text() == "a,b\n1,2\n"
    assert (tmp_path / "results.json").read_text() == '{\n  "figure": 1.5\n}\n'
