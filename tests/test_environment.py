"""Is environment.yml in step with pyproject.toml, and are the two commands wired up?"""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def requirement_names(reqs):
    """{normalised name: version spec} from PEP 508 strings (extras dropped)."""
    out = {}
    for req in reqs:
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", req)
        out[m.group(1).lower().replace("_", "-")] = m.group(3).strip()
    return out


def load():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.extend(dep["pip"])
        else:
            conda.append(dep)
    return project, env, requirement_names(conda), pip


def test_runtime_and_test_dependencies_match():
    """Does environment.yml list every runtime and test dependency with the same version spec?"""
    project, _, conda, pip = load()
    wanted = requirement_names(project["dependencies"])
    wanted.update(requirement_names(project["optional-dependencies"]["test"]))
    in_env = dict(conda, **requirement_names(p for p in pip if not p.startswith("-")))
    for name, spec in wanted.items():
        assert name in in_env, f"{name} is in pyproject.toml but not in environment.yml"
        assert in_env[name] == spec, (
            f"{name}: pyproject says {spec!r}, environment.yml {in_env[name]!r}"
        )
    extra = set(conda) - set(wanted) - {"python", "pip"}
    assert not extra, f"environment.yml has {sorted(extra)} that pyproject.toml does not"


def test_python_version_and_self_install_match():
    """Is the Python floor the same, and does the environment install the kit itself with pip?"""
    project, env, conda, pip = load()
    assert conda["python"] == project["requires-python"]
    assert "-e ." in pip
    assert env["channels"] == ["conda-forge"]


def test_gpu_extra_is_a_commented_line_in_the_environment():
    """Is CuPy optional in both: a `gpu` extra and a commented conda line?"""
    project, _, conda, _ = load()
    assert any(r.startswith("cupy") for r in project["optional-dependencies"]["gpu"])
    assert "cupy" not in conda
    assert re.search(r"^\s*#\s*- cupy", (ROOT / "environment.yml").read_text(), re.M)


def test_ci_runs_make_test_and_readme_shows_both_commands():
    """Does .ci/run call `make test`, and does the README show `make demo` and `make test` first?"""
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make demo") < readme.index("## ")
    assert readme.index("make test") < readme.index("## ")
