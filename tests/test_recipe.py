"""Plans that know their recipe (issue 23, item 2): runs by index, checks per value.

A 10^6-point sweep used to list every run (1.6 GB in the parent, a 196 MB
experiment.json) and check every point (~14 minutes) before its first run. These
tests pin what replaced it: run ``i`` computed from ``i`` with the seed a listed
plan gave it; a grid checked once per value, with exact counts of the points
breaking each rule; an experiment.json whose size does not grow with a grid; and
folders written before (listing every run) still read and resumed.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from waste_harmony import experiments
from waste_harmony.batch.checks import (
    Progress,
    check_plan,
    constraint_links,
    coupled_names,
    grid_problems,
    point_problems,
)
from waste_harmony.batch.identity import fingerprint, fixed_meaning
from waste_harmony.batch.recipe import GridPoints, Plan, PointList, runs_of
from waste_harmony.batch.seeds import plan_seeds
from waste_harmony.batch.store import load_experiment
from waste_harmony.city import grid_city
from waste_harmony.model import CityModel
from waste_harmony.storage import seal


def listed(points, replicates, root, crn=True):
    """The runs as the listing planner made them (every seed spawned at once)."""
    if crn:
        table = [plan_seeds(root, replicates)] * len(points)
    else:
        flat = plan_seeds(root, replicates * len(points))
        table = [flat[p * replicates : (p + 1) * replicates] for p in range(len(points))]
    return [
        {"run_id": f"p{p:04d}-r{r:04d}", "point": p, "replicate": r, "seed": table[p][r],
         "parameters": dict(point)}
        for p, point in enumerate(points)
        for r in range(replicates)
    ]  # fmt: skip


@pytest.mark.parametrize("crn", [True, False])
def test_every_run_computed_by_index_is_the_listed_planners(crn):
    grid = GridPoints.of({"a": [1, 2, 3], "b": ["x", "y"], "c": [0.5, 0.25]})
    plan = Plan.of(grid, 4, root_seed=12, common_random_numbers=crn)
    assert len(plan) == 48 and plan.n_points == 12
    combos = itertools.product([1, 2, 3], ["x", "y"], [0.5, 0.25])
    expected = listed([dict(zip("abc", p, strict=True)) for p in combos], 4, 12, crn)
    assert [plan.entry(i) for i in range(len(plan))] == expected
    assert list(plan) == expected
    with pytest.raises(IndexError, match="not in a plan of 48 runs"):
        plan.entry(48)


def test_a_run_of_a_million_point_grid_is_computed_without_the_others():
    values = np.linspace(0.5, 1.0, 1000).tolist()
    plan = Plan.of(GridPoints.of({"a": values, "b": values}), 3, root_seed=5)
    assert len(plan) == 3_000_000
    entry = plan.entry(2_345_678)
    p, r = divmod(2_345_678, 3)
    assert entry["run_id"] == f"p{p:04d}-r{r:04d}" == "p781892-r0002"
    assert entry["parameters"] == {"a": values[p // 1000], "b": values[p % 1000]}
    assert entry["seed"] == plan_seeds(5, 3)[2]
    # the recipe is the grid's 2,000 values, not 3 million runs
    text = json.dumps(plan.recipe())
    assert len(text) < 60_000
    assert Plan.from_recipe(json.loads(text)) == plan


def test_labels_explicit_seeds_and_branches_name_runs_as_before():
    plan = Plan.of([{"x": 1}, {"x": 2}], [7, 9], root_seed=0, labels=["base", "var"])
    assert list(plan.run_ids()) == ["base-r0000", "base-r0001", "var-r0000", "var-r0001"]
    assert [r["seed"] for r in plan.runs()] == [7, 9, 7, 9]
    branched = Plan.of([{}], 2, root_seed=3, branched=True)
    assert branched.n_runs == 4 and branched.task_ids(1) == ("baseline-r0001", "variant-r0001")
    assert [r["label"] for r in branched.runs()] == ["baseline", "variant"] * 2
    with pytest.raises(ValueError, match="explicit seeds cannot be combined"):
        Plan.of([{}], [1, 2], root_seed=0, common_random_numbers=False)
    with pytest.raises(ValueError, match="seeds repeat"):
        Plan.of([{}], [1, 1], root_seed=0)


def test_explicit_points_keep_their_recipe_and_an_ensemble_its_one_point():
    points = PointList(({"a": 0.1, "k": 3}, {"a": 0.7, "k": 1}))
    assert PointList.from_recipe(json.loads(json.dumps(points.recipe()))) == points
    ensemble = Plan.of([{}], 5, root_seed=1)
    assert Plan.from_recipe(json.loads(json.dumps(ensemble.recipe()))) == ensemble
    assert ensemble.entry(4)["parameters"] == {}


def brute_force(grid, problems):
    """Rule -> (points failing, first point), checking every point."""
    found = {}
    for p, point in enumerate(grid):
        for message in problems(point):
            count, first = found.get(message, (0, p))
            found[message] = (count + 1, first)
    return found


def test_a_grid_is_checked_per_value_with_exact_counts():
    # 'lo <= hi' links lo and hi; 'c' is checked alone
    def problems(point):
        out = []
        if "lo" in point and "hi" in point and point["lo"] > point["hi"]:
            out.append("lo <= hi does not hold")
        if "c" in point and point["c"] < 0:
            out.append("c must be >= 0")
        return out

    grid = GridPoints.of({"lo": [0, 2, 4], "c": [-1, 1, -2, 3], "hi": [1, 3]})
    calls = []

    def counted(point):
        calls.append(point)
        return problems(point)

    groups = coupled_names(grid.names, [("lo", "hi")])
    assert groups == [["lo", "hi"], ["c"]]
    found, bad = grid_problems(grid, counted, groups, Progress(10, "test", show=False))
    assert len(calls) == 3 * 2 + 4  # not 24 points
    expected = brute_force(grid, problems)
    assert {m: (f.count, f.points[0]) for m, f in found.items()} == expected
    assert bad[("c",)] == {(0,), (2,)}


def test_a_million_point_grid_is_checked_with_two_thousand_checks():
    values = np.linspace(0.05, 0.95, 1000).tolist()
    grid = GridPoints.of({"concern_confidence": values, "mobility": values})
    groups = coupled_names(grid.names, constraint_links(grid.names))
    calls = []
    found, _ = grid_problems(
        grid, lambda point: calls.append(point) or [], groups, Progress(2, "x", show=False)
    )
    assert found == {} and len(calls) == 2_000


def test_check_plan_names_every_problem_of_a_grid_with_how_many_points(monkeypatch):
    grid = GridPoints.of(
        {
            "initial_concern_mean": [0.5, 0.9],
            "initial_concern_sd": [0.1, 0.4],
            "mobility": [0.5, 7.0],
        }
    )
    with pytest.raises(ValueError) as error:
        check_plan(CityModel, grid, {"n_citizens": 50, "city": grid_city(3, 3, seed=1)}, 5)
    message = str(error.value)
    assert "2 problems" in message
    # mobility = 7 fails at half the points, the first being point 1
    assert "mobility" in message and "(at 4 of 8 points, the first point 1)" in message
    # sd 0.4 with mean 0.9 breaks the Beta constraint at 2 of 8 points (points 6 and 7)
    assert "initial_concern_sd <" in message and "(at 2 of 8 points, the first point 6)" in message


def test_checking_a_long_list_of_points_shows_progress(capsys):
    progress = Progress(3, "the plan", delay=0.0)
    found = point_problems(
        [{"a": 1}, {"a": -1}, {"a": 2}], lambda p: ["neg"] if p["a"] < 0 else [], progress
    )
    progress.close()
    err = capsys.readouterr().err
    assert "checking the plan: 1 of 3" in err and "checking the plan: 3 checked in" in err
    assert found["neg"].count == 1 and found["neg"].points == [1]
    quiet = Progress(3, "the plan", show=False, delay=0.0)
    quiet.step(3)
    quiet.close()
    assert capsys.readouterr().err == ""


def sweep_grid(out, **options):
    return experiments.sweep(
        parameters={"waste_per_capita_kg": [0.5, 1.0]},
        seeds=2,
        root_seed=4,
        days=2,
        n_citizens=30,
        city=grid_city(3, 3, seed=1),
        executor="serial",
        progress=False,
        out=out,
        **options,
    )


def to_listing_format(folder: Path) -> None:
    """Rewrite experiment.json as the listing planner wrote it (every run, its fingerprint)."""
    manifest = json.loads((folder / "experiment.json").read_text())
    manifest.pop("_sha256", None)
    plan = Plan.from_recipe(manifest.pop("plan"))
    manifest.pop("n_runs")
    runs = list(plan.runs())
    fixed = {"city": grid_city(3, 3, seed=1), "n_citizens": 30}
    manifest["runs"] = runs
    manifest["fingerprint"] = fingerprint(
        "sweep", CityModel, fixed_meaning(CityModel, fixed), 2, runs, None
    )
    (folder / "experiment.json").write_text(json.dumps(seal(manifest), indent=1, sort_keys=True))


def test_experiment_json_holds_the_recipe_and_old_folders_are_read_and_resumed(tmp_path):
    first = sweep_grid(tmp_path / "a")
    manifest = json.loads((tmp_path / "a" / "experiment.json").read_text())
    assert "runs" not in manifest and manifest["plan"]["points"]["grid"] == [
        ["waste_per_capita_kg", [0.5, 1.0]]
    ]
    expected = first.to_pandas()

    old = tmp_path / "old"
    sweep_grid(old)
    to_listing_format(old)
    assert "runs" in json.loads((old / "experiment.json").read_text())
    reread = load_experiment(old)
    assert isinstance(runs_of(reread.manifest), type(runs_of({"runs": []})))
    assert reread.n_runs == 4 and reread.n_finished == 4
    assert reread.runs().drop(columns="status").equals(first.runs().drop(columns="status"))
    assert reread.to_pandas().equals(expected)
    # resume: the listing folder's fingerprint is recognised, nothing runs again
    resumed = sweep_grid(old, resume=True)
    assert resumed.manifest["skipped_on_resume"] == 4 and resumed.to_pandas().equals(expected)
    assert "plan" in json.loads((old / "experiment.json").read_text())  # now in the new format
    # a different experiment is still refused, naming the old folder's number of runs
    to_listing_format(old)
    with pytest.raises(ValueError, match=r"holds a different experiment \(sweep, 4 runs"):
        experiments.sweep(
            parameters={"waste_per_capita_kg": [0.5, 0.9]}, seeds=2, root_seed=4, days=2,
            n_citizens=30, city=grid_city(3, 3, seed=1), executor="serial", progress=False,
            out=old, resume=True,
        )  # fmt: skip


def test_a_grid_and_its_listed_points_give_identical_results(tmp_path):
    by_recipe = sweep_grid(tmp_path / "grid")
    listed_points = experiments.sweep(
        parameters=[{"waste_per_capita_kg": 0.5}, {"waste_per_capita_kg": 1.0}],
        seeds=2, root_seed=4, days=2, n_citizens=30, city=grid_city(3, 3, seed=1),
        executor="serial", progress=False, out=tmp_path / "list",
    )  # fmt: skip
    assert by_recipe.to_pandas().equals(listed_points.to_pandas())
