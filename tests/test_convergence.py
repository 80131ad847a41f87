"""``experiments.convergence`` and ``waste-harmony convergence``: small, fast runs."""

import math
import textwrap

import pandas as pd
import pytest

from waste_harmony import experiments
from waste_harmony.city import grid_city
from waste_harmony.cli import build_parser
from waste_harmony.experiments.convergence import converged_size, run_statistics

OUTPUTS = {"mean_concern": "final", "protest_share": "peak", "facility_status": "withdrawn"}


@pytest.fixture(scope="module")
def small_study():
    return experiments.convergence(
        per_district=[2, 6],
        city=grid_city(3, 3),
        outputs=OUTPUTS,
        seeds=3,
        days=4,
        root_seed=7,
        executor="serial",
        progress=False,
    )


def test_every_size_has_an_estimate_in_its_interval_and_paired_differences(small_study):
    r = small_study
    districts = r.districts
    assert districts and r.sizes == [2 * districts, 6 * districts]
    table = r.table
    assert len(table) == len(OUTPUTS) * 2 and set(table["n"]) == {3}
    assert (table["ci_low"] <= table["estimate"] + 1e-12).all()
    assert (table["estimate"] <= table["ci_high"] + 1e-12).all()
    assert table["per_district"].tolist() == [2.0, 6.0] * len(OUTPUTS)
    # The largest size is the reference: it differs from itself by exactly 0.
    largest = table[table["size"] == max(r.sizes)]
    assert (largest["difference"] == 0).all() and largest["agrees"].all()
    # The category is a share of runs with Wilson's interval, never a point at 0 or 1.
    status = table[table["output"] == "facility_status"]
    assert status["category"].all() and (status["ci_high"] > status["estimate"]).all()
    # Every size stood for the same people: the largest size's, one person each.
    manifest = r.result.run(r.result.runs()["run_id"].iloc[0]).manifest
    assert manifest["population"] == pytest.approx(max(r.sizes))
    assert set(r.converged) == set(OUTPUTS)
    summary = r.summary()
    assert summary["output"].tolist() == list(OUTPUTS)
    assert summary["tolerance"].tolist() == [1.1, 1.25, 0.1]


def test_the_figure_has_one_panel_per_output(small_study):
    fig = small_study.plot()
    assert len([ax for ax in fig.axes if ax.has_data()]) == len(OUTPUTS)


def test_statistics_and_the_converged_size():
    frame = pd.DataFrame(
        {"run_id": ["a"] * 3, "day": [0, 1, 2], "x": [5.0, 1.0, 3.0], "s": ["none"] * 3}
    )
    stats = run_statistics(frame, {"x": "mean", "s": "withdrawn"})
    assert stats.loc["a", "x"] == 2.0 and stats.loc["a", "s"] == 0.0  # day 0 left out
    sizes = pd.Series([10, 30, 100, 300])
    assert converged_size(sizes, pd.Series([True, False, True, True])) == 100
    assert math.isnan(converged_size(sizes, pd.Series([True, True, False, True])))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sizes": [100]}, ValueError, "at least two different positive sizes"),
        ({"sizes": [100, 200], "n_citizens": 5}, TypeError, "set by convergence itself"),
        ({"sizes": [100, 200], "per_district": [1, 2]}, TypeError, "one of them"),
        ({"sizes": [100, 200], "outputs": {"nope": "final"}}, ValueError, "unknown output"),
        ({"sizes": [100, 200], "outputs": {"protest_share": "max"}}, ValueError, "statistic"),
    ],
)
def test_bad_requests_are_refused_before_running(kwargs, error, match):
    with pytest.raises(error, match=match):
        experiments.convergence(seeds=2, days=1, executor="serial", progress=False, **kwargs)


def test_cli_runs_a_run_file_and_writes_the_table(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text(
        textwrap.dedent(
            """\
            days = 3
            citizens = 100
            seed = 2

            [city]
            generator = "grid"
            rows = 3
            cols = 3
            """
        )
    )
    out = tmp_path / "out"
    argv = ["convergence", str(path), "--sizes", "40", "120", "--seeds", "2"]
    argv += ["--output", "mean_concern=final", "--workers", "1", "--out", str(out), "--quiet"]
    args = build_parser(load=["convergence"]).parse_args(argv)
    assert args.handler(args) == 0
    printed = capsys.readouterr().out
    assert "mean_concern (final)" in printed and "converged" in printed
    table = pd.read_csv(out / "convergence.csv")
    assert table["size"].tolist() == [40, 120]
    assert (out / "convergence.png").exists()
