"""The documentation is part of the feature: these tests keep it true.

Conventions the docs follow (docs/index.md, "About these pages", explains them to writers):

- **Runnable Python**: a ```` ```python ```` block right after a ``<!-- run -->`` line is
  executed. All runnable blocks of one Markdown file run in order, in one namespace, in a fresh
  Python process whose working directory is an empty temporary directory; a block fails the
  test by raising (``assert`` included). Tracebacks point at the Markdown file's own lines.
- **Replayed HTTP**: in the files of :data:`HTTP_EXAMPLE_FILES`, every ```` ```http ```` block
  that starts with a request line (``POST /api/goals/goals HTTP/1.1``) is sent, in document
  order, to a fresh app and database, and the next ```` ```http ```` block (``HTTP/1.1 201
  Created``, headers, JSON body) is what must come back: the status code exactly, every header
  shown (``...`` means any value), and every JSON key shown (keys left out are not compared; a
  ``"..."`` value matches anything; a list ending with ``"..."`` may go on). A request header
  ``If-Match: <ETag of GET /api/goals/...>`` is replaced by that resource's current ETag.
- **Generated**: docs/rest-api.md's endpoint table is written by scripts/gen_rest_reference.py.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from conftest import ORG, ApiClient, FakeHost, _reset, make_app

from flask_wiseparts_goals import hookspecs
from flask_wiseparts_goals.config import API_KEYS_PREFIXES, DEFAULTS, apply_defaults
from flask_wiseparts_goals.markers import PROJECT_NAME

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PLUGIN_GUIDE = DOCS / "plugin-guide.md"
CONFIGURATION = DOCS / "configuration.md"
REST_API = DOCS / "rest-api.md"
MKDOCS = ROOT / "mkdocs.yml"
MAKEFILE = ROOT / "Makefile"
PREFIX = "/api/goals"

#: Files whose HTTP examples are replayed.
HTTP_EXAMPLE_FILES = ("docs/targets.md", "docs/rest-api.md")
#: Files that must keep (at least) this many runnable Python blocks: a deleted marker or example
#: fails here instead of silently running nothing.
MIN_RUNNABLE_BLOCKS = {"README.md": 2, "docs/host-guide.md": 2, "docs/plugin-guide.md": 2}
#: Replayed HTTP examples each file must keep, at least.
MIN_HTTP_EXAMPLES = {"docs/targets.md": 25, "docs/rest-api.md": 6}
#: ``GOALS_*`` words the docs may use that are not configuration keys: the test suite's and CI's
#: environment variables, and the misspelled key of docs/configuration.md's example.
OTHER_GOALS_NAMES = {
    "GOALS_TEST_DATABASE_URL",
    "GOALS_CI_PG_URL",
    "GOALS_SCHEDULER_ENABLE",
    "GOALS_FUZZ_EXAMPLES",
    "GOALS_FUZZ_STEPS",
    "GOALS_FUZZ_RANDOM",
    "GOALS_SCREENSHOT_DIR",  # an environment variable of tests/test_browser.py
}


def doc_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ------------------------------------------------------------------------------------------
# Markdown parsing (just enough: fences, headings, tables, links)
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fence:
    path: Path
    line: int  # 1-based line of the opening ``` (the body starts on the next line)
    info: str
    body: str
    marker: str | None  # the HTML comment on the nearest non-blank line above, if any


FENCE = re.compile(r"^(?P<indent> {0,3})(?P<ticks>`{3,})(?P<info>[^`]*)$")


def fences(path: Path) -> list[Fence]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Fence] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        ticks, start = match["ticks"], i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(ticks):
            body.append(lines[i])
            i += 1
        above = next((line.strip() for line in reversed(lines[:start]) if line.strip()), "")
        marker = above if above.startswith("<!--") and above.endswith("-->") else None
        found.append(Fence(path, start + 1, match["info"].strip(), "\n".join(body), marker))
        i += 1
    return found


def prose(path: Path) -> str:
    """The file without its fenced blocks (headings inside code are not headings)."""
    text = path.read_text(encoding="utf-8")
    return re.sub(r"^ {0,3}(`{3,}).*?^ {0,3}\1\s*$", "", text, flags=re.S | re.M)


def headings(path: Path) -> list[tuple[int, str]]:
    return [
        (len(m[1]), m[2].strip())
        for m in re.finditer(r"^(#{1,6})\s+(.+?)\s*#*\s*$", prose(path), flags=re.M)
    ]


def section(path: Path, heading_text: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    text = prose(path)
    matches = list(re.finditer(r"^(#{1,6})\s+(.+?)\s*$", text, flags=re.M))
    for index, match in enumerate(matches):
        if match[2].strip() == heading_text:
            level = len(match[1])
            end = next((m.start() for m in matches[index + 1 :] if len(m[1]) <= level), len(text))
            return text[match.end() : end]
    raise AssertionError(f"{rel(path)}: no heading {heading_text!r}")


def table_rows(text: str) -> list[list[str]]:
    """Cells of every Markdown table row (separator rows skipped)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not (line.startswith("|") and line.endswith("|")):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]
        if all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
            continue
        rows.append(cells)
    return rows


def slug(heading: str) -> str:
    """GitHub's (and MkDocs' for plain headings) anchor of a heading."""
    text = re.sub(r"[`*_]{2,}|`", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


# ------------------------------------------------------------------------------------------
# (a) hooks: every hook has a section in the plugin guide and a row in the README
# ------------------------------------------------------------------------------------------


def hook_specs() -> dict[str, tuple[list[str], bool]]:
    """name → (argument names, firstresult) straight from hookspecs.py."""
    specs = {}
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        options = getattr(function, f"{PROJECT_NAME}_spec", None)
        if options is not None:
            specs[name] = (list(inspect.signature(function).parameters), options["firstresult"])
    return specs


HOOK_CALL = re.compile(r"`(goals_\w+)\(([^)]*)\)`")


def _arguments(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


def test_hookspecs_are_found() -> None:
    assert len(hook_specs()) >= 8


@pytest.mark.parametrize("name", sorted(hook_specs()))
def test_hook_has_a_plugin_guide_section(name: str) -> None:
    arguments, firstresult = hook_specs()[name]
    documented = [
        (text, match)
        for _, text in headings(PLUGIN_GUIDE)
        for match in [HOOK_CALL.search(text)]
        if match and match[1] == name
    ]
    assert documented, f"docs/plugin-guide.md has no heading for `{name}(...)`"
    text, match = documented[0]
    assert _arguments(match[2]) == arguments, f"{text}: hookspecs.py says {arguments}"
    body = section(PLUGIN_GUIDE, text)
    kind = re.search(r"\*\*Kind:\*\*\s*(firstresult|all plugins)", body)
    assert kind, f"{text}: no '**Kind:** firstresult|all plugins' line"
    assert (kind[1] == "firstresult") == firstresult, f"{text}: kind is wrong"
    for label in ("**Arguments:**", "**Returns:**", "**Default:**"):
        assert label in body, f"{text}: no {label}"
    for argument in arguments:
        assert f"`{argument}`" in body, f"{text}: argument {argument} is not described"


@pytest.mark.parametrize("name", sorted(hook_specs()))
def test_hook_has_a_readme_row(name: str) -> None:
    arguments, firstresult = hook_specs()[name]
    rows = [
        (row, match)
        for row in table_rows(section(README, "Hooks"))
        for match in [HOOK_CALL.fullmatch(row[0])]
        if match and match[1] == name
    ]
    assert rows, f"README.md's Hooks table has no row for `{name}(...)`"
    row, match = rows[0]
    assert _arguments(match[2]) == arguments, f"README row {row[0]}: hookspecs.py says {arguments}"
    assert row[1] == ("firstresult" if firstresult else "all plugins"), f"README row {row[0]}"


def test_no_documented_hook_is_unknown() -> None:
    known = set(hook_specs())
    for path in (PLUGIN_GUIDE, README):
        for _, text in headings(path):
            for match in HOOK_CALL.finditer(text):
                assert match[1] in known, f"{rel(path)}: heading names unknown hook {match[1]}"
        for row in table_rows(prose(path)):
            match = HOOK_CALL.fullmatch(row[0])
            assert match is None or match[1] in known, f"{rel(path)}: unknown hook {row[0]}"


# ------------------------------------------------------------------------------------------
# (b) configuration: every key with its real default, and no key that does not exist
# ------------------------------------------------------------------------------------------


def effective_defaults() -> dict[str, Any]:
    """DEFAULTS plus what apply_defaults derives (GOALS_API_*, GOALS_OPENAPI_*)."""
    config: dict[str, Any] = {}
    apply_defaults(config)
    return config


def config_rows(path: Path) -> dict[str, str]:
    rows = {}
    for row in table_rows(prose(path)):
        match = re.fullmatch(r"`(GOALS_[A-Z0-9_]+)`", row[0])
        if match and len(row) >= 3:
            rows[match[1]] = row[1]
    return rows


@pytest.mark.parametrize("path", [CONFIGURATION, README], ids=rel)
def test_every_config_key_is_documented_with_its_default(path: Path) -> None:
    rows = config_rows(path)
    for key, value in effective_defaults().items():
        assert key in rows, f"{rel(path)}: no table row for {key}"
        assert rows[key] == f"`{value!r}`", f"{rel(path)}: {key} defaults to {value!r}"
    assert set(DEFAULTS) <= set(rows)


def test_docs_name_only_real_config_keys() -> None:
    known = set(effective_defaults()) | OTHER_GOALS_NAMES
    for path in doc_files():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\bGOALS_[A-Z0-9_]*[A-Z0-9](_?\*)?", text):
            word = match[0]
            if word.endswith("*"):
                stem = word.rstrip("*")
                assert stem.startswith(API_KEYS_PREFIXES) or any(
                    k.startswith(stem) for k in known
                ), f"{rel(path)}: {word} matches no configuration key"
            elif not word.startswith(API_KEYS_PREFIXES):
                assert word in known, f"{rel(path)}: {word} is not a configuration key"


# ------------------------------------------------------------------------------------------
# (c) runnable Python blocks
# ------------------------------------------------------------------------------------------

RUN_MARKER = "<!-- run -->"

DRIVER = textwrap.dedent(
    """
    import json, sys
    blocks = json.load(sys.stdin)
    namespace = {"__name__": "__main__"}
    for path, line, body in blocks:
        exec(compile("\\n" * line + body, path, "exec"), namespace)
    """
)


def runnable_blocks(path: Path) -> list[Fence]:
    blocks = [f for f in fences(path) if f.marker == RUN_MARKER]
    for block in blocks:
        assert block.info == "python", (
            f"{rel(path)}:{block.line}: {RUN_MARKER} before a non-Python block"
        )
    return blocks


@pytest.mark.parametrize(
    "path",
    [p for p in doc_files() if rel(p) in MIN_RUNNABLE_BLOCKS or runnable_blocks(p)],
    ids=rel,
)
def test_runnable_python_blocks(path: Path, tmp_path: Path) -> None:
    blocks = runnable_blocks(path)
    assert len(blocks) >= MIN_RUNNABLE_BLOCKS.get(rel(path), 1), f"{rel(path)} lost examples"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOALS_", "FLASK_"))}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", DRIVER],
        input=json.dumps([[str(path), b.line, b.body] for b in blocks]),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{rel(path)} examples failed:\n{result.stderr}"


def test_python_blocks_compile() -> None:
    """Every Python block parses, runnable or not (illustrations must be valid code too)."""
    for path in doc_files():
        for block in fences(path):
            if block.info == "python":
                compile("\n" * block.line + block.body, str(path), "exec")


# ------------------------------------------------------------------------------------------
# (d) replayed HTTP examples
# ------------------------------------------------------------------------------------------

REQUEST_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.1$")
STATUS_LINE = re.compile(r"^HTTP/1\.1 (\d{3}) (.+)$")
ETAG_OF = re.compile(r"^<ETag of GET (\S+)>$")


@dataclass(frozen=True)
class Exchange:
    line: int
    method: str
    path: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    reason: str
    response_headers: dict[str, str]
    response_body: str


def _head_and_body(text: str) -> tuple[list[str], str]:
    head, _, body = text.partition("\n\n")
    return head.splitlines(), body.strip()


def _headers(lines: list[str], where: str) -> dict[str, str]:
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        assert colon, f"{where}: not a header line: {line!r}"
        headers[name.strip()] = value.strip()
    return headers


def exchanges(path: Path) -> list[Exchange]:
    blocks = [f for f in fences(path) if f.info == "http"]
    found = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        where = f"{rel(path)}:{block.line}"
        head, body = _head_and_body(block.body)
        request = REQUEST_LINE.match(head[0]) if head else None
        assert request, f"{where}: an http block must start with a request line"
        assert index + 1 < len(blocks), f"{where}: request without a response block"
        answer = blocks[index + 1]
        answer_where = f"{rel(path)}:{answer.line}"
        answer_head, answer_body = _head_and_body(answer.body)
        status = STATUS_LINE.match(answer_head[0]) if answer_head else None
        assert status, f"{answer_where}: the block after a request must start with HTTP/1.1 NNN"
        found.append(
            Exchange(
                line=block.line,
                method=request[1],
                path=request[2],
                request_headers=_headers(head[1:], where),
                request_body=body,
                status=int(status[1]),
                reason=status[2],
                response_headers=_headers(answer_head[1:], answer_where),
                response_body=answer_body,
            )
        )
        index += 2
    return found


def matches(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Differences between a documented JSON value and the real one (keys left out are not
    compared, ``"..."`` matches anything, a list ending with ``"..."`` may go on)."""
    if expected == "...":
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += matches(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {actual!r}"]
        open_ended = bool(expected) and expected[-1] == "..."
        items = expected[:-1] if open_ended else expected
        if len(actual) < len(items) or (not open_ended and len(actual) != len(items)):
            return [f"{where}: {len(actual)} items, the doc shows {len(items)}"]
        problems = []
        for i, item in enumerate(items):
            problems += matches(item, actual[i], f"{where}[{i}]")
        return problems
    if expected != actual or type(expected) is not type(actual):
        return [f"{where}: doc says {expected!r}, got {actual!r}"]
    return []


def docs_host() -> FakeHost:
    """The organization the examples are written for: team-north is ana, ben and carla."""
    return FakeHost(
        users={"admin": {"organization_id": ORG, "role": "admin", "teams": ["team-north"]}},
        teams={"team-north": ["ana", "ben", "carla"], "team-south": ["dan", "eva"]},
    )


@pytest.fixture
def docs_api() -> Iterator[ApiClient]:
    app = make_app(docs_host())
    _reset(app)
    with app.app_context():
        yield ApiClient(app)
        app.extensions["sqlalchemy"].session.remove()
        app.extensions["sqlalchemy"].engine.dispose()


def _replay(api: ApiClient, exchange: Exchange, where: str) -> Any:
    assert exchange.path.startswith(PREFIX + "/"), f"{where}: paths start with {PREFIX}/"
    headers = {}
    for name, value in exchange.request_headers.items():
        etag_of = ETAG_OF.match(value)
        if etag_of:
            assert name == "If-Match", f"{where}: <ETag of ...> only in If-Match"
            current = api.get(etag_of[1].removeprefix(PREFIX))
            assert current.status_code == 200, f"{where}: GET {etag_of[1]} for its ETag failed"
            value = current.headers["ETag"]
        headers[name] = value
    if exchange.request_body:
        assert "Content-Type" in headers, f"{where}: a body needs a Content-Type header"
    return api.open(
        exchange.method,
        exchange.path.removeprefix(PREFIX),
        headers=headers,
        data=exchange.request_body.encode() if exchange.request_body else None,
    )


@pytest.mark.parametrize("name", HTTP_EXAMPLE_FILES)
def test_http_examples_replay(name: str, docs_api: ApiClient) -> None:
    path = ROOT / name
    found = exchanges(path)
    assert len(found) >= MIN_HTTP_EXAMPLES[name], f"{name} lost examples"
    for exchange in found:
        where = f"{name}:{exchange.line} {exchange.method} {exchange.path}"
        assert HTTPStatus(exchange.status).phrase == exchange.reason, f"{where}: reason phrase"
        if exchange.request_body and exchange.request_headers.get("Content-Type", "").startswith(
            "application/json"
        ):
            try:
                json.loads(exchange.request_body)
            except ValueError:
                # A malformed body is allowed only where the doc shows the 400 it causes.
                assert exchange.status == 400, f"{where}: request body is not JSON"
        response = _replay(docs_api, exchange, where)
        body = response.get_data(as_text=True)
        assert response.status_code == exchange.status, (
            f"{where}: got {response.status_code} {body}"
        )
        for header, value in exchange.response_headers.items():
            assert header in response.headers, f"{where}: no {header} header"
            if value != "...":
                assert response.headers[header] == value, f"{where}: {header}"
        if exchange.response_body:
            expected = json.loads(exchange.response_body)
            problems = matches(expected, response.get_json())
            assert not problems, f"{where}:\n" + "\n".join(problems)


def test_json_matching_is_strict_where_it_must_be() -> None:
    assert matches({"a": "1"}, {"a": "1", "b": 2}) == []
    assert matches({"a": "1"}, {"a": "1.00"})
    assert matches({"a": 1}, {"a": True})
    assert matches([{"a": 1}], [{"a": 1}, {"a": 2}])
    assert matches([{"a": 1}, "..."], [{"a": 1}, {"a": 2}]) == []
    assert matches({"a": "..."}, {}) == ["$.a: missing"]


# ------------------------------------------------------------------------------------------
# (e) the generated REST reference is current; the README's REST table is true
# ------------------------------------------------------------------------------------------


def load_generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "gen_rest_reference", ROOT / "scripts" / "gen_rest_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    app = make_app(FakeHost())
    spec: dict[str, Any] = app.test_client().get(f"{PREFIX}/openapi.json").get_json()
    return spec


def test_rest_reference_is_current(openapi: dict[str, Any]) -> None:
    generator = load_generator()
    committed = REST_API.read_text(encoding="utf-8")
    expected = generator.replace_generated(committed, generator.generated_section(openapi))
    assert committed == expected, (
        "docs/rest-api.md is stale: run python scripts/gen_rest_reference.py"
    )
    # The script's own app gives the same document as the test host's.
    assert generator.render(committed) == committed


def test_rest_reference_lists_every_operation(openapi: dict[str, Any]) -> None:
    between = REST_API.read_text(encoding="utf-8").split("<!-- BEGIN GENERATED -->")[1]
    rows = {
        (r[0].strip("`"), r[1].strip("`"))
        for r in table_rows(between.split("<!-- END GENERATED -->")[0])
    }
    operations = {
        (method.upper(), path)
        for path, item in openapi["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert operations and operations <= rows


def test_readme_rest_table_matches_the_api(openapi: dict[str, Any]) -> None:
    documented: set[tuple[str, str]] = set()
    for row in table_rows(section(README, "REST API")):
        if not re.fullmatch(r"`[^`]+`", row[1]):
            continue
        for method in row[0].split(","):
            documented.add((method.strip(), PREFIX + row[1].strip("`")))
    operations = {
        (method.upper(), path)
        for path, item in openapi["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    extra = {("GET", f"{PREFIX}/openapi.json"), ("GET", f"{PREFIX}/docs")}
    expected = operations | extra
    assert documented == expected, (
        f"README's REST API table: missing {sorted(expected - documented)}, "
        f"not in the API {sorted(documented - expected)}"
    )
    client = make_app(FakeHost()).test_client()
    for _, path in extra:
        assert client.get(path).status_code == 200, path


# ------------------------------------------------------------------------------------------
# The rest of what the docs claim: links, the MkDocs nav, Makefile targets, CLI commands
# ------------------------------------------------------------------------------------------


def test_relative_links_resolve() -> None:
    for path in doc_files():
        for match in re.finditer(r"\]\(([^)\s]+)\)", prose(path)):
            target = match[1]
            if re.match(r"[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            destination = (path.parent / file_part).resolve() if file_part else path
            assert destination.exists(), f"{rel(path)}: broken link {target}"
            if anchor and destination.suffix == ".md":
                anchors = {slug(text) for _, text in headings(destination)}
                assert anchor in anchors, f"{rel(path)}: no heading for #{anchor} in {file_part}"


def mkdocs_nav() -> list[str]:
    text = MKDOCS.read_text(encoding="utf-8")
    nav = text.split("\nnav:", 1)[1]
    return re.findall(r"^\s+-\s+(?:[^:\n]+:\s+)?([\w./-]+\.md)\s*$", nav, flags=re.M)


def test_mkdocs_nav_lists_every_page() -> None:
    nav = mkdocs_nav()
    assert nav[0] == "index.md"
    assert sorted(nav) == sorted(p.name for p in DOCS.glob("*.md"))
    assert "docs_dir: docs" in MKDOCS.read_text(encoding="utf-8")


def test_readme_lists_the_makefile_targets() -> None:
    phony = re.search(r"^\.PHONY:(.*)$", MAKEFILE.read_text(encoding="utf-8"), flags=re.M)
    assert phony
    targets = set(phony[1].split())
    documented = {
        m[1]
        for row in table_rows(section(README, "Makefile targets"))
        for m in [re.fullmatch(r"`make (\S+)`", row[0])]
        if m
    }
    assert documented == targets, f"README: {sorted(documented)}, Makefile: {sorted(targets)}"


def test_readme_links_every_docs_page() -> None:
    linked = set(re.findall(r"\]\(docs/([\w.-]+\.md)\)", section(README, "Documentation")))
    assert linked == {p.name for p in DOCS.glob("*.md")}


def test_readme_quick_start_is_the_two_commands() -> None:
    quick = section(README, "Quick start")
    assert "```\nmake demo\nmake test\n```" in README.read_text(encoding="utf-8")
    assert "GOALS_TEST_DATABASE_URL=postgresql+psycopg://" in quick


def test_documented_cli_commands_exist() -> None:
    """Every ``flask goals ...`` command the docs mention exists in a mounted app's CLI."""
    import click

    app = make_app(FakeHost())
    root = click.Context(app.cli)
    goals = app.cli.get_command(root, "goals")
    assert isinstance(goals, click.Group)
    pattern = re.compile(r"flask (?:--app \S+ )?goals((?: [a-z][a-z-]*)+)")
    for path in doc_files():
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            command: click.Command = goals
            for word in match[1].split():
                if not isinstance(command, click.Group):
                    break
                sub = command.get_command(click.Context(command), word)
                assert sub is not None, f"{rel(path)}: `flask goals{match[1]}`: no {word!r}"
                command = sub
