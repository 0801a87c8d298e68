# Shared fixtures of the Python module's tests: paths to the shipped files and the built CLI.
# CTest (tests/CMakeLists.txt) runs them with PYTHONPATH=<build>/python and BITSIM_PROGRAM=<build>/bitsim.
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def path(relative):
    return str(ROOT / relative)


@pytest.fixture(autouse=True)
def in_source_root(monkeypatch):
    """Relative paths (configs/tpu.yaml) as the CLI is given them, wherever pytest was started."""
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def cli():
    """Runs the bitsim program with arguments and returns its JSON output, parsed."""
    program = os.environ.get("BITSIM_PROGRAM", str(ROOT / "build" / "bitsim"))

    def run(*args):
        out = subprocess.run([program, *args, "--json"], cwd=ROOT, check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    return run
