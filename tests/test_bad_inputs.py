"""A catalogue of bad inputs: each gets a clear error, never a traceback or a silent misreading.

Three tables: the Python API (expected exception type and a message fragment), the
command line through :func:`waste_harmony.cli.main` (exit status 2, one line on
stderr with a fragment, no traceback) and files (run files, sweep files, GraphML,
results folders) read by the library. A prepared results folder must be
byte-for-byte untouched by every bad call aimed at it.

Counts (issues 11, 18 and 22): 166 catalogued bad inputs (62 Python API, 32 files, 72
command line), plus the untouched-folder check (8 bad calls), ``--debug``, a defect's
status 1 and out-of-memory. The environment's failures (a full disk, a read-only file
system, a file size limit, a refused permission, a cross-device rename) and killed
sweeps are tested for real in ``test_nothing_lost.py``. The property tests
(``test_properties.py``) run 25 examples of the balance/shares/finiteness property and 8
each of same-seed and ``copy()``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from waste_harmony import CityModel, experiments, load_results
from waste_harmony.city import grid_city, load_city
from waste_harmony.cli import main
from waste_harmony.config import ConfigError, load_run_file, parse_run_config
from waste_harmony.config.sweep import load_sweep_file
from waste_harmony.results import RunResult
from waste_harmony.scenarios import available

RUN = 'seed = 1\ndays = 5\ncitizens = 200\n[city]\ngenerator = "grid"\nrows = 3\ncols = 3\n'

#: name → file text, written into the workspace (``folder/`` names make folders).
FILES = {
    "ok.toml": RUN,
    "syntax.toml": "seed = \n",
    "multi.toml": (
        'days = "x"\ncitizens = -5\ncolour = 3\n[city]\ngenerator = "gridd"\n'
        "[parameters]\nwaste_per_capita_kgg = 1\nconcern_confidence = 7\n"
    ),
    "festival.toml": RUN + "[scenarios.harmony-festival]\nday = 100\n",
    "unknown_scenario.toml": RUN + "[scenarios.techcor]\n",
    "scenario_param.toml": RUN + "[scenarios.techcore]\nanounce_day = 3\n",
    "joint.toml": RUN + "[parameters]\ninitial_concern_mean = 0.1\ninitial_concern_sd = 0.4\n",
    "inf.toml": RUN + "[parameters]\nmobility = inf\n",
    "output_flag.toml": RUN + '[output]\nfigures = "no"\n',
    "seed_neg.toml": RUN.replace("seed = 1", "seed = -1"),
    "graphml_missing.toml": 'days = 5\ncitizens = 100\n[city]\ngraphml = "nowhere.graphml"\n',
    "graphml_bad.toml": 'days = 5\ncitizens = 100\n[city]\ngraphml = "bad.graphml"\n',
    "bad.graphml": '<graphml><node id="a"',
    "not_graphml.graphml": "just text\n",
    "dup_node.graphml": (
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="undirected">'
        '<node id="a"/><node id="b"/><node id="a"/><edge source="a" target="b"/></graph></graphml>'
    ),
    "edge_end.graphml": (
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="undirected">'
        '<node id="a"/><node id="b"/><edge source="a" target="zz"/></graph></graphml>'
    ),
    "sweep_ok.toml": RUN + "[sweep]\nseeds = 2\n",
    "sweep_none.toml": RUN,
    "sweep_key.toml": RUN + "[sweep]\nseeds = 2\nparameters = 3\n",
    "sweep_grid.toml": (
        RUN
        + "[sweep]\n[sweep.grid]\nwaste_per_capita_kgg = [1, 2]\nconcern_confidence = [0.1, 7]\n"
    ),
    "sweep_joint.toml": (
        RUN
        + "[sweep]\n[sweep.grid]\ninitial_concern_mean = [0.1]\ninitial_concern_sd = [0.1, 0.4]\n"
    ),
    "sweep_lhs.toml": (
        RUN + "[sweep]\n[sweep.sample]\nn = 20\n[sweep.sample.ranges]\n"
        "initial_concern_mean = [0.05, 0.9]\ninitial_concern_sd = [0.05, 0.4]\n"
    ),
    "sweep_lhs_bounds.toml": (
        RUN + "[sweep]\n[sweep.sample]\nn = 4\n[sweep.sample.ranges]\nmobility = [0.9, 0.1]\n"
    ),
    "sweep_lhs_int.toml": (
        RUN + "[scenarios.techcore]\n[sweep]\n[sweep.sample]\nn = 4\n[sweep.sample.ranges]\n"
        '"scenarios.techcore.review_interval_days" = [1, 6]\n'
    ),
    "sweep_both.toml": (
        RUN + "[sweep]\n[sweep.grid]\nmobility = [0.1]\n[sweep.sample]\nn = 2\n"
        "[sweep.sample.ranges]\nmobility = [0.1, 0.2]\n"
    ),
    "sweep_seeds.toml": RUN + '[sweep]\nseeds = "12"\n',
    "sweep_badcity.toml": (
        'days = 5\ncitizens = 100\n[city]\ngraphml = "bad.graphml"\n[sweep]\nseeds = 2\n'
    ),
    "sweep_festival.toml": RUN + "[scenarios.harmony-festival]\nday = 100\n[sweep]\nseeds = 2\n",
    "latin1.toml": "# caf\xe9\n",
    "grid_float.toml": RUN.replace("rows = 3", "rows = 1e9"),
    "a_file": "not a folder\n",
    "dir.toml/": "",
    "empty_results/": "",
    "truncated/manifest.json": '{"days": ',
    "experiment/experiment.json": '{"kind": "sweep", ',
    "manifest_dir/manifest.json/": "",
    # two squares of about 1 km, 3 km apart (lon/lat): a layer in two pieces
    "pieces.geojson": (
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"id": 1}, "geometry": {"type": "Polygon", '
        '"coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]]]}}, '
        '{"type": "Feature", "properties": {"id": 2}, "geometry": {"type": "Polygon", '
        '"coordinates": [[[0.04, 0], [0.05, 0], [0.05, 0.01], [0.04, 0.01], [0.04, 0]]]}}]}'
    ),
    "pieces.toml": RUN.split("[city]")[0] + '[city]\nfile = "pieces.geojson"\nid_column = "id"\n',
    # issue 22
    "userfiles/thesis.md": "years of work\n",
    "userfiles/map.py": "print('mine')\n",
    "own_folder.toml": RUN + '[output]\nfolder = "."\n',
    "empty_folder.toml": RUN + '[output]\nfolder = ""\n',
    "graphml_empty.toml": 'days = 5\ncitizens = 100\n[city]\ngraphml = ""\n',
    "text_ids.toml": (
        'days = 3\ncitizens = 40\n[city]\ngraphml = "text_ids.graphml"\n'
        "[scenarios.harmony-festival]\nday = 2\nplaza = 0\n"
    ),
    "number_ids.toml": RUN + '[scenarios.techcore]\nannounce_day = 2\nsite = "3"\n',
    "calib.toml": (
        RUN + '[calibration]\nobserved = "observed.csv"\nbudget = 8\n'
        'method = "abc-smc"\npopulation = 4\n'
        "[calibration.priors]\nconcern_convergence = [0.0, 0.5]\n"
    ),
    "observed.csv": "day,variable,value\n2,mean_concern,0.4\n",
}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    for name, text in FILES.items():
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="latin-1" if name.startswith("latin1") else "utf-8")
    _text_ids_graphml(root / "text_ids.graphml")
    (root / "broken_link").symlink_to(root / "nowhere_at_all")
    return root


def _text_ids_graphml(path):
    """A GraphML file as another tool writes it: node ids "0", "1", ... (text)."""
    import networkx as nx

    G = grid_city(2, 3, seed=1)
    H = nx.Graph()
    for node, data in G.nodes(data=True):
        H.add_node(str(node), x=data["pos"][0], y=data["pos"][1], zone=data["zone"])
    H.add_edges_from((str(u), str(v)) for u, v in G.edges)
    nx.write_graphml(H, path)


@pytest.fixture(scope="module")
def damaged(work):
    """Results changed after they were written: a run, an experiment, an edited manifest."""
    import json
    import shutil

    run = work / "damaged_run"
    assert main(["run", str(work / "ok.toml"), "--out", str(run), "--quiet", "--no-figures"]) == 0
    edited = work / "edited_run"
    shutil.copytree(run, edited)
    (run / "events.parquet").write_bytes(b"garbage")
    manifest = json.loads((edited / "manifest.json").read_text())
    manifest["seed"] = 99
    (edited / "manifest.json").write_text(json.dumps(manifest))
    experiment = work / "damaged_sweep"
    argv = ["sweep", str(work / "sweep_ok.toml"), "--out", str(experiment), "--workers", "1"]
    assert main([*argv, "--quiet"]) == 0
    (experiment / "runs" / "p0000-r0001" / "model.parquet").write_bytes(b"garbage")
    edited_sweep = work / "edited_sweep"
    assert main(["sweep", str(work / "sweep_ok.toml"), "--out", str(edited_sweep), "--quiet",
                 "--workers", "1"]) == 0  # fmt: skip
    plan = json.loads((edited_sweep / "experiment.json").read_text())
    plan["plan"]["root_seed"] += 1  # a seed of the plan edited by hand
    (edited_sweep / "experiment.json").write_text(json.dumps(plan))
    return work


@pytest.fixture(scope="module")
def results(work):
    """A complete results folder written by ``waste-harmony run``."""
    folder = work / "results"
    assert (
        main(["run", str(work / "ok.toml"), "--out", str(folder), "--quiet", "--no-figures"]) == 0
    )
    return folder


def _festival(**values):
    return available()["harmony-festival"](**values)


def _text_city():
    """A small city whose node ids are text ("0", "1", ...), as from another tool's GraphML."""
    import networkx as nx

    return nx.relabel_nodes(grid_city(3, 3, seed=1), str)


def _techcore(**values):
    return available()["techcore"](**values)


def _result():
    model = CityModel(grid_city(3, 3, seed=1), n_citizens=50, rng=1)
    model.run_for(1)
    return RunResult.from_model(model)


def _observed():
    import pandas as pd

    return pd.DataFrame({"day": [2], "variable": ["mean_concern"], "value": [0.4]})


def _declared(unit):
    G = grid_city(3, 3, seed=1)
    G.graph["units"] = unit
    return G


def _in_pieces():
    G = grid_city(3, 3, seed=1)
    island = grid_city(2, 3, seed=2)
    for node, data in island.nodes(data=True):
        G.add_node(100 + node, **{**data, "pos": (data["pos"][0] + 5.0, data["pos"][1])})
    G.add_edges_from((100 + u, 100 + v) for u, v in island.edges)
    return G


def _squares(**options):
    """from_districts on two unit squares 3 km apart (no CRS unless given)."""
    import geopandas as gpd
    import shapely

    from waste_harmony.city import from_districts

    frame = gpd.GeoDataFrame(
        {"id": [1, 2]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(4, 0, 5, 1)]
    )
    return from_districts(frame, id_column="id", **options)


def _linked(value, attr="length_km"):
    """A small city whose links all carry ``attr = value``."""
    G = grid_city(3, 3, seed=1)
    for u, v in G.edges:
        G.edges[u, v][attr] = value
    return G


# ------------------------------------------------------------------------ the Python API
SMALL = {"n_citizens": 100}
API = [
    # CityModel arguments
    ("model-unknown-param", lambda: CityModel(mobilty=0.1), TypeError, "did you mean 'mobility'"),
    ("model-seed-and-rng", lambda: CityModel(seed=1, rng=2), ValueError, "rng"),
    ("model-param-range", lambda: CityModel(concern_confidence=7), ValueError, "out of range"),
    ("model-param-nan", lambda: CityModel(mobility=float("nan")), ValueError, "not finite"),
    ("model-param-inf", lambda: CityModel(mobility=float("inf")), ValueError, "not finite"),
    ("model-param-kind", lambda: CityModel(mobility="high"), TypeError, "mobility"),
    (
        "model-joint",
        lambda: CityModel(initial_concern_mean=0.1, initial_concern_sd=0.4),
        ValueError,
        "initial_concern_sd",
    ),
    ("model-citizens-neg", lambda: CityModel(n_citizens=-1), ValueError, "n_citizens"),
    ("model-citizens-float", lambda: CityModel(n_citizens=10.5), TypeError, "n_citizens"),
    ("model-citizens-str", lambda: CityModel(n_citizens="100"), TypeError, "n_citizens"),
    ("model-days-neg", lambda: CityModel(days=-2, **SMALL), ValueError, "days"),
    ("model-rng-neg", lambda: CityModel(rng=-1, **SMALL), ValueError, "non-negative"),
    ("model-rng-huge", lambda: CityModel(rng=2**64, **SMALL), ValueError, "below 2**63"),
    ("run-seed-huge", lambda: experiments.run(days=2, seed=2**63, **SMALL), ValueError, "2**63"),
    (
        "ensemble-seeds-huge",
        lambda: experiments.ensemble(days=2, seeds=[1, 2**64], executor="serial", **SMALL),
        ValueError,
        "below 2**63",
    ),
    (
        "ensemble-seeds-repeat",
        lambda: experiments.ensemble(days=2, seeds=[4, 5, 4], executor="serial", **SMALL),
        ValueError,
        "seeds repeat [4]",
    ),
    ("city-grid-float", lambda: grid_city(2.5, 4), TypeError, "whole number"),
    ("city-link-length-neg", lambda: CityModel(_linked(-1.0), **SMALL), ValueError, "length_km"),
    ("city-link-length-nan", lambda: CityModel(_linked(np.nan), **SMALL), ValueError, "finite"),
    (
        "city-link-border-str",
        lambda: CityModel(_linked("0.2", "border_km"), **SMALL),
        ValueError,
        "border_km",
    ),
    (
        "city-units-declared-m",
        lambda: CityModel(_declared("m"), **SMALL),
        ValueError,
        "declares G.graph['units'] = 'm'",
    ),
    (
        "city-region-undeclared",
        lambda: CityModel(grid_city(10, 10, spacing_km=60.0, seed=1), **SMALL),
        ValueError,
        'declare it with G.graph["units"] = "km"',
    ),
    (
        "city-in-pieces",
        lambda: CityModel(_in_pieces(), **SMALL),
        ValueError,
        "G = waste_harmony.city.connect_pieces(G)",
    ),
    ("districts-snap-neg", lambda: _squares(unit_km=1.0, snap_km=-0.001), ValueError, "snap_km"),
    (
        "districts-min-border-str",
        lambda: _squares(unit_km=1.0, min_border_km="10 m"),
        ValueError,
        "min_border_km must be a number of km",
    ),
    (
        "districts-connect-unknown",
        lambda: _squares(unit_km=1.0, connect="bridge"),
        ValueError,
        "connect='nearest'",
    ),
    (
        "districts-no-crs-lonlat",
        lambda: _squares(),
        ValueError,
        "probably longitude/latitude: crs='EPSG:4326'",
    ),
    ("model-rng-float", lambda: CityModel(rng=1.5, **SMALL), TypeError, "rng"),
    ("model-rng-str", lambda: CityModel(rng="7", **SMALL), TypeError, "rng"),
    (
        "model-record-str",
        lambda: CityModel(record_neighborhoods="no", **SMALL),
        TypeError,
        "True or False",
    ),
    ("model-city-kind", lambda: CityModel(city=[1, 2], **SMALL), TypeError, "networkx"),
    ("model-scenario-name", lambda: CityModel(scenarios=["techcor"]), ValueError, "techcore"),
    ("model-scenario-kind", lambda: CityModel(scenarios=[3], **SMALL), TypeError, "scenario"),
    (
        "model-scenario-mapping-key",
        lambda: CityModel(scenarios={"harmony-festival": {"dy": 3}}, **SMALL),
        TypeError,
        "did you mean 'day'",
    ),
    (
        "model-scenario-mapping-value",
        lambda: CityModel(scenarios={"harmony-festival": 3}, **SMALL),
        TypeError,
        "dict of the scenario's parameters",
    ),
    (
        "model-scenario-day",
        lambda: CityModel(scenarios=[_festival(day=100)], days=30, **SMALL),
        ValueError,
        "beyond the run",
    ),
    (
        "model-scenario-twice",
        lambda: CityModel(scenarios=["harmony-festival", "harmony-festival"], **SMALL),
        ValueError,
        "twice",
    ),
    ("model-citizen-class", lambda: CityModel(citizen_class=int, **SMALL), TypeError, "Citizen"),
    ("run-for-negative", lambda: CityModel(**SMALL, rng=1).run_for(-3), ValueError, "backwards"),
    ("run-for-float", lambda: CityModel(**SMALL, rng=1).run_for(1.5), TypeError, "whole number"),
    ("scenario-range", lambda: _festival(concern_gain=5).check_parameters(), ValueError, "gain"),
    # experiments
    ("run-days-missing", lambda: experiments.run(**SMALL), TypeError, "days is required"),
    ("run-days-zero", lambda: experiments.run(days=0, **SMALL), ValueError, "days"),
    ("run-rng-kwarg", lambda: experiments.run(days=2, rng=1, **SMALL), TypeError, "root_seed"),
    ("run-seed-neg", lambda: experiments.run(days=2, seed=-1, **SMALL), ValueError, "seed must be"),
    (
        "run-unknown-param",
        lambda: experiments.run(days=2, mobilty=0.1, **SMALL),
        ValueError,
        "did you mean 'mobility'",
    ),
    (
        "run-festival-day",
        lambda: experiments.run(days=30, scenarios=[_festival(day=100)], **SMALL),
        ValueError,
        "beyond the run",
    ),
    (
        "ensemble-seeds-str",
        lambda: experiments.ensemble(days=2, seeds="12", executor="serial", **SMALL),
        TypeError,
        "seeds=[1, 2]",
    ),
    (
        "ensemble-seeds-float",
        lambda: experiments.ensemble(days=2, seeds=[1.5, 2], executor="serial", **SMALL),
        TypeError,
        "non-negative integers",
    ),
    (
        "ensemble-seeds-zero",
        lambda: experiments.ensemble(days=2, seeds=0, executor="serial", **SMALL),
        ValueError,
        ">= 1",
    ),
    (
        "sweep-every-problem",
        lambda: experiments.sweep(
            parameters={"waste_per_capita_kgg": [1], "concern_confidence": [0.2, 5]},
            days=2,
            executor="serial",
            progress=False,
            **SMALL,
        ),
        ValueError,
        "2 problems",
    ),
    (
        "sweep-joint",
        lambda: experiments.sweep(
            parameters={"initial_concern_mean": [0.1], "initial_concern_sd": [0.1, 0.4]},
            days=2,
            executor="serial",
            progress=False,
            **SMALL,
        ),
        ValueError,
        "at point 1 of 2",
    ),
    (
        "sweep-festival-day",
        lambda: experiments.sweep(
            parameters={"mobility": [0.1, 0.2]},
            scenarios=[_festival(day=100)],
            days=30,
            executor="serial",
            progress=False,
            **SMALL,
        ),
        ValueError,
        "beyond the run",
    ),
    (
        "sweep-parameters-str",
        lambda: experiments.sweep(parameters="mobility", days=2, **SMALL),
        TypeError,
        "grid",
    ),
    (
        "sensitivity-joint",
        lambda: experiments.sensitivity(
            {"initial_concern_mean": (0.05, 0.9), "initial_concern_sd": (0.05, 0.4)},
            outputs=["mean_concern"],
            n=8,
            days=2,
            executor="serial",
            progress=False,
            **SMALL,
        ),
        ValueError,
        "initial_concern_sd < sqrt",
    ),
    (
        "sensitivity-bounds",
        lambda: experiments.sensitivity({"mobility": (0.9, 0.1)}, outputs=["mean_concern"]),
        ValueError,
        "low < high",
    ),
    # node ids of another kind than the city's (issue 22)
    (
        "festival-plaza-number-for-text-ids",
        lambda: CityModel(_text_city(), scenarios=[_festival(day=2, plaza=0)], days=3, **SMALL),
        ValueError,
        'node ids are text, such as "0": write "0", not 0',
    ),
    (
        "techcore-site-text-for-number-ids",
        lambda: CityModel(grid_city(3, 3, seed=1), scenarios=[_techcore(site="3")], **SMALL),
        ValueError,
        'node ids are numbers, such as 3: write 3, not "3"',
    ),
    # results folders (issue 22)
    ("save-empty-path", lambda: _result().save(""), ValueError, "empty text"),
    ("save-current-folder", lambda: _result().save(os.getcwd()), ValueError, "current directory"),
    # run-file data
    ("config-unknown", lambda: parse_run_config({"citizen": 10}), ConfigError, "citizens"),
    (
        "config-all-problems",
        lambda: parse_run_config({"days": 0, "seed": -1, "colour": 1}),
        ConfigError,
        "3 problems",
    ),
]


@pytest.mark.parametrize(("call", "exc", "fragment"), [c[1:] for c in API], ids=[c[0] for c in API])
def test_python_api_refuses(call, exc, fragment):
    with pytest.raises(exc) as info:
        call()
    assert fragment in str(info.value)
    assert "Traceback" not in str(info.value)


# ------------------------------------------------------------------------ files (library)
FILE_CASES = [
    ("run-file-missing", lambda w: load_run_file(w / "nope.toml"), ConfigError, "not found"),
    ("run-file-folder", lambda w: load_run_file(w / "dir.toml"), ConfigError, "is a folder"),
    ("run-file-syntax", lambda w: load_run_file(w / "syntax.toml"), ConfigError, "not valid TOML"),
    (
        "run-file-every-problem",
        lambda w: load_run_file(w / "multi.toml"),
        ConfigError,
        "6 problems",
    ),
    ("run-file-joint", lambda w: load_run_file(w / "joint.toml"), ConfigError, "initial_concern"),
    (
        "sweep-file-grid",
        lambda w: load_sweep_file(w / "sweep_grid.toml"),
        ConfigError,
        "2 problems",
    ),
    ("sweep-file-joint", lambda w: load_sweep_file(w / "sweep_joint.toml"), ConfigError, "1 of 2"),
    ("sweep-file-lhs", lambda w: load_sweep_file(w / "sweep_lhs.toml"), ConfigError, "narrow"),
    (
        "sweep-file-lhs-int",
        lambda w: load_sweep_file(w / "sweep_lhs_int.toml"),
        ConfigError,
        "add it to sweep.sample.integers",
    ),
    ("sweep-file-none", lambda w: load_sweep_file(w / "sweep_none.toml"), ConfigError, "[sweep]"),
    ("run-file-not-utf8", lambda w: load_run_file(w / "latin1.toml"), ConfigError, "latin1.toml"),
    (
        "run-file-districts-in-pieces",
        lambda w: load_run_file(w / "pieces.toml").build_model(),
        ConfigError,
        'add connect = "nearest" to [city]',
    ),
    ("graphml-malformed", lambda w: load_city(w / "bad.graphml"), ValueError, "bad.graphml"),
    ("graphml-dup-node", lambda w: load_city(w / "dup_node.graphml"), ValueError, "'a' 2 times"),
    (
        "graphml-edge-end",
        lambda w: load_city(w / "edge_end.graphml"),
        ValueError,
        "node 'zz' is not declared",
    ),
    ("graphml-not-xml", lambda w: load_city(w / "not_graphml.graphml"), ValueError, "not_graphml"),
    (
        "results-truncated",
        lambda w: load_results(w / "truncated"),
        ValueError,
        "manifest.json is not valid JSON",
    ),
    (
        "experiment-truncated",
        lambda w: load_results(w / "experiment"),
        ValueError,
        "experiment.json is not valid JSON",
    ),
    ("results-manifest-folder", lambda w: RunResult.load(w / "manifest_dir"), ValueError, "folder"),
    ("results-empty", lambda w: load_results(w / "empty_results"), FileNotFoundError, "neither"),
    ("results-missing", lambda w: load_results(w / "nowhere"), FileNotFoundError, "neither"),
    # issue 22: what overwriting may touch, and damage found on reading
    (
        "save-overwrite-foreign",
        lambda w: _result().save(w / "userfiles", overwrite=True),
        FileExistsError,
        "did not write: map.py, thesis.md",
    ),
    (
        "run-out-overwrite-foreign",
        lambda w: experiments.run(days=2, out=w / "userfiles", overwrite=True, **SMALL),
        FileExistsError,
        "did not write: map.py, thesis.md",
    ),
    (
        "sweep-overwrite-foreign",
        lambda w: experiments.ensemble(
            days=2, seeds=2, out=w / "userfiles", overwrite=True, executor="serial", **SMALL
        ),
        FileExistsError,
        "did not write: map.py, thesis.md",
    ),
    (
        "calibrate-overwrite-foreign",
        lambda w: experiments.calibrate(
            priors={"mobility": (0.1, 0.2)},
            observed=_observed(),
            budget=4,
            method="abc-smc",
            population_size=4,
            days=2,
            out=w / "userfiles",
            overwrite=True,
            executor="serial",
            **SMALL,
        ),
        FileExistsError,
        "did not write: map.py, thesis.md",
    ),
    (
        "config-output-empty",
        lambda w: load_run_file(w / "empty_folder.toml"),
        ConfigError,
        "empty path",
    ),
    (
        "config-output-own-folder",
        lambda w: load_run_file(w / "own_folder.toml"),
        ConfigError,
        "output.folder: this is the file's own folder",
    ),
    (
        "config-graphml-empty",
        lambda w: load_run_file(w / "graphml_empty.toml"),
        ConfigError,
        "empty path",
    ),
    (
        "load-damaged-run",
        lambda w: RunResult.load(w / "damaged_run"),
        ValueError,
        "events.parquet: changed since it was written",
    ),
    (
        "load-edited-manifest",
        lambda w: load_results(w / "edited_run"),
        ValueError,
        "manifest.json was changed after waste-harmony wrote it",
    ),
    (
        "load-damaged-sweep",
        lambda w: load_results(w / "damaged_sweep").to_pandas(),
        ValueError,
        "p0000-r0001: model.parquet: changed",
    ),
    (
        "load-edited-experiment",
        lambda w: load_results(w / "edited_sweep"),
        ValueError,
        "experiment.json was changed after waste-harmony wrote it",
    ),
]


@pytest.mark.parametrize(
    ("call", "exc", "fragment"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_files_are_refused_naming_the_file(damaged, call, exc, fragment):
    work = damaged
    with pytest.raises(exc) as info:
        call(work)
    assert fragment in str(info.value)


# ------------------------------------------------------------------------ the command line
CLI = [
    ("run-file-missing", ["run", "{w}/nope.toml"], "not found"),
    ("run-file-folder", ["run", "{w}/dir.toml"], "is a folder"),
    ("run-file-syntax", ["run", "{w}/syntax.toml"], "not valid TOML"),
    ("run-file-every-problem", ["run", "{w}/multi.toml"], "6 problems"),
    ("run-festival-day", ["run", "{w}/festival.toml", "--out", "{w}/o1"], "beyond the run"),
    ("run-unknown-scenario", ["run", "{w}/unknown_scenario.toml"], "did you mean 'techcore'"),
    ("run-scenario-param", ["run", "{w}/scenario_param.toml"], "announce_day"),
    ("run-joint", ["run", "{w}/joint.toml"], "initial_concern_sd"),
    ("run-inf", ["run", "{w}/inf.toml"], "not finite"),
    ("run-output-flag", ["run", "{w}/output_flag.toml"], "output.figures"),
    ("run-seed-neg-file", ["run", "{w}/seed_neg.toml"], "seed"),
    ("run-graphml-missing", ["run", "{w}/graphml_missing.toml"], "not found"),
    ("run-graphml-malformed", ["run", "{w}/graphml_bad.toml", "--out", "{w}/o2"], "bad.graphml"),
    ("run-out-file", ["run", "{w}/ok.toml", "--out", "{w}/a_file"], "is a file"),
    ("run-out-existing", ["run", "{w}/ok.toml", "--out", "{w}/results"], "--force"),
    ("run-days-flag", ["run", "--days", "-3"], "days"),
    ("run-days-word", ["run", "--days", "ten"], "invalid int value"),
    ("run-param-syntax", ["run", "--param", "mobility"], "NAME=VALUE"),
    ("run-param-unknown", ["run", "--param", "mobilty=0.2"], "did you mean 'mobility'"),
    ("run-param-range", ["run", "--param", "mobility=7"], "out of range"),
    ("run-scenario-flag", ["run", "--scenario", "nope"], "unknown scenario"),
    ("run-unknown-flag", ["run", "--colour"], "unrecognized arguments"),
    ("run-file-not-utf8", ["run", "{w}/latin1.toml"], "not a UTF-8 text file"),
    ("run-grid-float", ["run", "{w}/grid_float.toml"], "rows must be a whole number"),
    ("run-districts-in-pieces", ["run", "{w}/pieces.toml"], "--city connect=nearest"),
    (
        "run-districts-connect-unknown",
        ["run", "--city-file", "{w}/pieces.geojson", "--id-column", "id", "--city", "connect=x"],
        "connect must be None or one of ('nearest',)",
    ),
    ("viz-port-range", ["viz", "--port", "99999999"], "from 1 to 65535"),
    ("viz-port-word", ["viz", "--port", "eighty"], "expected a port number"),
    ("no-command", [], "choose a command"),
    ("unknown-command", ["launch"], "invalid choice"),
    ("list-extra", ["list", "extra"], "unrecognized arguments"),
    ("plot-missing", ["plot", "{w}/nowhere"], "manifest.json"),
    ("plot-truncated", ["plot", "{w}/truncated"], "not valid JSON"),
    ("plot-file", ["plot", "{w}/a_file"], "manifest.json"),
    ("plot-experiment", ["plot", "{w}/experiment"], "an experiment folder, not one run"),
    ("plot-format", ["plot", "{w}/results", "--format", "gif"], "invalid choice"),
    ("sweep-missing", ["sweep", "{w}/nope.toml", "--out", "{w}/s0"], "not found"),
    ("sweep-folder", ["sweep", "{w}/dir.toml", "--out", "{w}/s0"], "is a folder"),
    ("sweep-no-table", ["sweep", "{w}/sweep_none.toml", "--out", "{w}/s0"], "[sweep]"),
    ("sweep-key", ["sweep", "{w}/sweep_key.toml", "--out", "{w}/s0"], "sweep.parameters"),
    ("sweep-grid", ["sweep", "{w}/sweep_grid.toml", "--out", "{w}/s0"], "2 problems"),
    ("sweep-joint", ["sweep", "{w}/sweep_joint.toml", "--out", "{w}/s0"], "constraint"),
    ("sweep-lhs", ["sweep", "{w}/sweep_lhs.toml", "--out", "{w}/s0"], "narrow the ranges"),
    ("sweep-lhs-bounds", ["sweep", "{w}/sweep_lhs_bounds.toml", "--out", "{w}/s0"], "low > high"),
    ("sweep-grid-and-sample", ["sweep", "{w}/sweep_both.toml", "--out", "{w}/s0"], "not both"),
    ("sweep-seeds-str", ["sweep", "{w}/sweep_seeds.toml", "--out", "{w}/s0"], "sweep.seeds"),
    ("sweep-bad-city", ["sweep", "{w}/sweep_badcity.toml", "--out", "{w}/s1"], "bad.graphml"),
    ("sweep-festival", ["sweep", "{w}/sweep_festival.toml", "--out", "{w}/s2"], "beyond the run"),
    ("sweep-out-file", ["sweep", "{w}/sweep_ok.toml", "--out", "{w}/a_file"], "is a file"),
    ("sweep-out-results", ["sweep", "{w}/sweep_ok.toml", "--out", "{w}/results"], "holds no"),
    ("sweep-truncated", ["sweep", "{w}/sweep_ok.toml", "--out", "{w}/experiment"], "not valid"),
    ("sweep-workers", ["sweep", "{w}/sweep_ok.toml", "--out", "{w}/s3", "--workers", "0"], ">= 1"),
    ("sweep-no-out", ["sweep", "{w}/sweep_none.toml"], "[sweep]"),
    # issue 22
    ("run-force-foreign", ["run", "{w}/ok.toml", "--out", "{w}/userfiles", "--force"], "did not"),
    ("run-out-empty", ["run", "{w}/ok.toml", "--out", ""], "empty text"),
    ("run-out-current", ["run", "{w}/ok.toml", "--out", ".", "--force"], "current directory"),
    ("run-out-own-folder", ["run", "{w}/ok.toml", "--out", "{w}", "--force"], "the run file"),
    ("run-output-own-folder", ["run", "{w}/own_folder.toml", "--force"], "file's own folder"),
    ("run-output-empty", ["run", "{w}/empty_folder.toml", "--force"], "empty path"),
    (
        "run-scenario-twice",
        ["run", "--scenario", "techcore", "--scenario", "techcore"],
        "given twice",
    ),
    (
        "run-scenario-in-file-and-flag",
        ["run", "{w}/number_ids.toml", "--scenario", "techcore"],
        "already in the run file's [scenarios]",
    ),
    ("run-plaza-number-for-text-ids", ["run", "{w}/text_ids.toml"], "node ids are text"),
    ("run-site-text-for-number-ids", ["run", "{w}/number_ids.toml"], "node ids are numbers"),
    ("sweep-out-own-folder", ["sweep", "{w}/sweep_ok.toml", "--out", "{w}"], "is the folder of"),
    ("sweep-out-empty", ["sweep", "{w}/sweep_ok.toml", "--out", ""], "empty text"),
    (
        "sweep-force-foreign",
        ["sweep", "{w}/sweep_ok.toml", "--out", "{w}/userfiles", "--force"],
        "did not write: map.py, thesis.md",
    ),
    (
        "sweep-force-over-a-run",
        ["sweep", "{w}/sweep_ok.toml", "--out", "{w}/results", "--force"],
        "did not write: city.graphml",
    ),
    (
        "sweep-resume-edited-plan",
        ["sweep", "{w}/sweep_ok.toml", "--out", "{w}/edited_sweep", "--resume"],
        "experiment.json was changed after waste-harmony wrote it",
    ),
    (
        "calibrate-force-foreign",
        ["calibrate", "{w}/calib.toml", "--out", "{w}/userfiles", "--force", "--workers", "1"],
        "did not write: map.py, thesis.md",
    ),
    ("plot-damaged", ["plot", "{w}/damaged_run"], "events.parquet: changed since it was written"),
    ("run-out-under-a-file", ["run", "--out", "{w}/a_file/sub"], "a_file is a file, not a folder"),
    ("run-out-broken-link", ["run", "--out", "{w}/broken_link"], "which does not exist (or loops)"),
]


@pytest.mark.parametrize(("argv", "fragment"), [c[1:] for c in CLI], ids=[c[0] for c in CLI])
def test_command_line_answers_in_one_line(damaged, results, capsys, argv, fragment):
    work = damaged
    code = main([a.format(w=work) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert fragment in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) <= 2, err  # argparse may print its usage line first
    assert lines[-1].startswith("waste-harmony")


def test_debug_shows_the_traceback(work, capsys):
    code = main(["--debug", "run", str(work / "multi.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" in err and "6 problems" in err


def test_a_defect_is_a_traceback_with_status_1(work, capsys, monkeypatch):
    import waste_harmony.cli.run as run_command

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(run_command, "summary_table", broken)
    code = main(["run", str(work / "ok.toml"), "--out", str(work / "bug"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" in err and "bug in waste-harmony" in err


def test_running_out_of_memory_is_one_line_with_status_2(work, capsys, monkeypatch):
    from waste_harmony.config import RunConfig

    def huge(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(RunConfig, "build_model", huge)
    code = main(["run", str(work / "ok.toml"), "--out", str(work / "oom"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "out of memory: a run of 200 citizens over 5 days" in err
    assert "--citizens" in err


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_results_folder_untouched_by_bad_calls(work, results, capsys):
    before = _digest(results)
    assert before  # the folder has files
    bad_calls = [
        ["run", str(work / "ok.toml"), "--out", str(results)],  # exists, no --force
        ["run", str(work / "multi.toml"), "--out", str(results), "--force"],  # bad file
        ["run", str(work / "festival.toml"), "--out", str(results), "--force"],  # bad day
        ["sweep", str(work / "sweep_ok.toml"), "--out", str(results)],  # not an experiment
        ["sweep", str(work / "sweep_grid.toml"), "--out", str(results), "--force"],
        ["sweep", str(work / "sweep_ok.toml"), "--out", str(results), "--force"],  # a run's files
        ["calibrate", str(work / "calib.toml"), "--out", str(results), "--force"],
        ["plot", str(results), "--format", "gif"],
    ]
    for argv in bad_calls:
        assert main(argv) == 2, argv
    with pytest.raises(FileExistsError):
        load_results(results).save(results)
    capsys.readouterr()
    assert _digest(results) == before


def test_scenarios_mapping_means_name_to_parameters():
    model = CityModel(n_citizens=100, rng=1, scenarios={"harmony-festival": {"day": 3}})
    assert [(s.name, s.day) for s in model.scenarios] == [("harmony-festival", 3)]


def test_run_for_zero_is_a_silent_no_op(recwarn):
    model = CityModel(city=grid_city(3, 3), n_citizens=100, rng=1)  # 10+ per district: no warning
    model.run_for(0)
    model.run_for(np.int64(2))
    assert model.day == 2 and not recwarn.list


def test_experiments_run_without_a_seed_draws_one_the_results_can_store():
    result = experiments.run(days=1, n_citizens=50, city=grid_city(3, 3, seed=1))
    seed = result.manifest["seed"]
    assert 0 <= seed < 2**63
    assert set(result.model_frame["seed"]) == {seed}


def test_experiments_run_raises_the_original_exception():
    class Exploding(CityModel):
        def step(self):
            raise ArithmeticError("the model blew up on day 1")

    with pytest.raises(ArithmeticError, match="blew up"):
        experiments.run(Exploding, days=2, seed=1, n_citizens=50, city=grid_city(3, 3))
