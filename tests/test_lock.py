"""The dependency locks (README "Dependencies"): every range of pyproject.toml is pinned in the
lock that installs it, the dev lock agrees with the product's, and what installs (.ci/run, the
Dockerfile, the README's first command) installs from them."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pins(lock: str) -> dict[str, str]:
    out = {}
    for line in (ROOT / lock).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line)
        if match:
            out[canonicalize_name(match.group(1).split("[")[0])] = match.group(2)
    return out


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def unpinned(requirements: list[str], pinned: dict[str, str]) -> list[str]:
    problems = []
    for text in requirements:
        req = Requirement(text)
        if req.marker and not req.marker.evaluate():
            continue
        version = pinned.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name}: not in the lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}: the lock pins {version}, outside {req.specifier}")
    return problems


def test_the_product_lock_pins_every_dependency_within_its_range():
    assert unpinned(project()["dependencies"], pins("requirements.lock")) == []


def test_the_dev_lock_pins_the_product_and_the_dev_tools_and_agrees_with_the_product_lock():
    dev = pins("requirements-dev.lock")
    assert unpinned(project()["dependencies"] + project()["optional-dependencies"]["dev"], dev) == []
    product = pins("requirements.lock")
    assert {name: (version, dev[name]) for name, version in product.items() if dev.get(name) != version} == {}


def test_the_lock_check_bites():
    assert unpinned(["sqlalchemy>=3"], {"sqlalchemy": "2.1.9"}) == ["sqlalchemy: the lock pins 2.1.9, outside >=3"]
    assert unpinned(["nothing-such"], {}) == ["nothing-such: not in the lock"]


def test_every_install_reads_a_lock():
    assert "-r requirements-dev.lock" in (ROOT / ".ci" / "run").read_text()
    assert "pip install -r requirements-dev.lock -e ." in (ROOT / "README.md").read_text()
    docker = (ROOT / "Dockerfile").read_text()
    # The pinned dependencies are installed before any code is copied: a code change keeps that layer.
    assert docker.index("RUN pip install -r requirements.lock") < docker.index("COPY etl")
    assert "pip install --no-deps ." in docker
