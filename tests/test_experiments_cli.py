"""Sweep files and the ``waste-harmony sweep`` subcommand."""

import textwrap

import pytest

from waste_harmony.cli import build_parser
from waste_harmony.config import ConfigError
from waste_harmony.config.sweep import load_sweep_file, parse_sweep_config
from waste_harmony.experiments import load_experiment

SWEEPFILE = """\
days = 6
citizens = 120
seed = 3

[city]
generator = "grid"
rows = 3
cols = 3

[parameters]
concern_confidence = 0.3

[sweep]
seeds = 2

[sweep.grid]
waste_per_capita_kg = [0.5, 1.0]
"""


def _parse(argv):
    return build_parser(load=["sweep"]).parse_args(argv)


def _write(tmp_path, text=SWEEPFILE, name="sweep.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_sweep_command_runs_resumes_and_refuses_to_clobber(tmp_path, capsys):
    path = _write(tmp_path)
    out = tmp_path / "out"
    args = _parse(["sweep", str(path), "--workers", "1", "--out", str(out), "--quiet"])
    assert args.handler(args) == 0
    printed = capsys.readouterr().out
    assert "4 of 4 runs finished (0 skipped" in printed
    # issue 19, item 6: a summary table at the end, a column per point, categories too
    assert "waste_per_capita_kg=0.5" in printed and "waste_per_capita_kg=1" in printed
    assert "facility_status = none" in printed and "recycling_rate" in printed
    result = load_experiment(out)
    frame = result.load("waste_generated_kg")
    assert sorted(set(frame["waste_per_capita_kg"])) == [0.5, 1.0]
    assert result.manifest["root_seed"] == 3  # the file's seed roots the sweep
    manifest = result.run("p0000-r0000").manifest
    assert manifest["parameters"]["concern_confidence"] == 0.3
    assert manifest["parameters"]["waste_per_capita_kg"] == 0.5 and manifest["n_citizens"] == 120
    with pytest.raises(ConfigError, match="--resume"):
        args.handler(args)
    resumed = _parse(
        ["sweep", str(path), "--workers", "1", "--out", str(out), "--quiet", "--resume"]
    )
    assert resumed.handler(resumed) == 0
    assert "(4 skipped" in capsys.readouterr().out


def test_a_sweep_of_many_points_prints_a_table_that_fits(tmp_path, capsys):
    """Of 8 points, the first and last 3 beside a '…' column, and how to see them all."""
    many = SWEEPFILE.replace("citizens = 120", "citizens = 20").replace(
        "waste_per_capita_kg = [0.5, 1.0]", "waste_per_capita_kg = [0.5, 0.6, 0.7, 0.8]"
    )
    many = many.replace("seeds = 2", "seeds = 1") + "concern_convergence = [0.1, 0.2]\n"
    out = tmp_path / "out"
    args = _parse(["sweep", str(_write(tmp_path, many)), "--out", str(out), "--quiet"])
    assert args.handler(args) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if "waste_per_capita_kg=" in line)
    assert header.count("waste_per_capita_kg=") == 6 and " … " in f"{header} "
    assert "waste_per_capita_kg=0.5, concern_convergence=0.1" in header
    assert "waste_per_capita_kg=0.8, concern_convergence=0.2" in header
    assert "(6 of 8 points shown; all of them, every day: waste_harmony.load_results(" in printed


def test_sweep_file_key_paths_in_errors(tmp_path):
    bad = SWEEPFILE.replace("waste_per_capita_kg = [0.5, 1.0]", "waste_per_capita = [0.5, 1.0]")
    with pytest.raises(ConfigError, match="did you mean 'waste_per_capita_kg'") as info:
        load_sweep_file(_write(tmp_path, bad))
    assert info.value.key == "sweep.grid.waste_per_capita"
    with pytest.raises(ConfigError) as info:
        load_sweep_file(_write(tmp_path, SWEEPFILE.replace("[0.5, 1.0]", "[0.5, -1.0]")))
    assert info.value.key == "sweep.grid.waste_per_capita_kg[1]" and "out of range" in str(
        info.value
    )
    with pytest.raises(ConfigError) as info:
        load_sweep_file(_write(tmp_path, SWEEPFILE.replace("seeds = 2", "seeds = 0")))
    assert info.value.key == "sweep.seeds"
    with pytest.raises(ConfigError) as info:
        parse_sweep_config({"days": 3})
    assert info.value.key == "sweep"
    with pytest.raises(ConfigError) as info:
        parse_sweep_config({"sweep": {"grid": {"citizens": [10]}, "sample": {"n": 2}}})
    assert "not both" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_sweep_config({"sweep": {"grid": {"scenarios.techcore.day": [3]}}})
    assert info.value.key == "sweep.grid.scenarios.techcore.day"


def test_sample_table_draws_a_latin_hypercube():
    config = parse_sweep_config(
        {
            "sweep": {
                "seeds": 3,
                "root_seed": 5,
                "sample": {
                    "n": 6,
                    "integers": ["citizens"],
                    "ranges": {"bass_q": [0.1, 0.6], "citizens": [50, 80]},
                },
            }
        }
    )
    assert config.n_runs == 18 and len(config.points) == 6
    q = sorted(p["bass_q"] for p in config.points)
    # one point in each sixth of the range (Latin hypercube stratification)
    assert [int((v - 0.1) / (0.5 / 6)) for v in q] == list(range(6))
    assert all(isinstance(p["citizens"], int) and 50 <= p["citizens"] <= 80 for p in config.points)


def test_missing_output_folder_is_a_config_error(tmp_path):
    args = _parse(["sweep", str(_write(tmp_path)), "--workers", "1"])
    with pytest.raises(ConfigError) as info:
        args.handler(args)
    assert info.value.key == "output.folder"
