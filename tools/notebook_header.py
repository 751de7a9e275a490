"""Write (or check) the Colab badge and the Colab set-up cell of every notebook.

Both are derived from `_config.yml` (repository.url, repository.branch and
colab_install_ref), the one place that says where the course lives. The set-up cell
then prints the Python, TensorFlow and Keras versions that run the notebook, and says
which of them lies outside the ranges the course is tested with (`pyproject.toml`,
read by `helpers.environment`):

    python -m tools.notebook_header           # rewrite the two cells in every notebook
    python -m tools.notebook_header --check   # exit 1 if any notebook disagrees

The badge is the first cell (markdown); the set-up cell is the first code cell.
Both are tagged `remove-cell`, so the book (which has its own launch buttons)
does not show them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "fashion-cnn-course"
BADGE_TAG = "colab-badge"
SETUP_TAG = "colab-setup"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def config(path: Path = ROOT / "_config.yml") -> dict:
    return yaml.safe_load(path.read_text())


def repo_slug(cfg: dict) -> str:
    url = cfg["repository"]["url"].rstrip("/")
    prefix = "https://github.com/"
    if not url.startswith(prefix):
        raise SystemExit(f"repository.url is {url!r}; expected https://github.com/OWNER/NAME")
    return url.removeprefix(prefix)


def badge_source(cfg: dict, notebook: str) -> str:
    """The badge cell's markdown for a notebook file name such as 01_data_preparation.ipynb."""
    branch = cfg["repository"].get("branch", "main")
    target = f"https://colab.research.google.com/github/{repo_slug(cfg)}/blob/{branch}/notebooks/{notebook}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({target})"


def setup_source(cfg: dict) -> str:
    """The set-up cell: installs the helpers on Colab only, and never touches TensorFlow;
    then, everywhere, says which Python, TensorFlow and Keras run the notebook and which of
    them lies outside the versions the course is tested with (helpers.environment)."""
    spec = f"{PACKAGE} @ git+{cfg['repository']['url']}@{cfg['colab_install_ref']}"
    return (
        "# Set-up. On Colab: install this course's helpers (Colab's own TensorFlow and\n"
        "# Keras are kept). In JupyterLab or the book they are installed already.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{spec}"], check=True)\n'
        "\n"
        "# Which Python, TensorFlow and Keras run this notebook, and whether the course is\n"
        "# tested with them.\n"
        "from helpers import environment\n"
        "\n"
        "environment.report()"
    )


def _cell_with_tag(nb, tag):
    for index, cell in enumerate(nb.cells):
        if tag in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def expected_header(cfg: dict, notebook: str):
    badge = nbformat.v4.new_markdown_cell(badge_source(cfg, notebook))
    badge.metadata["tags"] = [BADGE_TAG, "remove-cell"]
    setup = nbformat.v4.new_code_cell(setup_source(cfg))
    setup.metadata["tags"] = [SETUP_TAG, "remove-cell"]
    return badge, setup


def problems(path: Path, cfg: dict) -> list[str]:
    """What is wrong with a notebook's header cells (empty when all is well)."""
    nb = nbformat.read(path, as_version=4)
    badge, setup = expected_header(cfg, path.name)
    found = []
    if not nb.cells or nb.cells[0].source != badge.source:
        found.append(f"{path.name}: the first cell is not the Colab badge {badge.source!r}")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or code[0].source != setup.source:
        found.append(f"{path.name}: the first code cell is not the Colab set-up cell")
    return found


def write(path: Path, cfg: dict) -> bool:
    """Insert or refresh the header cells; return True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    badge, setup = expected_header(cfg, path.name)
    i = _cell_with_tag(nb, BADGE_TAG)
    if i is None:
        nb.cells.insert(0, badge)
    else:
        nb.cells[i].source = badge.source
        nb.cells.insert(0, nb.cells.pop(i))
    j = _cell_with_tag(nb, SETUP_TAG)
    if j is None:
        first_code = next(
            (k for k, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells)
        )
        nb.cells.insert(first_code, setup)
    else:
        nb.cells[j].source = setup.source
    # The kernel is always Python 3; the rest of the metadata (the points of the
    # exercises, under "course") is the notebook's own and stays.
    nb.metadata = {
        **{k: v for k, v in nb.metadata.items() if k not in ("kernelspec", "language_info")},
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    }
    after = nbformat.writes(nb)
    if after != before:
        path.write_text(after + ("" if after.endswith("\n") else "\n"))
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    cfg = config()
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))  # the template too
    if args.check:
        found = [p for path in notebooks for p in problems(path, cfg)]
        print("\n".join(found) or f"{len(notebooks)} notebooks agree with _config.yml")
        return 1 if found else 0
    for path in notebooks:
        if write(path, cfg):
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
