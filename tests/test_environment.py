"""The dependency pins live in one place: requirements.txt.

environment.yml (read by Binder) must list exactly the same pinned lines in its
``pip:`` section, plus ``-e .`` so that the ``qnb`` package is installed, and its
Python version must satisfy the ``requires-python`` floor of pyproject.toml.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# name[extras]==version, nothing else (no ranges, no markers, no URLs)
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._-]+\])?==(?P<version>[A-Za-z0-9.+!_-]+)$")


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(text: str) -> list[str]:
    """Requirement lines of a requirements file: comments and blank lines dropped."""
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def environment_pip_lines(env: dict) -> list[str]:
    """The entries of the ``pip:`` list in a conda environment mapping."""
    pip_sections = [
        dep["pip"] for dep in env.get("dependencies", []) if isinstance(dep, dict) and "pip" in dep
    ]
    assert len(pip_sections) == 1, f"expected one pip: section, found {len(pip_sections)}"
    return [str(line).strip() for line in pip_sections[0]]


def python_floor(pyproject_text: str) -> tuple[int, int]:
    """(major, minor) of the ``>=`` bound in ``requires-python``."""
    match = re.search(r'^requires-python\s*=\s*"([^"]*)"', pyproject_text, re.MULTILINE)
    assert match, "pyproject.toml has no requires-python"
    floor = re.search(r">=\s*(\d+)\.(\d+)", match.group(1))
    assert floor, f"requires-python {match.group(1)!r} has no >= bound"
    return int(floor.group(1)), int(floor.group(2))


def conda_python(env: dict) -> tuple[int, int]:
    """(major, minor) of the ``python=X.Y`` dependency of a conda environment."""
    specs = [
        dep for dep in env.get("dependencies", [])
        if isinstance(dep, str) and re.match(r"^python\s*[=<>! ]", dep)
    ]
    assert len(specs) == 1, f"expected one python=X.Y dependency, found {specs}"
    match = re.match(r"^python\s*==?\s*(\d+)\.(\d+)", specs[0])
    assert match, f"python dependency {specs[0]!r} is not of the form python=X.Y"
    return int(match.group(1)), int(match.group(2))


@pytest.fixture(scope="module")
def requirements() -> list[str]:
    return requirement_lines((ROOT / "requirements.txt").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def test_every_requirement_is_pinned_exactly(requirements):
    assert requirements, "requirements.txt lists no requirement"
    unpinned = [line for line in requirements if not PINNED.match(line)]
    assert unpinned == [], f"requirements.txt lines not pinned with ==: {unpinned}"


def test_no_package_is_listed_twice(requirements):
    names = [normalize(PINNED.match(line).group("name")) for line in requirements if PINNED.match(line)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert duplicates == [], f"requirements.txt lists these more than once: {duplicates}"


def test_environment_pins_mirror_requirements(requirements, environment):
    pip_lines = environment_pip_lines(environment)
    assert "-e ." in pip_lines, "environment.yml must install qnb itself with '-e .'"
    env_pins = {line for line in pip_lines if line != "-e ."}
    req_pins = set(requirements)
    assert env_pins == req_pins, (
        "environment.yml pip: list and requirements.txt differ\n"
        f"  only in environment.yml:  {sorted(env_pins - req_pins)}\n"
        f"  only in requirements.txt: {sorted(req_pins - env_pins)}"
    )
    assert len(pip_lines) == len(env_pins) + 1, "environment.yml pip: list has duplicate lines"


def test_environment_python_satisfies_requires_python(environment):
    floor = python_floor((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    version = conda_python(environment)
    assert version >= floor, f"environment.yml python={version} is below requires-python >= {floor}"


def test_runtime_dependencies_are_pinned(requirements):
    """Every runtime dependency of qnb (pyproject) has its pin in requirements.txt."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.MULTILINE | re.DOTALL)
    assert block, "pyproject.toml has no [project] dependencies list"
    runtime = {normalize(re.match(r"\s*([A-Za-z0-9._-]+)", dep).group(1))
               for dep in re.findall(r'"([^"]+)"', block.group(1))}
    pinned = {normalize(PINNED.match(line).group("name")) for line in requirements if PINNED.match(line)}
    assert runtime <= pinned, f"runtime dependencies without a pin: {sorted(runtime - pinned)}"


@pytest.mark.parametrize(
    "req, env, same",
    [
        (["numpy==2.4.6"], ["numpy==2.4.6", "-e ."], True),
        (["numpy==2.4.6"], ["numpy==2.4.5", "-e ."], False),
        (["numpy==2.4.6", "scipy==1.17.1"], ["numpy==2.4.6", "-e ."], False),
    ],
)
def test_the_comparison_can_fail(req, env, same):
    """The mirror check compares real sets: a changed or missing pin is caught."""
    env_pins = {line for line in environment_pip_lines({"dependencies": ["pip", {"pip": env}]}) if line != "-e ."}
    assert (env_pins == set(req)) is same


@pytest.mark.parametrize("line, ok", [("numpy==2.4.6", True), ("numpy>=2", False), ("numpy", False),
                                      ("numpy==2.*", False), ("jupyter-book==1.0.4.post1", True)])
def test_pin_pattern(line, ok):
    assert bool(PINNED.match(line)) is ok
