# Over 600 lines by choice: one declaration per model parameter (unit, range, source) in
# the one dataclass CityModel takes, about 530 of them; splitting it would split the table.
"""The model's parameters: one typed dataclass with units, ranges and sources.

Every keyword argument of :class:`~waste_harmony.CityModel` other than the city,
the number of citizens, the scenarios, the random generator and the citizen class
is a field of :class:`Parameters`. Each field carries its unit, admissible range,
source and a one-line description in its metadata; :func:`parameter_table`
renders them (the ODD document's table is generated from it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from waste_harmony.paramspec import (
    Constraint,
    ParamSpec,
    check,
    declare,
    problems,
    rows,
    specs,
    unknown_keyword,
    zero_or_at_least,
)

__all__ = ["ROLE_NAMES", "Parameters", "parameter_table", "violations"]

#: Citizen roles of the story, in the order of their role codes 1..4.
ROLE_NAMES: tuple[str, ...] = ("designer", "organiser", "scientist", "artist")


def _p(
    default: float,
    unit: str,
    low: float | None,
    high: float | None,
    source: str,
    doc: str,
    **more: Any,
) -> Any:
    return declare(
        default, kind="float", unit=unit, low=low, high=high, source=source, meaning=doc, **more
    )


def _default_roles() -> dict[str, int]:
    return dict.fromkeys(ROLE_NAMES, 1)


@dataclass(frozen=True, kw_only=True)
class Parameters:
    """All behaviour parameters of the city model, with documented defaults.

    Build one with keyword arguments; unknown names raise :class:`TypeError` naming the
    closest valid one, values outside their range raise :class:`ValueError`.

    Examples
    --------
    >>> Parameters(waste_per_capita_kg=1.2).waste_per_capita_kg
    1.2
    >>> Parameters.from_kwargs({"waste_per_capita": 1.0})
    Traceback (most recent call last):
    ...
    TypeError: unknown parameter 'waste_per_capita'; did you mean 'waste_per_capita_kg'?
    """

    # --- waste -----------------------------------------------------------------
    waste_per_capita_kg: float = _p(
        0.74,
        "kg per citizen per day",
        0.0,
        10.0,
        "Kaza et al. 2018, World Bank What a Waste 2.0 (global mean)",
        "mean municipal solid waste generated per citizen per day",
    )
    waste_cv: float = _p(
        0.5,
        "dimensionless",
        0.01,
        5.0,
        "assumption (household-level day-to-day variation)",
        "coefficient of variation of one citizen's daily waste (Gamma distributed)",
    )
    recyclable_fraction: float = _p(
        0.38,
        "share of waste",
        0.0,
        1.0,
        "Kaza et al. 2018: paper 17 % + plastic 12 % + glass 5 % + metal 4 %",
        "share of a recycling citizen's waste that is diverted to recycling",
    )
    collection_rate: float = _p(
        0.9,
        "share of stock per day",
        0.0,
        1.0,
        "assumption (near-daily kerbside collection)",
        "share of each neighbourhood's waste stock moved to the landfill each day",
    )
    # --- recycling (theory of planned behaviour) ------------------------------
    recycling_intercept: float = _p(
        -3.0,
        "log-odds",
        -20.0,
        20.0,
        "form: Ajzen 1991; value: assumption",
        "intercept of the recycling logit",
    )
    recycling_weight_concern: float = _p(
        3.0,
        "log-odds per unit concern",
        0.0,
        20.0,
        "form: Tonglet et al. 2004; value: assumption",
        "weight of environmental concern (attitude) in the recycling logit",
    )
    recycling_weight_norm: float = _p(
        2.0,
        "log-odds per unit share",
        0.0,
        20.0,
        "form: Cialdini et al. 1990; value: assumption",
        "weight of the neighbourhood's recycling share yesterday (social norm)",
    )
    recycling_weight_infrastructure: float = _p(
        1.5,
        "log-odds per unit",
        0.0,
        20.0,
        "form: Tonglet et al. 2004; value: assumption",
        "weight of the neighbourhood's recycling infrastructure (behavioural control)",
    )
    # --- concern (Deffuant–Weisbuch) -------------------------------------------
    concern_confidence: float = _p(
        0.3,
        "concern units",
        0.0,
        1.0,
        "form: Deffuant et al. 2000 (ε); value: assumption",
        "bounded-confidence threshold ε: citizens closer than this influence each other",
    )
    concern_convergence: float = _p(
        0.3,
        "dimensionless",
        0.0,
        0.5,
        "form: Deffuant et al. 2000 (μ); value: assumption",
        "convergence μ: share of the difference each closes in an encounter",
    )
    mobility: float = _p(
        0.3,
        "probability per day",
        0.0,
        1.0,
        "assumption",
        "probability that a citizen spends the day at another place within outing_km instead "
        "of home",
    )
    outing_km: float = _p(
        0.8,
        "km",
        0.0,
        5.0,
        "form: activity space, Schönfelder & Axhausen 2003; value: median walking trip "
        "(about half a mile), Yang & Diez-Roux 2012",
        "street distance within which a citizen who goes out spends the day",
    )
    initial_concern_mean: float = _p(
        0.45,
        "concern units",
        0.001,
        0.999,
        "assumption",
        "mean initial concern (Beta distributed)",
    )
    initial_concern_sd: float = _p(
        0.2, "concern units", 0.01, 0.49, "assumption", "s.d. of initial concern"
    )
    pollution_concern_rate: float = _p(
        0.001,
        "per day",
        0.0,
        1.0,
        "mechanism: Slovic 1987; value: assumption",
        "rate at which perceived local pollution raises concern towards 1",
    )
    pollution_half_saturation: float = _p(
        15.0,
        "µg/m³",
        1e-6,
        1e6,
        "WHO 2021 air quality guidelines, interim target 3",
        "pollution at which perceived harm is one half",
    )
    concern_fading: float = _p(
        0.0019,
        "per day",
        0.0,
        1.0,
        "form: issue-attention cycle, Downs 1972; decay of induced attitude change, Cook & "
        "Flay 1978; value: assumption (half-life about a year, 365 days)",
        "share of the gap to the citizen's baseline concern closed per day: raised or "
        "lowered concern fades back (0: never)",
    )
    # --- protest (Granovetter) -------------------------------------------------
    protest_threshold_mean: float = _p(
        0.25,
        "share of observed participants",
        0.0,
        1.0,
        "form: Granovetter 1978; value: assumption",
        "mean protest threshold",
    )
    protest_threshold_sd: float = _p(
        0.15,
        "share",
        0.0,
        1.0,
        "form: Granovetter 1978; value: assumption",
        "s.d. of protest thresholds",
    )
    protest_concern_min: float = _p(
        0.5,
        "concern units",
        0.0,
        1.0,
        "assumption (grievance requires concern)",
        "citizens below this concern never protest",
    )
    protest_link_weight: float = _p(
        0.3,
        "dimensionless",
        0.0,
        1.0,
        "form: Watts 2002; value: assumption",
        "weight of linked neighbourhoods in the participation share a citizen observes",
    )
    cohorts: bool = declare(
        True,
        kind="bool",
        unit="",
        source="super-individuals, Scheffer et al. 1995; Granovetter 1978; Ben-Naim et al. 2003",
        meaning="each citizen stands for a cohort of its home's people (super-individuals): "
        "protest, rallies and assembly votes count the share of its people who act, concern "
        "moves by the expected encounters, every district gets at least 10 citizens with "
        "stratified concern (false: each citizen one person, the former rules)",
    )
    # --- pollution -------------------------------------------------------------
    industrial_emission_scale: float = _p(
        0.5,
        "µg/m³ per day per unit emission",
        0.0,
        1000.0,
        "calibrated: the default city's industrial nodes at 19-41 µg/m³ PM2.5 (median 26, "
        "between WHO 2021 interim targets 2 and 1), homes at 10-13, area-weighted city mean "
        "12.5; annual means of cities: WHO ambient air quality database 2022, van Donkelaar "
        "et al. 2021",
        "pollution added per day by a node's industrial_emission of 1",
    )
    waste_emission_factor: float = _p(
        0.05,
        "µg/m³ per day per t/km²",
        0.0,
        1000.0,
        "form: emission density of a box model, Seinfeld & Pandis 2016; value: assumption "
        "(odour, burning, methane; 0.2 per tonne on the 0.25 km² default cells)",
        "pollution added per day per tonne of uncollected waste per km² of neighbourhood",
    )
    landfill_emission_factor: float = _p(
        0.0005,
        "µg/m³ per day per t/km²",
        0.0,
        1000.0,
        "form: emission density of a box model, Seinfeld & Pandis 2016; value: assumption "
        "(managed landfill; 0.002 per tonne on the 0.25 km² default cells)",
        "pollution added per day per tonne of waste per km² held at a landfill node",
    )
    background_pollution: float = _p(
        10.0,
        "µg/m³",
        0.0,
        1000.0,
        "form: regional background plus urban increment, Lenschow et al. 2001; value: "
        "assumption (urban background of European cities is mostly regional, 64-74 %, "
        "Pandolfi et al. 2020; WHO 2021 interim target 4)",
        "concentration of air arriving from outside the modelled sources (regional and "
        "transboundary aerosol, diffuse traffic and heating); pollution relaxes towards it",
    )
    pollution_decay: float = _p(
        0.2,
        "per day",
        0.0,
        10.0,
        "form: Seinfeld & Pandis 2016; value: assumption",
        "first-order removal (deposition, chemistry, ventilation) rate of the pollution "
        "above the background",
        constraints=(zero_or_at_least("pollution_decay", 1e-6),),
    )
    pollution_diffusion: float = _p(
        0.0125,
        "km²/day",
        0.0,
        100.0,
        "form: finite-volume diffusion, Eymard et al. 2000; value: assumption (0.05 per "
        "day per edge of the 0.5 km default grid)",
        "diffusion coefficient of ground-level pollution between neighbourhoods",
    )
    # --- organism ----------------------------------------------------------------
    organism_growth_rate: float = _p(
        0.05,
        "per day",
        0.0,
        1.0,
        "form: Verhulst 1838; value: assumption",
        "intrinsic growth rate r of the organism",
    )
    organism_dispersal: float = _p(
        0.005,
        "km²/day",
        0.0,
        10.0,
        "form: Fisher 1937, Skellam 1951; value: assumption (0.02 per day per edge of "
        "the 0.5 km default grid)",
        "diffusion coefficient D of organism biomass (front speed 2√(rD) km/day)",
    )
    organism_capacity_kg_per_km2: float = _p(
        2000.0,
        "kg per km² of habitat",
        0.0,
        1e7,
        "assumption",
        "carrying capacity per km² of habitat",
    )
    organism_waste_uptake: float = _p(
        0.05,
        "kg waste per kg biomass per day",
        0.0,
        10.0,
        "assumption",
        "waste eaten per kg of biomass per day",
    )
    organism_air_uptake: float = _p(
        0.125,
        "per day per t/km² of biomass",
        0.0,
        1000.0,
        "form: removal per unit of canopy density, Nowak et al. 2006; value: assumption "
        "(0.5 per tonne on the 0.25 km² default cells)",
        "pollution removal rate per tonne of biomass per km²",
    )
    organism_restoration: float = _p(
        0.002,
        "per day",
        0.0,
        1.0,
        "assumption",
        "habitat restored per day at full occupancy, as share of non-habitat",
    )
    organism_colony_kg: float = _p(
        1.0, "kg", 0.0, 1e6, "assumption", "biomass at which a node counts as colonised"
    )
    # --- biotech adoption (Bass) -------------------------------------------------
    bass_p: float = _p(
        0.03,
        "per year",
        0.0,
        10.0,
        "Sultan, Farley & Lehmann 1990 (mean p)",
        "Bass coefficient of innovation",
    )
    bass_q: float = _p(
        0.38,
        "per year",
        0.0,
        10.0,
        "Sultan, Farley & Lehmann 1990 (mean q)",
        "Bass coefficient of imitation",
    )
    bass_locality: float = _p(
        0.5,
        "dimensionless",
        0.0,
        1.0,
        "assumption",
        "weight of the own neighbourhood (vs the whole city) in the adopted share observed",
    )
    biotech_diversion: float = _p(
        0.3,
        "share of waste",
        0.0,
        1.0,
        "assumption (household bio-digesters)",
        "share of an adopter's non-recycled waste consumed by household biotech",
    )
    # --- biodiversity ------------------------------------------------------------
    species_area_z: float = _p(
        0.25,
        "dimensionless",
        0.0,
        1.0,
        "Rosenzweig 1995 (typical z 0.15-0.35)",
        "exponent z of the species–area relationship S = cA^z",
    )
    # --- the story's people ------------------------------------------------------
    roles: dict[str, int] = field(
        default_factory=_default_roles,
        metadata={
            "spec": ParamSpec(
                kind="mapping",
                unit="citizens",
                low=0,
                source="the story",
                meaning="number of citizens in each role: designer, organiser, scientist, "
                "artist (0 switches a role off)",
            ),
            "unit": "citizens",
            "range": (0, None),
            "source": "the story",
            "doc": "number of citizens in each role: designer, organiser, scientist, "
            "artist (0 switches a role off)",
        },
    )

    #: Conditions that must hold jointly (checked with the ranges, before anything runs).
    constraints: ClassVar[tuple[Constraint, ...]] = (
        Constraint(
            "initial_concern_sd < sqrt(initial_concern_mean (1 - initial_concern_mean))",
            lambda v: (
                v["initial_concern_sd"] ** 2
                < v["initial_concern_mean"] * (1 - v["initial_concern_mean"])
            ),
            "the Beta distribution of initial concern needs a smaller s.d. for this mean; "
            "lower initial_concern_sd or move initial_concern_mean towards 0.5",
            names=("initial_concern_mean", "initial_concern_sd"),
        ),
    )

    def __post_init__(self) -> None:
        self._check_roles(self.roles)
        values = {name: getattr(self, name) for name in self.names() if name != "roles"}
        declared = [s for s in specs(type(self)) if s.name != "roles"]
        check(declared, values, self.constraints)

    @staticmethod
    def _check_roles(roles: Any) -> None:
        if not isinstance(roles, Mapping):
            raise TypeError(f"roles must be a mapping like {_default_roles()}, got {roles!r}")
        for name, count in roles.items():
            if name not in ROLE_NAMES:
                raise ValueError(
                    f"{unknown_keyword(str(name), ROLE_NAMES, what='role')} "
                    f"Valid roles: {', '.join(ROLE_NAMES)}"
                )
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(
                    f"roles[{name!r}] must be a non-negative integer count, got {count!r}"
                )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Names of all parameters.

        Returns
        -------
        tuple of str
            Field names in definition order.
        """
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def specs(cls) -> list[ParamSpec]:
        """The declared parameters (one :class:`~waste_harmony.paramspec.ParamSpec` each).

        Returns
        -------
        list of ParamSpec
            In definition order.
        """
        return specs(cls)

    @classmethod
    def violations(cls, values: Mapping[str, Any]) -> list[str]:
        """Every problem of a set of parameter values, without raising.

        Unknown names, wrong kinds, non-finite or out-of-range values and violated
        joint :attr:`constraints` are all reported, so a sweep or a sensitivity design
        can be refused before anything runs.

        Parameters
        ----------
        values : Mapping
            Parameter name → value (missing ones take their defaults).

        Returns
        -------
        list of str
            One message per problem; empty when the values are admissible.

        Examples
        --------
        >>> Parameters.violations({"initial_concern_mean": 0.1, "initial_concern_sd": 0.4})
        ['initial_concern_sd < sqrt(initial_concern_mean (1 - initial_concern_mean)) does not \
hold (initial_concern_mean=0.1, initial_concern_sd=0.4); the Beta distribution of initial \
concern needs a smaller s.d. for this mean; lower initial_concern_sd or move \
initial_concern_mean towards 0.5']
        >>> Parameters.violations({"mobility": float("nan")})[0][:40]
        "parameter 'mobility' = nan is not finite"
        """
        found = []
        rest = dict(values)
        if "roles" in rest:
            try:
                cls._check_roles(rest.pop("roles"))
            except (TypeError, ValueError) as exc:
                found.append(str(exc))
        declared = [s for s in specs(cls) if s.name != "roles"]
        found += [
            msg for _, msg in problems(declared, rest, cls.constraints, extra_names=["roles"])
        ]
        return found

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> Parameters:
        """Build from keyword arguments, naming the closest valid name for a typo.

        Parameters
        ----------
        kwargs : Mapping
            Parameter values; missing ones take their defaults. ``roles`` may be partial
            (missing roles keep their default count).

        Returns
        -------
        waste_harmony.parameters.Parameters
            The validated parameters.

        Raises
        ------
        TypeError
            For an unknown name.
        """
        valid = cls.names()
        for key in kwargs:
            if key not in valid:
                raise TypeError(unknown_keyword(key, valid))
        values = dict(kwargs)
        if "roles" in values and isinstance(values["roles"], Mapping):
            cls._check_roles(values["roles"])
            values["roles"] = {**_default_roles(), **values["roles"]}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """All parameter values as a plain dictionary (JSON-serialisable).

        Returns
        -------
        dict
            Name → value.
        """
        return {
            name: (dict(v) if isinstance(v := getattr(self, name), dict) else v)
            for name in self.names()
        }

    def recycling_coefficients(self) -> dict[str, float]:
        """The four coefficients of the recycling logit, as keywords of the rule.

        Returns
        -------
        dict
            ``intercept``, ``weight_concern``, ``weight_norm``, ``weight_infrastructure``
            for :func:`waste_harmony.dynamics.recycling.recycling_probability`.

        Examples
        --------
        >>> Parameters().recycling_coefficients()["intercept"]
        -3.0
        """
        return {
            "intercept": self.recycling_intercept,
            "weight_concern": self.recycling_weight_concern,
            "weight_norm": self.recycling_weight_norm,
            "weight_infrastructure": self.recycling_weight_infrastructure,
        }


def violations(values: Mapping[str, Any]) -> list[str]:
    """Every problem of a set of model parameter values (see :meth:`Parameters.violations`).

    Parameters
    ----------
    values : Mapping
        Parameter name → value.

    Returns
    -------
    list of str
        Empty when the values are admissible.

    Examples
    --------
    >>> violations({"mobility": 0.5})
    []
    """
    return Parameters.violations(values)


def parameter_table() -> list[dict[str, Any]]:
    """One row per parameter: name, default, unit, range, source, meaning.

    Rendered by :func:`waste_harmony.paramspec.rows` (the same renderer as scenario
    parameters); joint constraints appear in the ``range_text`` of the parameters
    they read.

    Returns
    -------
    list of dict
        Rows in definition order.

    Examples
    --------
    >>> row = parameter_table()[0]
    >>> row["name"], row["default"], row["unit"], row["range_text"]
    ('waste_per_capita_kg', 0.74, 'kg per citizen per day', '[0, 10]')
    """
    return rows(specs(Parameters), Parameters.constraints)
