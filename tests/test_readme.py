"""The README's code runs as written, and it shows the two commands."""

import re
from pathlib import Path

import matplotlib.pyplot as plt

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_shows_the_two_commands():
    commands = [
        line.split("#")[0].strip() for block in blocks("bash") for line in block.splitlines()
    ]
    assert "bash scripts/example.sh" in commands
    assert "bash scripts/test.sh" in commands
    for script in ("scripts/example.sh", "scripts/test.sh"):
        assert (README.parent / script).exists()


def test_readme_figure_exists():
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text()):
        assert (README.parent / image).exists(), image


def test_readme_python_blocks_run_as_written(tmp_path, monkeypatch, capsys):
    code = blocks("python")
    assert code, "the README should show a Python example"
    assert all(len(block.strip().splitlines()) <= 12 for block in code)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    for block in code:
        exec(compile(block, str(README), "exec"), namespace)
    plt.close("all")
    assert "mean_concern" in capsys.readouterr().out
    assert (tmp_path / "year.png").exists()


def test_readme_opens_the_notebooks_with_the_notebook_extra():
    import tomllib

    pyproject = tomllib.loads((README.parent / "pyproject.toml").read_text())
    extras = pyproject["project"]["optional-dependencies"]
    assert any(req.startswith("jupyterlab") for req in extras["notebook"])
    line = 'pip install -e ".[notebook]" && jupyter lab examples/notebooks'
    assert line in README.read_text()
    assert (README.parent / "examples" / "notebooks").is_dir()
