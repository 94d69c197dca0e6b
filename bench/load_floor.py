"""The load run's floor: bare Flask serving the captured JSON of each endpoint, under gunicorn.

``gunicorn 'bench.load_floor:create_app()'`` with ``BENCH_FLOOR_PAYLOADS`` naming a JSON file
``{name: payload}``; each payload is served at ``/<name>`` with ``jsonify`` (no extension, no
database). Started by :mod:`bench.bench_load` with the same gunicorn options as the example app.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask

from .common import floor_app

PAYLOADS_ENV = "BENCH_FLOOR_PAYLOADS"


def create_app() -> Flask:
    payloads = json.loads(Path(os.environ[PAYLOADS_ENV]).read_text())
    app = floor_app(payloads)
    # bench_load waits for this path before driving the server.
    app.add_url_rule("/api/goals/meta", "meta", lambda: {"floor": True})
    return app
