"""``waste-harmony compare BASELINE VARIANT`` (issue 19, item 6): run files, paired seeds."""

import textwrap

import pandas as pd

from waste_harmony.cli import main

BASE = """
days = 40
citizens = 200
seed = 5

[city]
generator = "grid"
rows = 4
cols = 4

[scenarios.techcore]
announce_day = 5

[output]
folder = "results/base"
"""


def _files(tmp_path):
    (tmp_path / "base.toml").write_text(textwrap.dedent(BASE))
    policy = BASE.replace(
        "[scenarios.techcore]", "[parameters]\nwaste_per_capita_kg = 0.5\n\n[scenarios.techcore]"
    )
    (tmp_path / "policy.toml").write_text(textwrap.dedent(policy))
    return tmp_path / "base.toml", tmp_path / "policy.toml"


def test_compare_command_pairs_seeds_and_writes_a_table_and_a_figure(tmp_path, capsys):
    base, policy = _files(tmp_path)
    argv = ["compare", str(base), str(policy), "--seeds", "4", "--workers", "1", "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "facility_status = " in printed and "recycling_rate" in printed
    out = tmp_path / "results" / "base-vs-policy"
    summary = pd.read_csv(out / "summary.csv")
    assert (out / "comparison.png").stat().st_size > 10_000
    # less waste per citizen: less waste in the city, an interval that excludes 0
    stock = summary.set_index("variable").loc["waste_stock_kg"]
    assert stock["difference"] < 0 and stock["ci_high"] < 0
    # paired: both arms ran with the same four seeds
    from waste_harmony import load_results

    frame = load_results(out).load(["mean_concern"])
    runs = frame[["label", "replicate", "seed"]].drop_duplicates()
    seeds = runs.pivot(index="replicate", columns="label", values="seed")
    assert (seeds["baseline"] == seeds["variant"]).all() and len(seeds) == 4


def test_compare_command_refuses_unknown_variables_before_running(tmp_path, capsys):
    base, policy = _files(tmp_path)
    argv = ["compare", str(base), str(policy), "--variable", "recycling_rat", "--quiet"]
    assert main(argv) == 2
    assert "'recycling_rat' is not a recorded model variable" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_compare_force_replaces_its_own_table_and_figure(tmp_path, capsys):
    # The table and figure compare writes are the library's files: --force replaces
    # them (after the storage rules, they were "files waste-harmony did not write").
    base, policy = _files(tmp_path)
    argv = ["compare", str(base), str(policy), "--seeds", "2", "--workers", "1", "--days", "3"]
    assert main([*argv, "--quiet"]) == 0
    assert main([*argv, "--quiet", "--force"]) == 0, capsys.readouterr().err
    out = tmp_path / "results" / "base-vs-policy"
    assert (out / "summary.csv").exists() and (out / "comparison.png").exists()
