"""The distribution (SPEC §8): the wheel installs only ``flask_wiseparts_goals``, with its data.

Built with pip from a copy of the source tree (setuptools writes ``build/`` next to the
sources and would reuse a stale one), without build isolation: offline; the ``test`` extra
brings the setuptools the build needs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "flask_wiseparts_goals"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    source = build / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", "instance", "test-artifacts"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-cache-dir",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        cwd=build,
        env={"PIP_NO_INPUT": "1", "PATH": "/usr/bin:/bin", "TMPDIR": str(build)},
    )
    (path,) = out.glob("flask_wiseparts_goals-*.whl")
    return zipfile.ZipFile(path)


def _tracked_package_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", PACKAGE], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    return set(listed)


def test_the_wheel_installs_only_the_extension(wheel: zipfile.ZipFile) -> None:
    top_level = {
        name.split("/", 1)[0]
        for name in wheel.namelist()
        if not name.split("/", 1)[0].endswith(".dist-info")
    }
    assert top_level == {PACKAGE}


def test_the_wheel_carries_every_file_of_the_package(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    missing = sorted(_tracked_package_files() - names)
    assert not missing, f"not in the wheel: {missing}"
    # The data files a host's `flask goals db upgrade` and pages need, by name.
    assert f"{PACKAGE}/migrations/script.py.mako" in names
    assert f"{PACKAGE}/migrations/env.py" in names
    assert any(n.startswith(f"{PACKAGE}/migrations/versions/0001") for n in names)
    assert f"{PACKAGE}/py.typed" in names
    for kind in ("templates", "static"):
        tracked = {n for n in _tracked_package_files() if f"/{kind}/" in n}
        assert tracked <= names


def test_the_wheel_declares_the_swagger_ui_assets_dependency(wheel: zipfile.ZipFile) -> None:
    (metadata,) = (n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    requires = [
        line for line in wheel.read(metadata).decode().splitlines() if line.startswith("Requires")
    ]
    assert any("flask-swagger-ui" in line for line in requires), requires
