"""GET /js/states.js, the page's copy of Python's vocabulary, and the page's modules that read it."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from scheduler.core import states
from web.routes.assets import VOCABULARY

from .conftest import ROOT

PAGE_JS = ROOT / "frontend" / "static" / "js"
EXPORT = re.compile(r"^export const (\w+) = Object\.freeze\((\[.*\])\);$", re.M)


def test_states_module_lists_exactly_pythons_tuples(shared_client: TestClient) -> None:
    response = shared_client.get("/js/states.js")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "text/javascript"  # ES modules refuse other types
    exported = {name: json.loads(values) for name, values in EXPORT.findall(response.text)}
    assert exported == {name: list(getattr(states, name)) for name in (*SESSION_VOCABULARY, *EXECUTOR_VOCABULARY)}
    assert set(VOCABULARY) == set(exported)
    code = [line for line in response.text.splitlines() if line and not line.startswith("//")]
    assert len(code) == len(VOCABULARY), "the module holds the frozen arrays and nothing else"


def test_states_module_is_cached_as_the_static_files_are(shared_client: TestClient) -> None:
    """As /static: an ETag, and no-cache, so a browser asks every time (a 304 while the tag matches) and never
    runs modules of two deploys together."""
    for path in ("/js/states.js", "/static/js/main.js", "/static/vendor/chart.umd.min.js"):
        response = shared_client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript"), path
        etag = response.headers["etag"]
        assert response.headers["cache-control"] == "no-cache", path
        for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = shared_client.get(path, headers={"If-None-Match": sent})
            seen = (again.status_code, again.content, again.headers["etag"], again.headers["cache-control"])
            assert seen == (304, b"", etag, "no-cache"), (path, sent)
        assert shared_client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200, path


# --- the page's modules -------------------------------------------------------------------------

SESSION_VOCABULARY = ("TIERS", "LATENCIES", "URGENCIES", "BANDS", "MODES", "STATUSES")
EXECUTOR_VOCABULARY = ("TASK_STATES", "WORKFLOW_STATES", "ATTEMPT_OUTCOMES")
WORKFLOW_MODULES = re.compile(r"^(views|actions)/workflows[\w-]*\.js$")
"""The Workflows tab's modules. The executor's words (running, failed, pending, ...) are checked there only: other
modules spell the same words for vocabularies of their own (a simulation's status, a progress step), not the executor's."""
COMMENTS = re.compile(r"/\*.*?\*/|(?:^|(?<=\s))//[^\n]*", re.S)


def copies_of(names: tuple[str, ...]) -> re.Pattern[str]:
    """A word of these tuples as a string literal ('eco', "eco", `eco`), or a list of them written as an object's
    keys: two side by side ({ low: 0, medium: 1 }). One key alone is a field's name ({ deferred: ... } for GET /queue's)."""
    word = "|".join(sorted({word for name in names for word in getattr(states, name)}))
    return re.compile(rf"""(['"`])(?:{word})\1|[{{,]\s*(?:{word})\s*:[^{{}},]*,\s*(?:{word})\s*:""")


SESSION_COPIES = copies_of(SESSION_VOCABULARY)
ALL_COPIES = copies_of(VOCABULARY)


def vocabulary_copies(code: str, copies: re.Pattern[str] = SESSION_COPIES) -> list[str]:
    """Each place where code (comments left out) spells names of the vocabulary itself."""
    return [" ".join(m.group(0).lstrip("{,").split()) for m in copies.finditer(COMMENTS.sub(" ", code))]


def page_modules() -> dict[str, str]:
    modules = {str(p.relative_to(PAGE_JS)): p.read_text(encoding="utf-8") for p in sorted(PAGE_JS.rglob("*.js"))}
    assert "main.js" in modules and len(modules) > 10
    return modules


def test_the_copy_finder_finds_copies() -> None:
    assert vocabulary_copies("const MOVED = new Set(['deferred', \"released\"]);") == ["'deferred'", '"released"']
    assert vocabulary_copies("const ORDER = {\n  low: 0, medium: 1, high: 2 };") == ["low: 0, medium:"]
    assert vocabulary_copies("const C = { green: '#2b8a3e', balanced: '#1864ab' };") == ["green: '#2b8a3e', balanced:"]
    assert vocabulary_copies("if (j.mode === `eco`) n++;") == ["`eco`"]
    # Not copies: comments, longer words, sentences, the vocabulary read from states.js.
    assert vocabulary_copies("/* 'eco' */ x = 1; // 'released'\nconst k = { green_ratio: 1, higher: true };") == []
    assert vocabulary_copies("const s = 'marked green: mark'; const [, DEFERRED] = STATUSES;") == []
    assert vocabulary_copies("state = { deferred: { total: 0 }, pools: {} }; f = { [ECO]: 1 };") == []
    # The executor's words count in the Workflows tab's modules only.
    assert vocabulary_copies("if (t.state === 'dead') n++;") == []
    assert vocabulary_copies("if (t.state === 'dead') n++;", ALL_COPIES) == ["'dead'"]
    colours = "const C = { succeeded: '#2b8a3e', timed_out: '#c92a2a' };"
    assert vocabulary_copies(colours, ALL_COPIES) == ["succeeded: '#2b8a3e', timed_out:"]


def test_vocabulary_is_the_sessions_tuples_then_the_executors() -> None:
    assert (*SESSION_VOCABULARY, *EXECUTOR_VOCABULARY) == VOCABULARY


def test_page_modules_take_the_vocabulary_from_states_js() -> None:
    modules = page_modules()
    pattern = {name: ALL_COPIES if WORKFLOW_MODULES.match(name) else SESSION_COPIES for name in modules}
    copies = {name: found for name, code in modules.items() if (found := vocabulary_copies(code, pattern[name]))}
    assert copies == {}, "import the names from '/js/states.js' instead"
    readers = [name for name, code in modules.items() if re.search(r"^import \{[^}]*\} from '/js/states\.js';$", code, re.M)]
    assert "derive.js" in readers and "views/history.js" in readers
    assert "views/workflows.js" in readers and "views/workflows-gantt.js" in readers


def test_page_modules_import_files_that_exist_without_cycles() -> None:
    """A module that cannot be found, or a cycle, stops the whole page: every import resolves, from main.js
    every module is reached, and no module imports itself through others."""
    imports = {}
    for name, code in page_modules().items():
        specs = re.findall(r"^import .* from '([^']+)';$", code, re.M)
        local = [s for s in specs if s != "/js/states.js"]
        assert all(s.startswith(("./", "../")) for s in local), (name, local)
        imports[name] = [str((PAGE_JS / name).parent.joinpath(s).resolve().relative_to(PAGE_JS.resolve())) for s in local]
    missing = {name: [d for d in deps if d not in imports] for name, deps in imports.items() if any(d not in imports for d in deps)}
    assert missing == {}
    reached: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join((*path, name))}"
        if name not in reached:
            reached.add(name)
            for dep in imports[name]:
                visit(dep, (*path, name))

    visit("main.js", ())
    assert reached == set(imports), f"not reached from main.js: {sorted(set(imports) - reached)}"
