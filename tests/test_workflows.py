"""The GitHub Actions workflows: the tests run weekly, and so does the book's link check."""

from __future__ import annotations

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def workflow(name: str) -> dict:
    path = WORKFLOWS / name
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on:` as the boolean True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(data: dict) -> list[str]:
    return [step.get("run", "") for job in data["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("name", ["test.yml", "links.yml"])
def test_runs_weekly(name):
    crons = [entry["cron"] for entry in workflow(name)["on"].get("schedule") or []]
    assert crons, f"{name}: no schedule"
    for cron in crons:
        minute, hour, day, month, weekday = cron.split()
        assert (day, month) == ("*", "*") and weekday.isdigit(), (
            f"{name}: {cron!r} is not once a week"
        )


def test_test_workflow_runs_the_readme_command():
    assert any(run.strip() == "make test" for run in steps(workflow("test.yml")))


def test_links_workflow_runs_the_linkcheck_builder():
    runs = "\n".join(steps(workflow("links.yml")))
    assert "-m tools.course" in runs, "the link check must read the staged book"
    assert "jupyter-book build" in runs and "--builder linkcheck" in runs
