"""The documentation holds: README.md and docs/*.md link only to what exists, name only files, folders and
modules that exist, document every setting with its default, draw the layers tests/test_architecture.py
enforces, and their curl examples run against the app, and as written, in bash, against a live server.

Each check also has a case showing it can fail (a made-up link, path, module or curl call is caught).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import create_app
from scheduler.settings import Settings
from tests.test_architecture import LAYERS

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP_DIRS = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")) + [".ci"]
FUTURE = ("scheduler/execution/", "scheduler/store/", "web/routes/workflows.py", "web/routes/events.py", "web/routes/metrics.py")
"""Paths docs/ARCHITECTURE.md names as where the next pieces go: they need not exist yet."""
FENCE = re.compile(r"^```[^\n]*\n.*?^```\s*$", re.M | re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PATH = re.compile(r"(?<![\w./<>-])((?:" + "|".join(re.escape(d) for d in TOP_DIRS) + r")/[\w./-]*)")
MODULE = re.compile(r"`((?:scheduler|rl|xai|web|bench)(?:\.\w+)+)`")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def prose(text: str) -> str:
    """The text without fenced code blocks or inline code: what Markdown renders as links and headings."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its rendered text, lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.replace("`", "")).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        if m := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line):
            base = slug(m.group(1))
            name, n = base, 0
            while name in found:  # GitHub numbers repeated headings: name, name-1, name-2
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(path.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{rel(path)}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{rel(path)}: {target} (no heading with that anchor)")
    return broken


def missing_paths(path: Path) -> list[str]:
    missing = []
    for found in PATH.findall(path.read_text(encoding="utf-8")):
        name = found.rstrip(".,-")
        if name.startswith(FUTURE) or (ROOT / name).exists():
            continue
        missing.append(f"{rel(path)}: {name}")
    return missing


def module_defines(source: str, name: str) -> bool:
    return re.search(rf"^\s*(?:async\s+def|def|class)\s+{name}\b|^\s*{name}\s*[:=]", source, re.M) is not None


def missing_modules(path: Path) -> list[str]:
    """Dotted names in backticks: the longest prefix must be a module of ours, and the next part a name it defines."""
    missing = []
    for dotted in MODULE.findall(path.read_text(encoding="utf-8")):
        if dotted in LAYERS:
            continue
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            base = ROOT.joinpath(*parts[:cut])
            module = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
            if module.is_file():
                rest = parts[cut:]
                if rest and not module_defines(module.read_text(encoding="utf-8"), rest[0]):
                    missing.append(f"{rel(path)}: {dotted} ({rel(module)} defines no {rest[0]})")
                break
        else:
            missing.append(f"{rel(path)}: {dotted} (no such module)")
    return missing


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_relative_link_resolves(doc: Path) -> None:
    assert not broken_links(doc), "\n".join(broken_links(doc))


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_path_named_exists(doc: Path) -> None:
    assert not missing_paths(doc), "\n".join(missing_paths(doc))


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_every_module_named_exists(doc: Path) -> None:
    assert not missing_modules(doc), "\n".join(missing_modules(doc))


def test_the_checks_catch_what_is_gone(tmp_path: Path) -> None:
    api = os.path.relpath(ROOT / "docs" / "API.md", tmp_path)
    probe = tmp_path / "probe.md"
    probe.write_text(
        f"[gone](nowhere.md) [bad anchor]({api}#no-such-heading) [ok]({api}#sessions) `[not a link](gone.md)`\n"
        "See scheduler/core/nothing.py and `scheduler.core.jobs.no_such_name` and `xai.nothing`.\n",
        encoding="utf-8",
    )
    assert broken_links(probe) == [
        "probe.md: nowhere.md (no such file)",
        f"probe.md: {api}#no-such-heading (no heading with that anchor)",
    ]
    assert missing_paths(probe) == ["probe.md: scheduler/core/nothing.py"]
    assert [m.split(" (")[0] for m in missing_modules(probe)] == ["probe.md: scheduler.core.jobs.no_such_name", "probe.md: xai.nothing"]
    assert slug("The planner: `python -m scheduler plan` and `POST /plan`") == "the-planner-python--m-scheduler-plan-and-post-plan"


# --- settings ----------------------------------------------------------------------------------------


def table_rows(text: str, header: str) -> list[list[str]]:
    """The cells of the Markdown table whose header row starts with `header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    return rows


def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def env_name(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    return alias.choices[0] if alias is not None else f"TASKPILOT_{field_name.upper()}"  # type: ignore[union-attr]


def test_configuration_documents_every_setting_with_its_default() -> None:
    rows = {cells[0].strip("`"): cells[1] for cells in table_rows((ROOT / "docs" / "configuration.md").read_text(), "| variable |")}
    defaults = env_example()
    names = {env_name(f) for f in Settings.model_fields}
    assert set(rows) == names, f"not documented: {sorted(names - set(rows))}; not a setting: {sorted(set(rows) - names)}"
    for name in names:
        cell, default = rows[name], defaults[name]
        if default:
            assert cell.strip("`") == default, f"{name}: docs say {cell}, .env.example says {default}"
        else:
            assert cell.startswith("empty"), f"{name}: unset by default, docs say {cell}"


def test_env_example_has_every_setting_once_each_under_its_comment() -> None:
    """.env.example is the file people copy: every setting, none twice, none that is not one, each with the
    comment above it that says what it is (configuration.md says more)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    keys = [line.split("=", 1)[0].strip() for line in lines if line.strip() and not line.startswith("#")]
    names = {env_name(f) for f in Settings.model_fields}
    assert len(keys) == len(set(keys)), f"set twice: {sorted({k for k in keys if keys.count(k) > 1})}"
    assert set(keys) == names, f"missing: {sorted(names - set(keys))}; not a setting: {sorted(set(keys) - names)}"
    uncommented = [k for k in keys if not lines[lines.index(next(x for x in lines if x.startswith(k + "="))) - 1].startswith("# ")]
    assert not uncommented, f"no comment line above: {uncommented}"


# --- architecture --------------------------------------------------------------------------------------


def test_architecture_table_is_the_layers_the_test_enforces() -> None:
    rows = table_rows((ROOT / "docs" / "ARCHITECTURE.md").read_text(), "| package | may import |")
    documented = {cells[0].strip("`"): set(re.findall(r"`([^`]+)`", cells[1])) for cells in rows}
    assert documented == LAYERS


def tree_paths(text: str) -> Iterator[str]:
    """Every entry of ARCHITECTURE.md's tree as a path: the depth of a line is its indent / 4."""
    section = text[text.index("## The tree") :]
    block = FENCE.search(section)
    assert block is not None
    stack: list[str] = []
    for line in block.group(0).splitlines()[1:-1]:
        name_at = len(line) - len(line.lstrip("│├└─ "))
        depth, name = name_at // 4, line[name_at:].split()[0]
        stack = stack[:depth] + [name.rstrip("/")]
        yield "/".join(stack) + ("/" if name.endswith("/") else "")


def test_architecture_tree_names_only_what_exists() -> None:
    paths = list(tree_paths((ROOT / "docs" / "ARCHITECTURE.md").read_text()))
    assert "scheduler/core/jobs.py" in paths and "web/routes/jobs.py" in paths and "rl/_kernel.c" in paths
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"the tree names what does not exist: {missing}"


def test_architecture_tree_has_every_package() -> None:
    """A new package needs a place in the tree (and a row in LAYERS); single modules may come and go."""
    paths = set(tree_paths((ROOT / "docs" / "ARCHITECTURE.md").read_text()))
    packages = {f"{rel(init.parent)}/" for top in ("scheduler", "rl", "xai", "web") for init in (ROOT / top).rglob("__init__.py")}
    assert not packages - paths, f"packages missing from docs/ARCHITECTURE.md's tree: {sorted(packages - paths)}"


def test_bench_block_lives_in_speed_md() -> None:
    """bench/readme.py rewrites the block between these markers; it must exist once, in docs/speed.md."""
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        count = (text.count("<!-- bench:start"), text.count("<!-- bench:end -->"))
        assert count == ((1, 1) if doc.name == "speed.md" else (0, 0)), f"{rel(doc)}: bench markers {count}"


# --- curl examples ---------------------------------------------------------------------------------------


def curl_commands(text: str) -> list[list[str]]:
    """The curl commands of the ```sh blocks, each as its argv (continuation lines and multi-line quotes joined)."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S):
        buffer = ""
        for line in block.splitlines():
            buffer += line
            if buffer.endswith("\\"):
                buffer = buffer[:-1]
                continue
            try:
                argv = shlex.split(buffer, comments=True)
            except ValueError:  # a quote still open: the JSON goes on on the next line
                buffer += "\n"
                continue
            buffer = ""
            if argv and argv[0] == "curl":
                commands.append(argv)
    return commands


def call(client: TestClient, argv: list[str]) -> tuple[int, str]:
    method, headers, data, files, url = None, {}, None, {}, None
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            key, _, value = next(args).partition(":")
            headers[key.strip()] = value.strip()
        elif arg == "-d":
            data = next(args).encode()
        elif arg == "-F":
            field, _, value = next(args).partition("=@")
            files[field] = (Path(value).name, (ROOT / value).read_bytes())
        elif arg == "-s":
            continue
        else:
            assert url is None and not arg.startswith("-"), f"unexpected curl argument {arg!r} in {argv}"
            url = arg
    assert url is not None and url.startswith("localhost:8000/"), f"{argv}: not a call to make run's server"
    method = method or ("POST" if data or files else "GET")
    if data is not None and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/x-www-form-urlencoded"  # what curl sends with -d: the server refuses it (415)
    response = client.request(method, url.removeprefix("localhost:8000"), headers=headers, content=data, files=files or None)
    return response.status_code, response.text


def docs_app() -> TestClient:
    """The app as `make run` serves it, but with fewer pre-training episodes (start-up stays short)."""
    settings = Settings(
        seed=42,
        data_dir=ROOT / "dataset_rl",
        scenario="reference",
        pretrain_episodes=50,
        groq_api_key=None,
        llm_base_url=None,
        log_level="WARNING",
        database=":memory:",  # the default is a file in the repository's .data/
    )
    return TestClient(create_app(settings))


@pytest.mark.parametrize("doc, count", [("README.md", 3), ("docs/API.md", 9)])
def test_curl_examples_run(doc: str, count: int) -> None:
    commands = curl_commands((ROOT / doc).read_text(encoding="utf-8"))
    assert len(commands) == count, f"{doc}: {len(commands)} curl calls, expected {count}"
    with docs_app() as client:
        for argv in commands:
            status, body = call(client, argv)
            assert 200 <= status < 300, f"{doc}: {shlex.join(argv)} -> {status} {body[:300]}"


# --- shell examples, as written, against a live server --------------------------------------------------

CURL_FAILS_ON_HTTP_ERRORS = 'curl() { command curl --fail-with-body "$@"; }\n'
"""Prepended to each example: curl itself exits 0 on a 4xx or 5xx, which would hide a broken example."""


def shell_examples(text: str) -> list[str]:
    """The ```sh blocks that call the server (a curl command, or a variable set from one)."""
    return [b for b in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S) if re.search(r"^\s*(curl |\w+=\$\(curl )", b, re.M)]


@pytest.fixture(scope="module")
def docs_server() -> Iterator[Any]:
    from bench import live
    from tests.web.conftest import LIVE_TEST_SETTINGS

    with live.live_server(LIVE_TEST_SETTINGS) as server:
        yield server


def run_example(server: Any, block: str) -> subprocess.CompletedProcess[str]:
    """`block` in bash (errexit, pipefail) from the project folder, the docs' localhost:8000 pointed at `server`."""
    script = CURL_FAILS_ON_HTTP_ERRORS + block.replace("localhost:8000", f"127.0.0.1:{server.port}")
    # The timeout is a hang guard, not a measurement.
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("doc, count", [("README.md", 1), ("docs/API.md", 1), ("docs/when-to-run.md", 1)])
def test_shell_examples_run_as_written(docs_server: Any, doc: str, count: int) -> None:
    """Each document's examples in one shell, as a reader pastes them after `make run`; its session 'demo' is
    new for each document, as on a fresh server."""
    with docs_server.client() as client:
        assert client.post("/reset", headers={"X-Session-ID": "demo"}).status_code == 200
    blocks = shell_examples((ROOT / doc).read_text(encoding="utf-8"))
    assert len(blocks) == count, f"{doc}: {len(blocks)} shell examples, expected {count}"
    for block in blocks:
        done = run_example(docs_server, block)
        assert done.returncode == 0, f"{doc}: exit {done.returncode}\n{block}\nstdout: {done.stdout[-800:]}\nstderr: {done.stderr[-800:]}"


def test_a_wrong_shell_example_fails(docs_server: Any) -> None:
    done = run_example(
        docs_server, 'curl -s -X POST localhost:8000/plan -H \'Content-Type: application/json\' -d \'{"zone":"ES","jobs":[]}\'\n'
    )
    assert done.returncode != 0 and "start" in done.stdout


# --- command lines ----------------------------------------------------------------------------------------

COMMAND = re.compile(r"^(?:\.venv/bin/)?(?:python -m scheduler|taskpilot) (evaluate|plan) (.*)$", re.M)


class Parsed(Exception):
    """Raised where a command has read and checked its flags and would start working."""


def documented_commands() -> list[Any]:
    """Every `evaluate` and `plan` command line in a fenced block of the docs, with where it is."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in FENCE.findall(text):
            for m in COMMAND.finditer(block.replace("\\\n", " ")):
                argv = shlex.split(m.group(2), comments=True)
                found.append(pytest.param(m.group(1), argv, id=f"{rel(doc)}:{m.group(1)}:{len(found)}"))
    return found


@pytest.mark.parametrize("command, argv", documented_commands())
def test_documented_command_lines_are_accepted_as_written(monkeypatch: pytest.MonkeyPatch, command: str, argv: list[str]) -> None:
    """Each documented command's flags parse and pass its checks (a flag it would refuse, or one renamed, fails
    here); it stops where it would start reading data, so the 20,000-job runs are not run."""
    from scheduler.cli import evaluate, plan
    from scheduler.studies import gpu_fraction

    def stop(*args: Any, **kwargs: Any) -> Any:
        raise Parsed

    monkeypatch.setattr(evaluate, "_run_cli", stop)  # the placement study's config is checked before it
    monkeypatch.setattr(evaluate, "load_datasets", stop)  # the deferral study's config is checked before it
    monkeypatch.setattr(plan, "read_series_csv", stop)  # the planner's flags are checked before it
    monkeypatch.setattr(gpu_fraction, "run_study", stop)  # the GPU-fraction study's config is checked before it
    with pytest.raises(Parsed):
        (evaluate if command == "evaluate" else plan).main(argv)


def test_a_refused_command_line_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduler.cli import evaluate

    monkeypatch.setattr(evaluate, "_run_cli", lambda *a: 0)
    with pytest.raises(SystemExit):
        evaluate.main(["--forecasts", "noisy", "--out", "/tmp/never-written"])


def test_a_wrong_curl_example_fails() -> None:
    text = """```sh
curl -X POST localhost:8000/run -H 'X-Session-ID: demo' -H 'Content-Type: application/json' \\
  -d '[{"priority":"purple",
       "cpu":1,"memory":1}]'
```
"""
    [argv] = curl_commands(text)
    with docs_app() as client:
        status, body = call(client, argv)
    assert status == 422 and "priority" in body
