"""The image and the package hold every app: the Dockerfile copies it, and the installed
package carries its code, migrations and templates (the image imports the installed package)."""

import fnmatch
import re
import tomllib
from pathlib import Path

from django.conf import settings
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
APPS = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests")


def test_every_package_of_the_project_is_an_app_or_config():
    assert set(APPS) == {"config", "accounts", "groups", "posts", "moderation", "relay"}
    assert {a for a in settings.INSTALLED_APPS if a.split(".")[0] in APPS} >= {
        "accounts", "groups", "posts", "moderation", "relay", "relay.stream"}


def test_the_dockerfile_copies_every_package():
    copied = set(re.findall(r"^COPY (\w+)/ \1/$", (ROOT / "Dockerfile").read_text(), flags=re.M))
    assert copied == set(APPS)


def test_the_package_carries_code_migrations_and_templates():
    """As setuptools reads pyproject.toml: every package found, every template a package-data glob."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(str(ROOT), include=config["packages"]["find"]["include"]))
    data = config.get("package-data", {})
    missing = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*")):
            relative = path.relative_to(ROOT)
            if "__pycache__" in relative.parts:
                continue
            if path.name == "__init__.py" and ".".join(relative.parent.parts) not in found:
                missing.append(f"package {'.'.join(relative.parent.parts)}")
            elif path.suffix == ".html" or relative.parts[:3] == ("config", "static", "app"):
                if path.is_file() and not any(
                        fnmatch.fnmatch(relative.relative_to(app).as_posix(), glob) for glob in data.get(app, [])):
                    missing.append(f"file {relative}")
    assert missing == []
