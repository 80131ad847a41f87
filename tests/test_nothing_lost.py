"""Issue 22, case by case: nothing a user has is lost, the seed fixes the city, damage is found.

Each test reproduces one finding of the adversarial probe of issue 22 through the
command line or the public API and would have caught it: ``--force`` deleting a
user's files, an output folder that is the run file's own, a symbolic link to
results on another file system, a city that changed with every run, replicates on
different cities, a damaged run passing as finished, an edited ``experiment.json``
going unnoticed, and file-system failures reported as bugs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from fs_helpers import digest, fill, read_only, tmpfs
from waste_harmony import load_results
from waste_harmony.cli import main
from waste_harmony.config import load_run_file, parse_run_config
from waste_harmony.experiments import load_experiment, sweep
from waste_harmony.results import RunResult

RUN = """\
seed = 1
days = 4
citizens = 150

[city]
generator = "grid"
rows = 3
cols = 3
"""

SWEEP = RUN + "\n[sweep]\nseeds = 3\n\n[sweep.grid]\nwaste_per_capita_kg = [0.5, 1.0]\n"

QUIET = ["--quiet", "--no-figures"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def one_line_error(capsys, argv, *fragments, status=2):
    """Run the command; it must fail with ``status`` in one line holding every fragment."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == status, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "internal error" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


def run_ok(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


# ----------------------------------------------------------------- 1. --force and folders
def test_force_never_deletes_a_users_files(tmp_path, capsys):
    """Issue 22, 1: ``run --out my-project --force`` deleted overview.txt, map.py, map.csv."""
    project = tmp_path / "my-project"
    for name in ("overview.txt", "map.py", "map.csv", "thesis.md"):
        write(project / name, f"the user's {name}\n")
    before = digest(project)
    one_line_error(
        capsys,
        ["run", "--days", "2", "--citizens", "50", "--out", project, "--force", *QUIET],
        "did not write: map.csv, map.py, overview.txt, thesis.md",
        "nothing was replaced",
    )
    assert digest(project) == before


def test_force_replaces_the_librarys_own_results_figures_included(tmp_path, capsys):
    out = tmp_path / "results"
    argv = ["run", "--days", "2", "--citizens", "50", "--seed", "3", "--out", out, "--quiet"]
    run_ok(capsys, argv)
    first = json.loads((out / "manifest.json").read_text())
    assert {"overview.png", "map.png", "model.parquet"} <= set(first["files"])
    run_ok(capsys, [*argv[:-1], "--no-figures", "--force"])
    assert sorted(p.name for p in out.iterdir()) == [
        "city.graphml",
        "events.parquet",
        "manifest.json",
        "model.parquet",
        "neighborhoods.parquet",
    ]


@pytest.mark.parametrize(
    ("folder", "message"),
    [('""', "output.folder: empty path"), ('"."', "output.folder: this is the file's own folder")],
)
def test_an_output_folder_that_is_the_run_files_own_is_refused(tmp_path, capsys, folder, message):
    """Issue 22, 1: ``[output] folder = ""`` wrote into the run file's folder, deleting files."""
    run_file = write(tmp_path / "study" / "run.toml", RUN + f"[output]\nfolder = {folder}\n")
    write(tmp_path / "study" / "map.py", "print('mine')\n")
    write(tmp_path / "study" / "overview.docx", "mine\n")
    before = digest(tmp_path / "study")
    one_line_error(capsys, ["run", run_file, "--force", "--quiet"], message)
    assert digest(tmp_path / "study") == before


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("", "the output folder is empty text"),
        (".", "is the current directory"),
        ("study", "is the folder of the run file"),
    ],
)
def test_out_cannot_be_empty_the_current_folder_or_the_run_files(
    tmp_path, capsys, monkeypatch, out, message
):
    monkeypatch.chdir(tmp_path)
    run_file = write(tmp_path / "study" / "run.toml", RUN)
    before = digest(tmp_path)
    one_line_error(capsys, ["run", run_file, "--out", out, "--force", "--quiet"], message)
    assert digest(tmp_path) == before


def test_sweep_and_calibrate_refuse_their_files_folder_as_out(tmp_path, capsys):
    sweep_file = write(tmp_path / "s" / "sweep.toml", SWEEP)
    one_line_error(
        capsys, ["sweep", sweep_file, "--out", tmp_path / "s", "--force"], "is the folder of"
    )
    one_line_error(capsys, ["sweep", sweep_file, "--out", ""], "empty text")


def test_force_through_a_link_to_another_file_system(tmp_path, capsys):
    """Issue 22, 1: ``run --out LINK --force`` failed with EXDEV after removing the manifest."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on a file system other than the test folder's")
    real = Path(tempfile.mkdtemp(dir=shm, prefix="wh-test-")) / "earlier"
    try:
        argv = ["run", "--days", "2", "--citizens", "50", "--seed", "5", *QUIET]
        run_ok(capsys, [*argv, "--out", real])
        link = tmp_path / "LINK"
        link.symlink_to(real)
        run_ok(capsys, [*argv[:-2], "--seed", "6", "--quiet", "--out", link, "--force"])
        assert link.is_symlink()
        assert load_results(link).manifest["seed"] == 6
        assert sorted(p.name for p in tmp_path.iterdir()) == ["LINK"]
    finally:
        shutil.rmtree(real.parent, ignore_errors=True)


def test_a_crash_while_replacing_keeps_the_earlier_results(tmp_path, capsys, monkeypatch):
    import waste_harmony.plotting as plotting

    out = tmp_path / "results"
    argv = ["run", "--days", "2", "--citizens", "50", "--seed", "5", "--quiet", "--out", out]
    run_ok(capsys, argv)
    before = digest(out)

    def broken(result, folder):
        (Path(folder) / "overview.png").write_bytes(b"half a figure")
        raise RuntimeError("drawing crashed (simulated defect)")

    monkeypatch.setattr(plotting, "save_standard_figures", broken)
    assert main([str(a) for a in [*argv, "--force"]]) == 1  # a defect: status 1
    capsys.readouterr()
    assert digest(out) == before


# ----------------------------------------------------------------- 2. the seed fixes the city
def test_a_run_files_seed_fixes_its_generated_city_and_series(tmp_path, capsys):
    """Issue 22, 2: ``seed = 1`` with ``generator = "grid"`` gave a new city every run."""
    run_file = write(tmp_path / "run.toml", RUN)
    frames, cities = [], []
    for name in ("a", "b"):
        run_ok(capsys, ["run", run_file, "--out", tmp_path / name, *QUIET])
        result = RunResult.load(tmp_path / name)
        frames.append(result.model_frame)
        cities.append(result.manifest["city"])
    assert frames[0].equals(frames[1])
    assert cities[0] == cities[1] and isinstance(cities[0]["seed"], int)
    run_ok(capsys, ["run", run_file, "--seed", "2", "--out", tmp_path / "c", *QUIET])
    assert RunResult.load(tmp_path / "c").manifest["city"]["sha256"] != cities[0]["sha256"]


def test_a_city_seed_in_the_file_wins_over_the_runs():
    config = parse_run_config(
        {"seed": 1, "days": 2, "citizens": 20, "city": {"generator": "grid", "seed": 7}}
    )
    assert config.build_model().city.graph["seed"] == 7
    assert config.build_model(rng=99).city.graph["seed"] == 7


def test_a_sweeps_replicates_and_points_share_one_city_and_repeat(tmp_path, capsys):
    """Issue 22, 2: every replicate built its own random city; a re-run differed."""
    sweep_file = write(tmp_path / "sweep.toml", SWEEP)
    run_ok(capsys, ["sweep", sweep_file, "--out", tmp_path / "a", "--workers", "1", "--quiet"])
    first = load_experiment(tmp_path / "a")
    cities = {json.dumps(run.manifest["city"], sort_keys=True) for run in first.iter_runs()}
    assert len(cities) == 1  # 2 points x 3 replicates, one city
    city = json.loads(cities.pop())
    assert isinstance(city["seed"], int)
    seeds = first.runs()["seed"].tolist()
    assert seeds[0] != seeds[1]
    run_ok(capsys, ["sweep", sweep_file, "--out", tmp_path / "b", "--workers", "1", "--quiet"])
    again = load_experiment(tmp_path / "b")
    assert first.to_pandas().equals(again.to_pandas())


def test_a_calibration_and_the_python_api_fix_the_city_too(tmp_path):
    config = load_run_file(write(tmp_path / "run.toml", RUN))
    result = sweep(
        config, parameters={"mobility": [0.1, 0.2]}, seeds=2, root_seed=4,
        executor="serial", progress=False,
    )  # fmt: skip
    hashes = {run.manifest["city"]["sha256"] for run in result.iter_runs()}
    assert len(hashes) == 1


# ----------------------------------------------------------------- 3. damage is found
@pytest.fixture
def finished_sweep(tmp_path, capsys):
    sweep_file = write(tmp_path / "sweep.toml", SWEEP)
    out = tmp_path / "out"
    run_ok(capsys, ["sweep", sweep_file, "--out", out, "--workers", "1", "--quiet"])
    return sweep_file, out


def test_damaged_runs_are_named_on_loading_and_run_again_on_resume(finished_sweep, capsys):
    """Issue 22, 3: garbage in a model.parquet and a deleted run passed as finished."""
    sweep_file, out = finished_sweep
    expected = load_experiment(out).to_pandas()
    (out / "runs" / "p0000-r0001" / "model.parquet").write_bytes(b"garbage")
    shutil.rmtree(out / "runs" / "p0001-r0002")
    (out / "runs" / "p0001-r0000" / "events.parquet").unlink()
    damaged = load_experiment(out)
    assert damaged.damaged() == {
        "p0000-r0001": ["model.parquet: changed since it was written (checksum differs)"],
        "p0001-r0000": ["events.parquet: missing"],
    }
    with pytest.raises(ValueError, match="p0000-r0001: model.parquet: changed"):
        damaged.to_pandas()
    with pytest.raises(ValueError, match="are damaged: model.parquet: changed"):
        damaged.run("p0000-r0001")
    with pytest.raises(ValueError, match="events.parquet: missing"):
        RunResult.load(out / "runs" / "p0001-r0000")
    assert damaged.load("mean_concern", runs=["p0000-r0000"])["run_id"].unique().tolist() == [
        "p0000-r0000"
    ]
    printed = run_ok(capsys, ["sweep", sweep_file, "--out", out, "--resume", "--quiet"])
    assert "6 of 6 runs finished (3 skipped as already done, 2 damaged and run again" in printed
    healed = load_experiment(out)
    assert healed.damaged() == {}
    assert healed.to_pandas().equals(expected)


def test_an_edited_experiment_json_is_detected(finished_sweep, capsys):
    """Issue 22, 3: a seed edited in experiment.json went unnoticed."""
    sweep_file, out = finished_sweep
    manifest = json.loads((out / "experiment.json").read_text())
    manifest["plan"]["root_seed"] += 1  # a seed of the plan edited by hand
    (out / "experiment.json").write_text(json.dumps(manifest, indent=1))
    with pytest.raises(ValueError, match="changed after waste-harmony wrote it"):
        load_experiment(out)
    one_line_error(
        capsys,
        ["sweep", sweep_file, "--out", out, "--resume", "--quiet"],
        "experiment.json",
        "changed after waste-harmony wrote it",
    )
    run_ok(capsys, ["sweep", sweep_file, "--out", out, "--force", "--workers", "1", "--quiet"])
    assert load_experiment(out).damaged() == {}


def test_an_edited_run_manifest_is_damage_too(tmp_path):
    run = tmp_path / "run"
    result = RunResult.from_model(_small_model())
    result.save(run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["seed"] = 12345
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="manifest.json was changed after waste-harmony wrote it"):
        RunResult.load(run)


def _small_model():
    from waste_harmony import CityModel
    from waste_harmony.city import grid_city

    model = CityModel(grid_city(3, 3, seed=1), n_citizens=60, rng=2)
    model.run_for(2)
    return model


# ----------------------------------------------------------------- replacing an experiment
def test_a_forced_sweep_keeps_the_earlier_one_until_it_is_complete(
    finished_sweep, capsys, monkeypatch
):
    sweep_file, out = finished_sweep
    before = digest(out)
    import waste_harmony.batch.executors as executors

    real = executors.execute
    count = {"n": 0}

    def interrupted(task):
        count["n"] += 1
        if count["n"] == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(executors, "execute", interrupted)
    changed = write(sweep_file, SWEEP.replace("seeds = 3", "seeds = 2"))
    argv = ["sweep", changed, "--out", out, "--workers", "1", "--quiet"]
    assert main([str(a) for a in [*argv, "--force"]]) == 130
    capsys.readouterr()
    visible = {k: v for k, v in digest(out).items() if not k.startswith(".waste-harmony-")}
    assert visible == before  # the earlier sweep, whole
    monkeypatch.setattr(executors, "execute", real)
    printed = run_ok(capsys, [*argv, "--resume"])  # continues the replacement
    assert "4 of 4 runs finished (2 skipped" in printed
    result = load_experiment(out)
    assert result.n_runs == 4 and result.damaged() == {}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_forced_sweep_refuses_a_folder_with_a_users_file(finished_sweep, capsys):
    sweep_file, out = finished_sweep
    write(out / "runs" / "p0000-r0000" / "my-notes.txt", "mine")
    before = digest(out)
    one_line_error(
        capsys,
        ["sweep", sweep_file, "--out", out, "--force", "--quiet"],
        "did not write: runs/p0000-r0000/my-notes.txt",
    )
    assert digest(out) == before


def test_calibrate_force_keeps_a_users_files(tmp_path, capsys):
    """``calibrate --force`` removed the whole folder (shutil.rmtree) before this issue."""
    import pandas as pd

    pd.DataFrame({"day": [2], "variable": ["mean_concern"], "value": [0.4]}).to_csv(
        tmp_path / "observed.csv", index=False
    )
    calib = write(
        tmp_path / "calib.toml",
        RUN.replace("days = 4", "days = 2").replace("citizens = 150", "citizens = 30")
        + '\n[calibration]\nobserved = "observed.csv"\nbudget = 8\n'
        'method = "abc-smc"\npopulation = 4\n'
        "[calibration.priors]\nconcern_convergence = [0.0, 0.5]\n",
    )
    out = tmp_path / "cal"
    argv = ["calibrate", calib, "--out", out, "--workers", "1", "--quiet"]
    run_ok(capsys, argv)
    write(out / "thesis.md", "years of work")
    before = digest(out)
    one_line_error(capsys, [*argv, "--force"], "did not write: thesis.md")
    assert digest(out) == before
    (out / "thesis.md").unlink()
    run_ok(capsys, [*argv, "--force"])
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


# ----------------------------------------------------------------- 4. the file system's failures
def test_a_full_disk_is_one_line_and_the_earlier_results_stay(tmp_path, capsys):
    """Issue 22, 4: ENOSPC in run and sweep ended in 'internal error (OSError)'."""
    with tmpfs(tmp_path / "disk", "2m") as disk:
        out = disk / "results"
        argv = ["run", "--days", "3", "--citizens", "60", "--seed", "1", *QUIET, "--out", out]
        run_ok(capsys, argv)
        before = digest(out)
        fill(disk, leave=4096)
        one_line_error(
            capsys,
            [*argv, "--force", "--citizens", "2000"],
            "the disk is full (ENOSPC)",
            f"the earlier results in {out} are intact",
        )
        assert digest(out) == before
        (disk / "filler").unlink()
        sweep_file = write(tmp_path / "sweep.toml", SWEEP)
        sweep_out = disk / "sweep"
        fill(disk, leave=40 * 1024)
        one_line_error(
            capsys,
            ["sweep", sweep_file, "--out", sweep_out, "--workers", "1", "--quiet"],
            "(ENOSPC)",
            "resume",
        )
        (disk / "filler").unlink()
        run_ok(capsys, ["sweep", sweep_file, "--out", sweep_out, "--resume", "--quiet"])
        assert load_experiment(sweep_out).damaged() == {}


def test_a_read_only_file_system_is_one_line_for_run_and_resume(tmp_path, capsys):
    """Issue 22, 4: EROFS in ``run`` and ``sweep --resume`` ended in 'internal error'."""
    out = tmp_path / "results"
    argv = ["run", "--days", "2", "--citizens", "50", "--seed", "1", *QUIET]
    run_ok(capsys, [*argv, "--out", out])
    sweep_file = write(tmp_path / "sweep.toml", SWEEP)
    sweep_out = tmp_path / "sweep"
    run_ok(capsys, ["sweep", sweep_file, "--out", sweep_out, "--workers", "1", "--quiet"])
    shutil.rmtree(sweep_out / "runs" / "p0000-r0000")  # one run to do again
    before = digest(tmp_path)
    with read_only(tmp_path, tmp_path.parent / f"{tmp_path.name}-ro") as view:
        one_line_error(capsys, [*argv, "--out", view / "results", "--force"], "read-only (EROFS)")
        one_line_error(
            capsys,
            ["sweep", view / "sweep.toml", "--out", view / "sweep", "--resume", "--quiet"],
            "read-only (EROFS)",
        )
    assert digest(tmp_path) == before


def _child_env():
    """The environment of a ``python -m waste_harmony`` child (this interpreter's packages)."""
    return dict(os.environ)


def test_a_file_size_limit_is_one_line(tmp_path):
    """Issue 22, 4: EFBIG (``ulimit -f``) ended in 'internal error'."""
    import resource

    out = tmp_path / "results"

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "waste_harmony", "run", "--days", "20", "--citizens", "200",
         "--seed", "1", "--quiet", "--out", str(out)],
        preexec_fn=limit, capture_output=True, text=True, env=_child_env(), timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "(EFBIG)" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists() or not list(out.iterdir())


def test_a_refused_permission_is_one_line(tmp_path):
    """EACCES: a folder the user may not write into (root without its override capability)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to drop the capability that ignores permissions")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "earlier.txt").write_text("kept")
    os.chmod(locked, 0o555)
    try:
        done = subprocess.run(
            [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner",
             "--inh-caps=-all", sys.executable, "-m", "waste_harmony", "run", "--days", "2",
             "--citizens", "30", "--seed", "1", "--quiet", "--no-figures",
             "--out", str(locked / "results")],
            capture_output=True, text=True, env=_child_env(), timeout=300,
        )  # fmt: skip
    finally:
        os.chmod(locked, 0o755)
    if "setpriv:" in done.stderr:
        pytest.skip(f"setpriv cannot drop capabilities here: {done.stderr.strip()}")
    assert done.returncode == 2, done.stderr
    assert "permission denied (EACCES)" in done.stderr and "Traceback" not in done.stderr
    assert "waste-harmony run:" not in done.stdout  # refused before the run, not after it
    assert sorted(p.name for p in locked.iterdir()) == ["earlier.txt"]


def test_a_cross_device_rename_is_one_line(tmp_path, capsys, monkeypatch):
    """EXDEV cannot happen for real any more (staging is inside the destination): simulated."""
    import errno

    out = tmp_path / "results"
    argv = ["run", "--days", "2", "--citizens", "50", "--seed", "1", *QUIET, "--out", out]
    run_ok(capsys, argv)
    before = digest(out)
    real = os.replace

    def cross_device(src, dst):
        if ".waste-harmony-staging-" in str(src):
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))
        real(src, dst)

    monkeypatch.setattr(os, "replace", cross_device)
    one_line_error(capsys, [*argv, "--force"], "(EXDEV)")
    monkeypatch.setattr(os, "replace", real)
    assert "model.parquet" in digest(out) and digest(out) != before  # manifest gone: incomplete
    assert not (out / "manifest.json").exists()


# ----------------------------------------------------------------- 5. no orphans
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_a_sweep_leaves_no_child_process(tmp_path, sig):
    """Issue 22, 5: two pool workers and the resource tracker outlived a killed sweep."""
    psutil = pytest.importorskip("psutil")
    sweep_file = write(
        tmp_path / "sweep.toml",
        SWEEP.replace("days = 4", "days = 400").replace("citizens = 150", "citizens = 3000"),
    )
    command = subprocess.Popen(
        [sys.executable, "-m", "waste_harmony", "sweep", str(sweep_file), "--out",
         str(tmp_path / "out"), "--workers", "2", "--quiet"],
        env=_child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        parent = psutil.Process(command.pid)
        deadline = time.monotonic() + 120
        children = []
        while time.monotonic() < deadline:
            children = parent.children(recursive=True)
            if len(children) >= 3:  # two workers and the resource tracker
                break
            time.sleep(0.2)
        assert len(children) >= 3, children
        time.sleep(1.0)  # the workers are running tasks
        command.send_signal(sig)
        command.wait(timeout=30)

        def alive():
            living = []
            for child in children:
                try:
                    if child.status() != psutil.STATUS_ZOMBIE:
                        living.append(child)
                except psutil.NoSuchProcess:
                    pass
            return living

        # A worker notices its parent's death every 0.5 s once its initializer runs;
        # one still starting (a spawned worker imports the library first, which takes
        # many seconds on a loaded machine) notices only after that: 60 s allows for
        # it. What is checked is that no process outlives the sweep, not how fast.
        deadline = time.monotonic() + 60
        while alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive() == []
    finally:
        command.kill()
        command.wait()


# ----------------------------------------------------------------- 6. the smaller points
def test_a_scenario_given_twice_on_the_command_line_is_refused(capsys, tmp_path):
    """Issue 22, 6: ``--scenario techcore --scenario techcore`` ran once without a word."""
    one_line_error(
        capsys,
        ["run", "--scenario", "techcore", "--scenario", "techcore", "--out", tmp_path / "o"],
        "scenario 'techcore' is given twice",
    )
    run_file = write(tmp_path / "run.toml", RUN + "[scenarios.techcore]\n")
    one_line_error(
        capsys,
        ["run", run_file, "--scenario", "techcore", "--out", tmp_path / "o"],
        "already in the run file's [scenarios]",
    )


def test_a_number_for_a_text_node_id_says_the_ids_are_text(tmp_path, capsys):
    """Issue 22, 6: GraphML ids "0".."4" and ``plaza = 0`` gave 'plaza 0 is not a node'."""
    import networkx as nx

    from waste_harmony.city import grid_city

    G = grid_city(2, 3, seed=1)
    H = nx.Graph()
    for node, data in G.nodes(data=True):
        H.add_node(str(node), x=data["pos"][0], y=data["pos"][1], zone=data["zone"])
    H.add_edges_from((str(u), str(v)) for u, v in G.edges)
    nx.write_graphml(H, tmp_path / "other_tool.graphml")
    run_file = write(
        tmp_path / "run.toml",
        'days = 3\ncitizens = 40\n[city]\ngraphml = "other_tool.graphml"\n'
        "[scenarios.harmony-festival]\nday = 2\nplaza = 0\n",
    )
    one_line_error(
        capsys,
        ["run", run_file, "--out", tmp_path / "o", "--quiet"],
        "plaza 0 is not a node of the city",
        'node ids are text, such as "0": write "0", not 0',
    )
    fixed = write(run_file, run_file.read_text().replace("plaza = 0", 'plaza = "0"'))
    run_ok(capsys, ["run", fixed, "--out", tmp_path / "o", *QUIET])


def test_figures_redrawn_by_plot_are_the_librarys_own(tmp_path, capsys):
    out = tmp_path / "results"
    argv = ["run", "--days", "2", "--citizens", "50", "--seed", "3", "--quiet", "--out", out]
    run_ok(capsys, argv)
    run_ok(capsys, ["plot", out, "--format", "svg"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"overview.svg", "map.svg"} <= set(manifest["files"])
    assert RunResult.load(out).manifest["seed"] == 3  # still sealed and intact
    run_ok(capsys, [*argv, "--force", "--no-figures"])
    assert not list(out.glob("*.svg"))


def test_resuming_clears_a_run_staging_left_by_a_killed_worker(finished_sweep, capsys):
    sweep_file, out = finished_sweep
    left = out / "runs" / "p0000-r0000" / ".waste-harmony-staging-abc123"
    write(left / "model.parquet", "half")
    shutil.rmtree(out / "runs" / "p0001-r0001")
    run_ok(capsys, ["sweep", sweep_file, "--out", out, "--resume", "--quiet"])
    assert not left.exists()
    assert load_experiment(out).damaged() == {}


def test_reading_while_a_run_folder_is_replaced_sees_old_or_new_never_an_error(tmp_path):
    """Probe: a reader loading results while another process replaces them."""
    import threading

    from waste_harmony import CityModel
    from waste_harmony.city import grid_city

    results = []
    for seed in (1, 2):
        model = CityModel(grid_city(3, 3, seed=1), n_citizens=40, rng=seed)
        model.run_for(2)
        results.append(RunResult.from_model(model))
    out = tmp_path / "shared"
    results[0].save(out)
    stop = threading.Event()
    writes = []

    def writer():
        while not stop.is_set():
            results[len(writes) % 2].save(out, overwrite=True)
            writes.append(1)

    thread = threading.Thread(target=writer)
    thread.start()
    seeds, errors = [], []
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                seeds.append(RunResult.load(out).manifest["seed"])
            except (OSError, ValueError) as exc:
                errors.append(exc)
    finally:
        stop.set()
        thread.join()
    assert len(writes) > 5 and seeds and errors == []
    assert set(seeds) <= {1, 2}
