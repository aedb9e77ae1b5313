"""Reproducible installs: constraints.txt pins every dependency, every install uses it, and CI tests the
Python the image ships."""

import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
DEPENDENCIES = [
    *PROJECT["dependencies"],
    *(item for extra in PROJECT["optional-dependencies"].values() for item in extra),
]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def pins() -> dict[str, str]:
    """constraints.txt as {normalised name: version}; every line pins with ==."""
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, equals, version = line.partition("==")
            assert equals and version.strip(), f"{line!r} does not pin a version with =="
            pinned[canonicalize_name(name)] = version.strip()
    return pinned


@pytest.mark.parametrize("dependency", DEPENDENCIES)
def test_each_dependency_is_pinned_at_a_version_pyproject_allows(dependency: str) -> None:
    requirement = Requirement(dependency)
    version = pins().get(canonicalize_name(requirement.name))
    assert version is not None, f"{requirement.name} is not pinned in constraints.txt"
    assert requirement.specifier.contains(version, prereleases=True), f"{requirement.name}=={version}"


def test_the_venvs_of_scripts_and_ci_install_with_the_constraints() -> None:
    assert "-c constraints.txt" in (ROOT / "scripts/setup-venv.sh").read_text()
    assert "constraints.txt -nt" in (ROOT / "scripts/setup-venv.sh").read_text()  # a new pin reinstalls
    assert "scripts/setup-venv.sh test" in (ROOT / "scripts/test.sh").read_text()
    assert re.search(r"^scripts/test\.sh\b", (ROOT / ".ci/run").read_text(), re.MULTILINE)


def test_the_image_installs_its_dependencies_with_the_constraints_before_the_code() -> None:
    dependencies = DOCKERFILE.index("pip install -c constraints.txt")
    assert DOCKERFILE.index("COPY pyproject.toml constraints.txt") < dependencies < DOCKERFILE.index("COPY bot")
    assert DOCKERFILE.index("COPY bot") < DOCKERFILE.index("pip install --no-deps .")


def test_the_image_ships_the_python_the_tests_run_on() -> None:
    image = re.search(r"^FROM python:(\d+)\.(\d+)\b", DOCKERFILE, re.MULTILINE)
    assert image, "the Dockerfile's FROM names no python:X.Y image"
    assert (int(image[1]), int(image[2])) == sys.version_info[:2]
