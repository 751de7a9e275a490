"""Repository hygiene: the helpers download only over HTTPS from the dataset's mirrors,
no credentials are committed, and the environment is installed from exact pins.

(The network itself is guarded in the data tests: tests/test_data.py fails any test
there that connects anywhere but 127.0.0.1. A session-wide guard would need a hook in
conftest.py.)
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from helpers import data

# The mirrors the dataset is published on: Keras' bucket and the maintainers' repository.
ZALANDO_MIRROR = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
)
LOOPBACK_HTTP = re.compile(r"http://(127\.0\.0\.1|localhost)(?=[:/\"'\s]|$)")
URL = re.compile(r"""\b(?:https?|ftp)://[^\s"'<>)\]]+""")


def keras_mirror() -> str:
    """The base URL keras.datasets.fashion_mnist downloads from, read from its source."""
    spec = importlib.util.find_spec("keras")
    assert spec and spec.submodule_search_locations, "keras is not installed"
    source = Path(next(iter(spec.submodule_search_locations)), "src/datasets/fashion_mnist.py")
    found = re.search(r'base = "([^"]+)"', source.read_text())
    assert found, f"no base URL found in {source}"
    return found.group(1)


def test_every_download_mirror_is_https_and_a_listed_mirror():
    listed = {keras_mirror(), ZALANDO_MIRROR}
    assert data.MIRRORS, "at least one mirror"
    for mirror in data.MIRRORS:
        assert mirror.startswith("https://"), f"{mirror} is not HTTPS"
        assert mirror in listed, f"{mirror} is not one of the dataset's mirrors {sorted(listed)}"
    assert keras_mirror() in data.MIRRORS, "the mirror keras.datasets uses comes first or later"


def _helper_urls() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted((ROOT / "helpers").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for url in URL.findall(line):
                found.append((str(path.relative_to(ROOT)), number, url))
    return found


def test_helpers_use_no_plain_http_except_this_machine():
    plain = [
        f"{path}:{n}: {url}"
        for path, n, url in _helper_urls()
        if not url.startswith("https://") and not LOOPBACK_HTTP.match(url)
    ]
    assert not plain, "URLs in helpers/ that are not HTTPS:\n  " + "\n  ".join(plain)


def test_every_download_url_in_the_helpers_is_a_mirror():
    """A new download source in the helpers must be added to MIRRORS (and this test)."""
    urls = {url for _, _, url in _helper_urls() if url.startswith("https://")}
    downloads = {u for u in urls if re.search(r"storage\.googleapis|githubusercontent|s3", u)}
    assert downloads <= set(data.MIRRORS), f"download URLs outside MIRRORS: {downloads}"
    assert set(data.MIRRORS) <= urls, "MIRRORS are spelled out in helpers/data.py"


# --------------------------------------------------------------------------- credentials

SECRET_PATTERNS = {
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "GitHub fine-grained token": re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}"),
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"),
    "Slack token": re.compile(r"\bxox[abeoprs]-[A-Za-z0-9-]{10,}"),
    "password assignment": re.compile(
        r"""(?i)\b(?:password|passwd|pwd)\s*[:=]\s*["'][^"'\s]{3,}["']"""
    ),
}


def scan_for_secrets(paths: list[Path]) -> list[str]:
    hits = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            continue  # deleted in the working tree
        if b"\0" in raw[:8192]:
            continue  # binary
        text = raw.decode("utf-8", errors="replace")
        for kind, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                hits.append(f"{path}:{line}: {kind}")
    return hits


def repository_files() -> list[Path]:
    """Tracked files and new files that git would add (not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_credentials_in_the_repository():
    files = repository_files()
    assert len(files) > 20 and any(p.name == "data.py" for p in files), "git listed the files"
    hits = scan_for_secrets(files)
    assert not hits, "possible credentials (remove them and rotate them):\n  " + "\n  ".join(hits)


# Planted samples, assembled at run time so that this file itself holds none.
PLANTED = {
    "AWS access key": "aws_key = " + "AKIA" + "Q" * 16,
    "GitHub token": "token: " + "ghp_" + "a1B2" * 9,
    "GitHub fine-grained token": "github" + "_pat_" + "11ABCDEFG0" * 4,
    "private key": "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n",
    "Slack token": "SLACK=" + "xox" + "b-1234567890-abcdefghij",
    "password assignment": "pass" + 'word = "hunter2hunter2"',
}


@pytest.mark.parametrize("kind", sorted(SECRET_PATTERNS))
def test_the_scan_catches_a_planted_secret(tmp_path, kind):
    path = tmp_path / "config.py"
    path.write_text("# settings\n" + PLANTED[kind] + "\n")
    hits = scan_for_secrets([path])
    assert hits == [f"{path}:2: {kind}"], hits


def test_the_scan_leaves_ordinary_code_alone(tmp_path):
    path = tmp_path / "ok.py"
    path.write_text(
        "password = os.environ[\"DB_PASSWORD\"]\nasttokens==3.0.2\nid-token: write\ntask = 'ASIA'\n"
    )
    assert scan_for_secrets([path]) == []


# --------------------------------------------------------------------------- exact pins

PIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?==[A-Za-z0-9.+!_-]+")


def _requirement_lines(path: Path) -> list[str]:
    lines = []
    for line in path.read_text().splitlines():
        code = line.split("#", 1)[0].strip()
        if code:
            lines.append(code)
    return lines


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_requirements_lock_pins_every_line_exactly():
    lines = _requirement_lines(ROOT / "requirements.lock")
    assert len(lines) > 50, "the lock lists the whole environment"
    loose = [line for line in lines if not PIN.fullmatch(line)]
    assert not loose, "lines of requirements.lock that are not exact pins:\n  " + "\n  ".join(loose)
    names = [_normalize(line.split("==")[0].split("[")[0]) for line in lines]
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not twice, f"pinned more than once: {twice}"


def test_the_lock_pins_every_direct_requirement():
    pinned = {
        _normalize(line.split("==")[0].split("[")[0]): line.split("==")[1]
        for line in _requirement_lines(ROOT / "requirements.lock")
    }
    for line in _requirement_lines(ROOT / "requirements.in"):
        name = _normalize(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0])
        assert name in pinned, f"{name} (requirements.in) is not in requirements.lock"
        exact = re.search(r"==\s*([^\s,;]+)", line)
        if exact:
            assert pinned[name] == exact.group(1), f"{name}: lock {pinned[name]}, wanted {line}"


def test_the_makefile_installs_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    installs = [
        line.strip() for line in makefile.splitlines() if re.search(r"\bpip install\b", line)
    ]
    assert any("-r requirements.lock" in line for line in installs), "make installs the lock"
    target = re.search(r"^\$\(READY\):(.*)$", makefile, re.M)
    assert target and "requirements.lock" in target.group(1), "a changed lock reinstalls"
    others = [
        line
        for line in installs
        if "-r requirements.lock" not in line
        and not ("--no-deps" in line and line.endswith("-e ."))  # the course's own package
        and not re.search(r"--upgrade pip$", line)  # pip itself
        and "requirements.in" not in line  # `make lock` resolves the lock itself
    ]
    assert not others, "installs that bypass requirements.lock:\n  " + "\n  ".join(others)
