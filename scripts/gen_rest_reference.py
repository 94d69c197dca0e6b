"""Write the endpoint reference of docs/rest-api.md from the live OpenAPI document.

The table between ``<!-- BEGIN GENERATED -->`` and ``<!-- END GENERATED -->`` lists every path
and method of ``GET /api/goals/openapi.json``, with its summary, query parameters and documented
responses. Run it after changing an endpoint::

    python scripts/gen_rest_reference.py           # rewrite docs/rest-api.md
    python scripts/gen_rest_reference.py --check   # exit 1 when the committed file is stale

``tests/test_docs.py`` fails while the committed file differs from what this script writes.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REST_API_DOC = ROOT / "docs" / "rest-api.md"
BEGIN = "<!-- BEGIN GENERATED -->"
END = "<!-- END GENERATED -->"
METHODS = ("get", "post", "put", "patch", "delete")


def make_app() -> Any:
    """A bare host app, like ``tests/conftest.py``'s ``make_app``: the spec needs no plugin."""
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy.orm import DeclarativeBase

    from flask_wiseparts_goals import Goals

    class HostBase(DeclarativeBase):
        pass

    app = Flask("rest_reference")
    app.config.update(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "GOALS_SCHEDULER_ENABLED": False,
        }
    )
    SQLAlchemy(model_class=HostBase).init_app(app)
    Goals(app, entry_points=False)
    return app


def openapi_spec(app: Any) -> dict[str, Any]:
    """The spec exactly as API clients get it."""
    prefix = app.config["GOALS_URL_PREFIX"].rstrip("/")
    response = app.test_client().get(f"{prefix}/openapi.json")
    if response.status_code != 200:
        raise RuntimeError(f"GET {prefix}/openapi.json answered {response.status_code}")
    spec: dict[str, Any] = response.get_json()
    return spec


def _cell(text: str) -> str:
    """One Markdown table cell: one line, reST literals as code, pipes escaped."""
    text = " ".join(text.split())
    text = re.sub(r"``(.+?)``", r"`\1`", text)
    return text.replace("|", "\\|")


def _query_parameters(operation: Mapping[str, Any], path_item: Mapping[str, Any]) -> list[str]:
    parameters = [*path_item.get("parameters", ()), *operation.get("parameters", ())]
    return [f"`{p['name']}`" for p in parameters if p.get("in") == "query"]


def _responses(operation: Mapping[str, Any]) -> list[str]:
    codes = [code for code in operation.get("responses", {}) if code != "default"]
    return sorted(codes)


def reference_table(spec: Mapping[str, Any]) -> str:
    """The Markdown table of every operation, in path order then method order."""
    lines = [
        "| Method | Path | Summary | Query parameters | Responses |",
        "|---|---|---|---|---|",
    ]
    for path in sorted(spec["paths"]):
        item = spec["paths"][path]
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            summary = _cell(operation.get("summary") or operation.get("description") or "")
            query = ", ".join(_query_parameters(operation, item)) or "—"
            responses = ", ".join(_responses(operation))
            lines.append(f"| `{method.upper()}` | `{path}` | {summary} | {query} | {responses} |")
    return "\n".join(lines) + "\n"


def generated_section(spec: Mapping[str, Any]) -> str:
    """What goes between the markers (markers excluded)."""
    info = spec.get("info", {})
    return (
        "\n<!-- Written by scripts/gen_rest_reference.py from the OpenAPI document "
        f"({info.get('title', '')} {info.get('version', '')}); do not edit by hand. -->\n\n"
        + reference_table(spec)
        + "\n"
    )


def replace_generated(document: str, section: str) -> str:
    """``document`` with the text between the markers replaced by ``section``."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"{BEGIN} ... {END} markers not found (in that order)")
    return document[: start + len(BEGIN)] + section + document[end:]


def render(document: str, app: Any | None = None) -> str:
    """The document as it should be committed."""
    return replace_generated(document, generated_section(openapi_spec(app or make_app())))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    parser.add_argument("--path", type=Path, default=REST_API_DOC)
    args = parser.parse_args(argv)
    current = args.path.read_text(encoding="utf-8")
    expected = render(current)
    if args.check:
        if current != expected:
            print(
                f"{args.path} is stale: run python scripts/gen_rest_reference.py", file=sys.stderr
            )
            return 1
        return 0
    if current != expected:
        args.path.write_text(expected, encoding="utf-8")
        print(f"updated {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
