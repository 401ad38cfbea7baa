"""The publishing path must not rot: CI calls the README's test command, deployment builds the book,
Binder installs a CPU PyTorch and mathcore, and every notebook starts with the same bootstrap cell,
which does nothing (and prints nothing) where mathcore is already importable."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
BOOTSTRAP = (
    "# Make this notebook self-sufficient (Colab, Binder, a fresh download): install mathcore if it is missing.\n"
    "try:\n"
    "    import mathcore\n"
    "except ImportError:\n"
    '    %pip install --quiet "mathcore @ git+https://github.com/mathcore-course/logistic-regression-book"\n'
    "    import mathcore"
)


def readme_test_command() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^(make test)\s+#", text, flags=re.M)
    assert match, "README.md must show `make test` as the test command"
    return match.group(1)


def run_steps(workflow: dict) -> list[str]:
    steps = []
    for job in workflow["jobs"].values():
        steps += [step.get("run", "") for step in job.get("steps", [])]
    return steps


def load(name: str) -> dict:
    path = WORKFLOWS / name
    assert path.exists(), f"{path} is missing"
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_ci_workflow_runs_the_readme_test_command_on_push_and_pr():
    wf = load("test.yml")
    assert {"push", "pull_request"} <= set(wf["on"])
    command = readme_test_command()
    assert any(command in step for step in run_steps(wf)), f"test.yml never runs `{command}`"


def test_ci_entry_point_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert readme_test_command() in script and "chromium" in script


def test_deploy_workflow_builds_and_publishes_main():
    wf = load("deploy.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert any("make book" in step for step in run_steps(wf))
    uses = [s.get("uses", "") for job in wf["jobs"].values() for s in job.get("steps", [])]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    upload = next(s for job in wf["jobs"].values() for s in job["steps"]
                  if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"


def test_book_config_has_repository_buttons_and_launchers():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"].startswith("https://github.com/")
    html = config["html"]
    assert html["use_edit_page_button"] and html["use_issues_button"] and html["use_download_button"]
    launch = config["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["colab_url"] == "https://colab.research.google.com"
    extensions = config["sphinx"]["extra_extensions"]
    assert "sphinx_sitemap" in extensions and "notfound.extension" in extensions


def test_binder_installs_cpu_torch_and_mathcore():
    reqs = (ROOT / "binder" / "requirements.txt").read_text()
    assert "download.pytorch.org/whl/cpu" in reqs and re.search(r"^torch==[\d.]+\+cpu$", reqs, re.M)
    pinned = re.search(r"^torch==([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert f"torch=={pinned}+cpu" in reqs, "binder and requirements.txt pin different torch versions"
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_the_bootstrap_cell(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert cells, f"{path.name} has no code cells"
    first = cells[0]
    assert "".join(first["source"]) == BOOTSTRAP, f"{path.name}: the first code cell is not the bootstrap cell"
    assert first["outputs"] == [], f"{path.name}: the bootstrap cell printed something in the project environment"


def test_bootstrap_cell_is_a_no_op_where_mathcore_imports(monkeypatch):
    """Run the cell through IPython's transformer: no pip call, no output."""
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(BOOTSTRAP)
    calls = []

    class FakeShell:
        def run_line_magic(self, *args, **kwargs):
            calls.append(args)

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        exec(python, {"get_ipython": FakeShell})
    assert calls == [] and out.getvalue() == "" and err.getvalue() == ""


def test_bootstrap_cell_installs_where_mathcore_is_missing(monkeypatch):
    """And where mathcore cannot be imported, it asks pip for it (then imports it)."""
    import builtins

    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(BOOTSTRAP)
    calls = []
    real_import = builtins.__import__
    state = {"installed": False}

    def fake_import(name, *args, **kwargs):
        if name == "mathcore" and not state["installed"]:
            raise ImportError("No module named 'mathcore'")
        return real_import(name, *args, **kwargs)

    class FakeShell:
        def run_line_magic(self, magic, line, *args, **kwargs):
            calls.append((magic, line))
            state["installed"] = True

    monkeypatch.setattr(builtins, "__import__", fake_import)
    exec(python, {"get_ipython": FakeShell})
    assert calls and calls[0][0] == "pip" and "git+https://github.com/" in calls[0][1]
