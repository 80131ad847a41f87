"""Scenario modules: registry, plug-ins, conformance, bad input, and each scenario's rules."""

import subprocess
import sys
import textwrap
from dataclasses import dataclass

import numpy as np
import pytest

from waste_harmony import CityModel
from waste_harmony.dynamics.biodiversity import species_remaining
from waste_harmony.scenarios import (
    HarmonyFestival,
    Scenario,
    TechCoreProposal,
    available,
    parameter,
    register,
    scenario_class,
)
from waste_harmony.scenarios.places import biodiverse_rows, hop_distance, plaza_rows
from waste_harmony.scenarios.registry import _BUILTIN
from waste_harmony.testing import check_scenario

BUILTINS = sorted(n for n, c in available().items() if c.__module__.startswith("waste_harmony"))


# ---------------------------------------------------------------- conformance kit
@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_scenario_passes_the_conformance_kit(name):
    check_scenario(available()[name])


def test_conformance_kit_catches_a_scenario_that_does_work_in_init():
    @dataclass
    class Eager(Scenario):
        name = "eager-test"
        description = "does work in __init__"
        day: int = 3

        def __post_init__(self):
            self.cache = [self.day]

        def setup(self, model):
            self.schedule(self.go, day=self.day)

        def go(self):
            self.log("go")

    with pytest.raises(AssertionError, match="stores more than its parameters"):
        check_scenario(Eager)


def test_conformance_kit_catches_unbalanced_waste():
    @dataclass
    class Dumper(Scenario):
        name = "dumper-test"
        description = "adds waste without reporting it"

        def setup(self, model):
            self.schedule_every(self.dump, start_day=2, interval_days=5)

        def dump(self):
            self.model.neighborhoods.waste_stock_kg[0] += 100.0
            self.log("dumped")

    with pytest.raises(AssertionError, match="waste does not balance"):
        check_scenario(Dumper, days=20)


# ---------------------------------------------------------------- registry
def test_builtins_are_registered_with_descriptions():
    names = set(available())
    assert {
        "techcore",
        "harmony-festival",
        "story-roles",
        "aftermath",
        "eco-designer",
        "assembly-organiser",
        "scientist",
        "artist",
        "workshops",
        "assembly-funding",
        "organism-rooting",
        "community-art",
    } <= names
    assert all(cls.description for cls in available().values())


def test_unknown_scenario_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="Did you mean 'techcore'") as info:
        CityModel(n_citizens=50, scenarios=["techcor"], rng=0)
    assert "harmony-festival" in str(info.value)


def test_parameter_table_shows_units_ranges_and_defaults():
    rows = {r["name"]: r for r in TechCoreProposal.parameter_table()}
    assert rows["reference_share"]["default"] == 0.035
    assert rows["reference_share"]["source"] == "Chenoweth & Stephan 2011"
    assert rows["announce_day"]["range"] == (1, None)
    assert rows["comment_period_days"]["unit"] == "days"


def _write_plugin(folder, dist, entries, modules):
    info = folder / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[waste_harmony.scenarios]\n{lines}\n")
    for name, source in modules.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """A temporary sys.path entry; distributions written there are visible to entry_points()."""
    monkeypatch.syspath_prepend(str(tmp_path))  # also invalidates importlib caches
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("wh_test_plugin"):
            del sys.modules[name]


GOOD_PLUGIN = """
    from dataclasses import dataclass
    from waste_harmony.scenarios import Scenario, parameter

    @dataclass
    class Fireworks(Scenario):
        name = "fireworks"
        description = "Fireworks over the plaza on one night."
        day: int = parameter(4, unit="day", low=1, doc="the night")

        def setup(self, model):
            self.schedule(self.launch, day=self.day)

        def launch(self):
            self.log("fireworks", node=self.model.node_ids[0])
"""


def test_third_party_plugin_is_found_and_runs(plugin_path):
    _write_plugin(
        plugin_path,
        "wh_test_plugin_good",
        {"fireworks": "wh_test_plugin_good:Fireworks"},
        {"wh_test_plugin_good": GOOD_PLUGIN},
    )
    registry = available()
    assert "fireworks" in registry and registry["fireworks"].__name__ == "Fireworks"
    model = CityModel(n_citizens=80, scenarios=["fireworks", "harmony-festival"], rng=0)
    model.run_for(5)
    assert [e.day for e in model.event_log.of_kind("fireworks")] == [4]
    check_scenario(registry["fireworks"], n_citizens=100, days=10)


def test_broken_plugins_warn_and_are_skipped(plugin_path):
    _write_plugin(
        plugin_path,
        "wh_test_plugin_bad",
        {
            "crashes": "wh_test_plugin_bad:Nope",
            "not-a-scenario": "wh_test_plugin_bad2:x",
            "missing": "wh_test_plugin_does_not_exist:X",
        },
        {
            "wh_test_plugin_bad": "raise RuntimeError('broken on import')\n",
            "wh_test_plugin_bad2": "x = 42\n",
        },
    )
    with pytest.warns(RuntimeWarning, match="skipping scenario plug-in") as record:
        registry = available()
    messages = " ".join(str(w.message) for w in record)
    for name in ("crashes", "not-a-scenario", "missing"):
        assert name in messages
        assert name not in registry
    assert "techcore" in registry
    # import waste_harmony in a fresh interpreter with the broken plug-ins installed
    code = "import waste_harmony, waste_harmony.scenarios; print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(plugin_path), "PATH": ""},
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_built_in_name_wins_over_a_plug_in_claiming_it(plugin_path):
    # scenario_class answers built-in names without reading the plug-ins' entry points
    # (they cost ~10 ms a reading); the answer is the one the full registry gives
    _write_plugin(
        plugin_path,
        "wh_test_plugin_twin",
        {"techcore": "wh_test_plugin_twin:Fireworks"},
        {"wh_test_plugin_twin": GOOD_PLUGIN.replace('"fireworks"', '"techcore"')},
    )
    with pytest.warns(RuntimeWarning, match="reuses the name 'techcore'"):
        registry = available()
    assert registry["techcore"] is TechCoreProposal
    assert scenario_class("techcore") is TechCoreProposal
    model = CityModel(n_citizens=80, scenarios=["techcore"], rng=0)
    assert type(model.scenario_named("techcore")) is TechCoreProposal


def test_register_rejects_a_taken_name():
    @dataclass
    class Impostor(Scenario):
        name = "techcore"
        description = "not the real one"

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)
    assert _BUILTIN["techcore"] is TechCoreProposal


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("scenario", "error", "match"),
    [
        (TechCoreProposal(announce_day="soon"), TypeError, "announce_day"),
        (TechCoreProposal(announce_day=2.5), TypeError, "announce_day"),
        (TechCoreProposal(benefit_cv=-0.1), ValueError, "benefit_cv"),
        (TechCoreProposal(habitat_loss=1.5), ValueError, "habitat_loss"),
        (HarmonyFestival(attendance=2.0), ValueError, "attendance"),
        (HarmonyFestival(day=0), ValueError, "day"),
        (TechCoreProposal(site="no such node"), ValueError, "not a node of the city"),
        (HarmonyFestival(plaza=(99, 99)), ValueError, "not a node of the city"),
    ],
)
def test_bad_parameters_fail_before_the_run(scenario, error, match):
    with pytest.raises(error, match=match):
        CityModel(n_citizens=50, scenarios=[scenario], rng=0)


def test_site_that_is_not_biodiverse_is_refused_with_examples():
    model = CityModel(n_citizens=50, rng=0)
    residential = model.node_ids[int(np.flatnonzero(model.neighborhoods.zone == "residential")[0])]
    with pytest.raises(ValueError, match="not a biodiverse node.*e.g. one of"):
        CityModel(n_citizens=50, scenarios=[TechCoreProposal(site=residential)], rng=0)


def test_festival_beyond_the_planned_run_is_an_error_before_the_run():
    with pytest.raises(ValueError, match="beyond the run"):
        CityModel(n_citizens=50, scenarios=[HarmonyFestival(day=400)], rng=0, days=365)
    # without the hint the model cannot know: it installs, and the festival waits
    CityModel(n_citizens=50, scenarios=[HarmonyFestival(day=400)], rng=0)
    with pytest.raises(ValueError, match="days must be >= 0"):
        CityModel(n_citizens=50, rng=0, days=-5)


def test_scenario_day_in_the_past_is_refused_when_added_mid_run():
    model = CityModel(n_citizens=50, rng=0)
    model.run_for(30)
    with pytest.raises(ValueError, match="in the past"):
        model.add_scenario(HarmonyFestival(day=10))


def test_scenarios_that_cannot_coexist_are_refused_before_the_run():
    with pytest.raises(ValueError, match="installed already"):
        CityModel(n_citizens=50, scenarios=["artist", "story-roles"], rng=0)
    with pytest.raises(ValueError, match="given twice"):
        CityModel(n_citizens=50, scenarios=["techcore", TechCoreProposal()], rng=0)

    @dataclass
    class Blackout(Scenario):
        name = "blackout-test"
        description = "cancels public gatherings"
        conflicts_with = ("harmony-festival",)

    with pytest.raises(ValueError, match="cannot be combined with 'harmony-festival'"):
        CityModel(n_citizens=50, scenarios=["harmony-festival", Blackout()], rng=0)


# ---------------------------------------------------------------- TechCore
def test_firm_sites_on_a_biodiverse_node_by_its_own_logic():
    model = CityModel(n_citizens=500, scenarios=[TechCoreProposal(announce_day=2)], rng=3)
    model.run_for(3)
    firm = model.scenario_named("techcore").corporation
    assert firm.status == "proposed" and firm.site in biodiverse_rows(model)
    # without noise and without regard for opposition it takes the cheapest biodiverse land
    model = CityModel(
        n_citizens=500,
        rng=3,
        scenarios=[TechCoreProposal(announce_day=2, siting_noise=0.0, opposition_weight=0.0)],
    )
    model.run_for(2)
    rows = biodiverse_rows(model)
    cheapest = rows[np.argmin(model.neighborhoods.land_price[rows])]
    assert model.scenario_named("techcore").corporation.site == cheapest


def test_building_destroys_site_habitat_by_the_species_area_law():
    tc = TechCoreProposal(announce_day=2, comment_period_days=7, expected_benefit=1e9)
    model = CityModel(n_citizens=300, scenarios=[tc], rng=4)
    model.run_for(2)
    hoods = model.neighborhoods
    site = tc.corporation.site
    area0 = float((hoods.habitat * hoods.area_km2).sum())
    lost = float(hoods.habitat[site] * hoods.area_km2[site] * tc.habitat_loss)
    model.run_for(8)
    assert tc.decision_ == "build" and model.facility_status == "built"
    assert hoods.extra_emission[site] == tc.emission_per_day
    expected = species_remaining(lost / area0, z=model.params.species_area_z)
    assert model.biodiversity_index == pytest.approx(float(expected), rel=1e-12)
    kinds = [e.kind for e in model.event_log]
    assert (
        kinds.index("proposal_announced")
        < kinds.index("facility_decision")
        < kinds.index("facility_built")
    )


def test_firm_withdraws_exactly_when_campaign_cost_exceeds_benefit(monkeypatch):
    tc = TechCoreProposal(announce_day=2, comment_period_days=70)
    model = CityModel(n_citizens=300, scenarios=[tc], rng=4)
    model.run_for(2)
    reading = {"sustained_share": 0.05, "persistence": 1.0, "votes_against": 0.0}
    monkeypatch.setattr(tc, "opposition", lambda: {**reading, "cost": tc.benefit_ * 0.99})
    model.run_for(20)
    assert model.facility_status == "proposed"
    assert len(model.event_log.of_kind("lobbying")) == 2
    monkeypatch.setattr(tc, "opposition", lambda: {**reading, "cost": tc.benefit_ * 1.01})
    model.run_for(7)
    assert model.facility_status == "withdrawn" and tc.decision_ == "withdraw"
    assert "techcore_threat" not in model.pipeline and not model.grievances


def test_threat_raises_concern_near_the_site_and_pr_lowers_it_everywhere():
    tc = TechCoreProposal(
        announce_day=2, threat_perception_rate=0.05, pr_effect=0.0, comment_period_days=100
    )
    model = CityModel(n_citizens=2000, scenarios=[tc], rng=6, mobility=0.0)
    model.run_for(1)
    before = model.citizens.concern.copy()
    model.run_for(30)
    d = hop_distance(model, tc.corporation.site)[model.citizens.home]
    change = model.citizens.concern - before
    assert change[d <= 1].mean() > change[d >= 5].mean() + 0.02


# ---------------------------------------------------------------- festival
def test_festival_mixes_citizens_from_across_the_city_at_the_plaza():
    model = CityModel(n_citizens=2000, scenarios=["harmony-festival"], rng=1)
    model.run_for(120)
    festival = model.scenario_named("harmony-festival")
    attendees = festival.attendees_
    plaza = plaza_rows(model)
    assert np.all(np.isin(model.citizens.location[attendees], plaza))
    homes = np.unique(model.citizens.home[attendees])
    assert len(homes) > model.n_nodes // 3
    # closer and more concerned citizens attend more often
    d = hop_distance(model, plaza)[model.citizens.home]
    went = np.isin(np.arange(model.n_citizens), attendees)
    assert went[d <= 2].mean() > went[d >= 6].mean()


def test_festival_recurs_every_year_and_can_be_switched_off():
    model = CityModel(n_citizens=200, scenarios=[HarmonyFestival(day=5)], rng=0, days=400)
    model.run_for(371)
    assert [e.day for e in model.event_log.of_kind("festival")] == [5, 370]
    model.scenario_named("harmony-festival").switch_off()
    assert "festival_rally" not in model.pipeline
    model.run_for(400)
    assert len(model.event_log.of_kind("festival")) == 2


def test_festival_reuses_waste_and_turns_into_a_rally_when_a_proposal_is_pending():
    firm = TechCoreProposal(expected_benefit=1e9)  # stays the course through the festival
    model = CityModel(n_citizens=3000, scenarios=[firm, "harmony-festival"], rng=2)
    model.run_for(120)
    frame = model.model_frame()
    rally = model.event_log.of_kind("rally")
    assert [e.day for e in rally] == [120]
    assert frame.loc[120, "protest_share"] >= rally[0].details["protest_share"]
    assert frame.loc[120, "waste_reused_kg"] == pytest.approx(2000.0)


# ---------------------------------------------------------------- roles and aftermath
def test_roles_switched_off_make_role_scenarios_quiet():
    off = dict.fromkeys(("designer", "organiser", "scientist", "artist"), 0)
    model = CityModel(n_citizens=300, scenarios=["story-roles", "aftermath"], rng=0, roles=off)
    model.run_for(200)
    kinds = {e.kind for e in model.event_log}
    assert kinds == {"role_absent"}
    assert len(model.event_log) == 8


def test_assemblies_spread_link_lower_thresholds_and_vote():
    model = CityModel(n_citizens=2000, scenarios=["techcore", "assembly-organiser"], rng=3)
    links_before = model.links.nnz
    model.run_for(150)
    organiser = model.scenario_named("assembly-organiser")
    rows = organiser.assembly_rows_
    assert len(rows) >= 5
    assert np.all(model.neighborhoods.protest_threshold_shift[rows] == -organiser.threshold_drop)
    assert model.links.nnz >= links_before + len(rows) * (len(rows) - 1) - 2 * len(rows)
    votes = model.event_log.of_kind("assembly_vote")
    assert votes and {e.node for e in votes} <= {model.node_ids[r] for r in rows}
    assert all(e.day >= 60 for e in votes)


def test_scientist_demonstrates_at_the_festival_then_deploys_in_biodiverse_zones():
    model = CityModel(n_citizens=1000, scenarios=["harmony-festival", "scientist"], rng=0)
    model.run_for(150)
    demo = model.event_log.of_kind("organism_demonstrated")
    assert [e.day for e in demo] == [120]
    assert (
        demo[0].details["audience"] == model.event_log.of_kind("festival")[0].details["attendance"]
    )
    deployed = model.event_log.of_kind("organism_deployed")
    assert deployed and all(model.node_index(e.node) in biodiverse_rows(model) for e in deployed)


def test_artist_reuses_corporate_waste_and_critique_doubles_the_effect():
    model = CityModel(n_citizens=1000, scenarios=["techcore", "artist"], rng=0)
    model.run_for(120)
    sculptures = model.event_log.of_kind("sculpture_unveiled")
    assert all(e.details["corporate_waste_kg"] > 0 for e in sculptures)
    # Critique while the proposal is pending: from its announcement until it is decided.
    (announced,) = model.event_log.of_kind("proposal_announced")
    decided = [e.day for e in model.event_log if e.kind in ("facility_withdrawn", "facility_built")]
    end = min(decided, default=model.day + 1)
    pending = [announced.day < e.day < end for e in sculptures]
    assert [e.details["critique"] for e in sculptures] == pending
    assert any(pending) and not all(pending)


def test_workshops_raise_habitat_and_funding_reaches_the_marginalised():
    model = CityModel(n_citizens=2000, scenarios=["assembly-organiser", "aftermath"], rng=0)
    hoods = model.neighborhoods
    habitat0, access0 = hoods.habitat.copy(), hoods.biotech_access.copy()
    model.run_for(250)
    assert (hoods.habitat - habitat0).max() > 0 and (hoods.habitat >= habitat0 - 1e-12).all()
    gain = hoods.biotech_access - access0
    marginal = hoods.marginalisation > np.median(hoods.marginalisation)
    assert gain[marginal].mean() > gain[~marginal].mean()
    assert model.event_log.of_kind("organism_rooted") and model.event_log.of_kind("community_art")


def test_composite_switch_off_switches_off_its_parts():
    model = CityModel(n_citizens=300, scenarios=["story-roles"], rng=0)
    model.run_for(70)
    model.scenario_named("story-roles").switch_off()
    assert not any(s.active for s in model.scenarios)
    assert "installation_visits" not in model.pipeline


def test_custom_parameter_helper_validates_ranges():
    @dataclass
    class Parade(Scenario):
        name = "parade-test"
        description = "a parade"
        length_km: float = parameter(2.0, unit="km", low=0.1, high=20.0, doc="route length")

        def setup(self, model):
            self.log("parade")

    with pytest.raises(ValueError, match=r"length_km.*out of range \[0.1, 20.0\] \(km\)"):
        CityModel(n_citizens=20, scenarios=[Parade(length_km=50.0)], rng=0)


def test_scheduling_anything_but_a_bound_method_is_refused():
    import functools
    from dataclasses import dataclass

    from waste_harmony.scenarios import Scenario

    @dataclass
    class Partial(Scenario):
        name = "partial-test"

        def setup(self, model):
            self.schedule(functools.partial(self.hit, 1), day=3)

        def hit(self, value):
            self.log("hit", value=value)

    with pytest.raises(TypeError, match="bound method"):
        CityModel(n_citizens=50, scenarios=[Partial()], rng=0)


def test_a_group_that_cannot_install_leaves_nothing_behind():
    model = CityModel(n_citizens=300, rng=1)
    model.run_for(40)
    rules = model.pipeline.names()
    with pytest.raises(ValueError, match="in the past"):
        model.add_scenario("story-roles")
    assert model.scenarios == [] and model.pipeline.names() == rules
    model.run_for(20)
    assert not model.event_log.of_kind("assembly_meeting")
