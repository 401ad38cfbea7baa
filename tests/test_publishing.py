"""The publishing path must not rot: CI calls the README's test command, deployment builds the book,
Binder installs a CPU PyTorch and mathcore, and every notebook starts with the same bootstrap cell,
which does nothing (and prints nothing) where mathcore is already importable."""

from __future__ import annotations

import io
import json
import re
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
from first_cell import DEFAULT_SOURCE  # noqa: E402  (tools/first_cell.py holds the one copy of the cell)
from first_cell import SOURCE as BOOTSTRAP  # noqa: E402


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
    # only after the test workflow succeeded on a commit of main, and never cancelling a deploy under way
    run = wf["on"]["workflow_run"]
    assert run["workflows"] == ["test"] and run["types"] == ["completed"] and run["branches"] == ["main"]
    assert "push" not in wf["on"]
    assert "workflow_run.conclusion == 'success'" in wf["jobs"]["build"]["if"]
    checkout = next(s for s in wf["jobs"]["build"]["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert "workflow_run.head_sha" in checkout["with"]["ref"]
    assert wf["concurrency"]["cancel-in-progress"] is False
    assert load("test.yml")["name"] == "test"
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
    # no edit button: the repository ref is the release tag (see below), and a tag cannot be edited
    assert html["use_issues_button"] and html["use_download_button"] and not html["use_edit_page_button"]
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


def run_bootstrap(monkeypatch, missing=(), env=None):
    """Run the cell through IPython's transformer with some modules missing; return (pip lines, namespace)."""
    import importlib.util

    from IPython.core.inputtransformer2 import TransformerManager

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in missing else real_find_spec(name, *a))
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    calls, namespace = [], {}

    class FakeShell:
        def run_line_magic(self, magic, line, *args, **kwargs):
            calls.append((magic, line.format(**namespace)))  # IPython expands {names} from the cell

    namespace["get_ipython"] = FakeShell
    exec(TransformerManager().transform_cell(BOOTSTRAP), namespace)
    return calls, namespace


@pytest.mark.parametrize("missing", ["mathcore", "statsmodels", "IPython"])
def test_bootstrap_cell_installs_what_is_missing_and_keeps_torch(monkeypatch, missing):
    from importlib.metadata import version

    calls, _ = run_bootstrap(monkeypatch, missing=(missing,))
    assert len(calls) == 1 and calls[0][0] == "pip"
    line = calls[0][1]
    assert f'"{DEFAULT_SOURCE}"' in line and "[notebooks]" in line
    assert f"torch=={version('torch')}" in line, "an installed torch (Colab's CUDA build) must be pinned"
    assert "--upgrade" not in line and "--force-reinstall" not in line


def test_bootstrap_cell_source_can_be_overridden(monkeypatch):
    wheel = "mathcore-course[notebooks] @ file:///tmp/dist/mathcore_course-0.2.0-py3-none-any.whl"
    calls, _ = run_bootstrap(monkeypatch, missing=("mathcore",), env={"MATHCORE_INSTALL": wheel})
    assert f'"{wheel}"' in calls[0][1] and DEFAULT_SOURCE not in calls[0][1]


def test_bootstrap_cell_without_torch_lets_pip_choose(monkeypatch):
    import importlib.metadata

    real_version = importlib.metadata.version

    def version(name):
        if name == "torch":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    calls, namespace = run_bootstrap(monkeypatch, missing=("mathcore",))
    assert namespace["keep_torch"] == "" and "torch==" not in calls[0][1]


def test_first_cell_tool_adds_or_updates_the_cell():
    import nbformat
    from first_cell import install_cell

    new = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                          nbformat.v4.new_code_cell("import numpy")])
    assert install_cell(new) and [c.source for c in new.cells] == ["# Title", BOOTSTRAP, "import numpy"]
    assert not install_cell(new)                                  # idempotent
    old = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("try:\n    %pip install mathcore")])
    assert install_cell(old) and [c.source for c in old.cells] == [BOOTSTRAP]


def test_book_config_has_no_execution_options_that_do_nothing():
    """Execution is off (nbval re-executes every notebook before the build): no option may pretend otherwise."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"] == {"execute_notebooks": "off"}
    sphinx_config = config["sphinx"].get("config", {})
    assert not [key for key in sphinx_config if key.startswith("nb_execution")]


def test_licence_files_and_expression():
    import tomllib

    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "Creative Commons Attribution 4.0 International" in (ROOT / "LICENSE-TEXT").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]  # PEP 639


# Majors that run on the runners' current JavaScript runtime (Node 24); older ones are deprecated.
MIN_ACTION_MAJOR = {"actions/checkout": 6, "actions/setup-python": 6, "actions/upload-artifact": 6,
                    "actions/upload-pages-artifact": 5, "actions/deploy-pages": 5}


def test_workflows_use_current_action_majors():
    seen = set()
    for name in ("test.yml", "deploy.yml"):
        for job in load(name)["jobs"].values():
            for step in job["steps"]:
                if "uses" not in step:
                    continue
                action, _, version = step["uses"].partition("@")
                assert action in MIN_ACTION_MAJOR, f"{name}: unknown action {action}: add its minimum major here"
                assert int(version.lstrip("v").split(".")[0]) >= MIN_ACTION_MAJOR[action], f"{name}: {step['uses']}"
                seen.add(action)
    assert seen == set(MIN_ACTION_MAJOR)


def test_ci_uses_the_runners_chromium_instead_of_a_deb():
    """Ubuntu runners have no 'chromium' deb (it is a snap stub); the image ships a Chromium/Chrome binary."""
    steps = run_steps(load("test.yml"))
    assert not any("apt-get install" in step and "chromium" in step for step in steps)
    assert any("GITHUB_ENV" in step and "CHROMIUM=" in step for step in steps)


def test_launch_buttons_and_first_cell_are_pinned_to_the_release_tag_by_one_setting():
    """_config.yml's repository.branch is the one setting: the launch buttons (Binder, Colab) open that
    ref and the first cell installs mathcore from it; at a release it is the tag v<version>."""
    import tomllib

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert config["repository"]["branch"] == f"v{version}"
    assert DEFAULT_SOURCE.endswith(f"@v{version}") and config["repository"]["url"] in DEFAULT_SOURCE
    import nbformat

    for path in NOTEBOOKS:
        first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert first.source == BOOTSTRAP, path.name
