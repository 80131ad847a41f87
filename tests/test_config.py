"""Run files: parsing, validation with key paths, equivalence with Python runs."""

import pytest

from waste_harmony import CityModel
from waste_harmony.city import grid_city
from waste_harmony.config import ConfigError, load_run_file, parse_run_config

RUN_FILE = """
seed = 5
days = 12
citizens = 400

[city]
generator = "grid"
rows = 5
cols = 6
seed = 2

[parameters]
concern_confidence = 0.2
roles = { artist = 2 }

[output]
folder = "out"
"""


def test_run_file_and_python_give_identical_series(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(RUN_FILE)
    config = load_run_file(path)
    from_file = config.build_model()
    from_file.run_for(config.days)
    in_python = CityModel(
        grid_city(5, 6, seed=2), n_citizens=400, rng=5, concern_confidence=0.2, roles={"artist": 2}
    )
    in_python.run_for(12)
    assert from_file.model_frame().equals(in_python.model_frame())
    assert from_file.params.roles == {"designer": 1, "organiser": 1, "scientist": 1, "artist": 2}


@pytest.mark.parametrize(
    ("data", "key", "match"),
    [
        ({"citizen": 10}, "citizen", "did you mean 'citizens'"),
        ({"days": 0}, "days", "must be >= 1"),
        ({"days": "ten"}, "days", "expected an integer"),
        ({"seed": -1}, "seed", "must be >= 0"),
        ({"city": {"generator": "grdi"}}, "city.generator", "did you mean 'grid'"),
        ({"city": {"generator": "grid", "row": 3}}, "city.row", "did you mean 'rows'"),
        ({"city": {"graphml": "missing.graphml"}}, "city.graphml", "not found"),
        (
            {"parameters": {"concern_confidense": 0.1}},
            "parameters.concern_confidense",
            "did you mean 'concern_confidence'",
        ),
        ({"parameters": {"mobility": 2.0}}, "parameters.mobility", "out of range"),
        ({"scenarios": {"no-such": {}}}, "scenarios.no-such", "unknown scenario"),
        ({"output": {"figures": "yes"}}, "output.figures", "true or false"),
        ({"output": {"fodler": "x"}}, "output.fodler", "did you mean 'folder'"),
    ],
)
def test_invalid_values_name_the_key_path(tmp_path, data, key, match):
    with pytest.raises(ConfigError, match=match) as info:
        parse_run_config(data, base_dir=tmp_path)
    assert info.value.key == key


def test_bad_toml_and_missing_file_are_config_errors(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("days = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_run_file(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_run_file(tmp_path / "absent.toml")


def test_graphml_city_is_resolved_relative_to_the_run_file(tmp_path):
    from waste_harmony.city import save_city

    save_city(grid_city(3, 3, seed=1), tmp_path / "city.graphml")
    run = 'citizens = 50\ndays = 2\n[city]\ngraphml = "city.graphml"\n'
    (tmp_path / "run.toml").write_text(run)
    model = load_run_file(tmp_path / "run.toml").build_model()
    assert model.n_nodes == 9


def test_to_dict_round_trips():
    config = parse_run_config(
        {"citizens": 10, "days": 3, "seed": 1, "parameters": {"bass_p": 0.05}}
    )
    assert parse_run_config(config.to_dict()) == config


def test_a_festival_after_the_end_of_the_run_fails_before_running():
    config = parse_run_config(
        {"citizens": 100, "days": 100, "scenarios": {"harmony-festival": {"day": 400}}}
    )
    with pytest.raises(ConfigError, match="400") as info:
        config.build_model()
    assert info.value.key.startswith("scenarios")
