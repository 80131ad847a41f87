"""Convergence in the number of citizens: from what sample size a study's answer is the city's.

A run simulates a sample of the population: ``n_citizens`` citizens standing for the
city's ``population`` people. :func:`convergence` runs the same configuration at
increasing ``n_citizens`` with the same seeds at every size (common random numbers),
summarises each chosen output of each run by one number — its final value, its peak
or its mean over the run, or for a category (``facility_status``) whether the run
ended in it — and gives, per size, the estimate with its confidence interval, the
difference from the largest size (paired by seed) with its interval, and whether it
agrees with the largest size within a stated tolerance. An output has converged at
the smallest size from which every larger size agrees.

Every size stands for the same people: ``population`` is fixed (by default at the
largest size, where each citizen is one person), so the sizes differ only in how
finely the same city is sampled.

Intervals: Student's t for numbers (paired t for differences; Law 2015, §10.2),
Wilson's score interval for the share of runs in a category and Newcombe's paired
interval for its difference (:mod:`waste_harmony.proportions`).

References
----------
Law, A. M. (2015). *Simulation Modeling and Analysis*, 5th ed., McGraw-Hill, §10.2.
Scheffer, M., Baveco, J. M., DeAngelis, D. L., Rose, K. A. & van Nes, E. H. (1995).
Super-individuals: a simple solution for modelling large populations on an individual
basis. *Ecological Modelling* 80, 161–170.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from waste_harmony.batch.runner import Execution, experiment
from waste_harmony.batch.store import SweepResult
from waste_harmony.docstrings import shared_sections
from waste_harmony.experiments.compare import difference_interval as mean_difference
from waste_harmony.proportions import difference_interval as share_difference
from waste_harmony.proportions import wilson_interval

__all__ = [
    "DEFAULT_OUTPUTS",
    "DEFAULT_TOLERANCES",
    "STATISTICS",
    "ConvergenceResult",
    "converged_size",
    "convergence",
    "run_statistics",
]

#: How a run's series becomes one number: its last day, its largest value, its mean
#: over the simulated days (day 0, the initial state, left out).
STATISTICS = ("final", "peak", "mean")

#: The story's outputs judged by default: output → statistic, or → the category
#: whose share of runs is judged.
DEFAULT_OUTPUTS: dict[str, str] = {
    "facility_status": "withdrawn",
    "protest_share": "peak",
    "mean_concern": "final",
    "recycling_rate": "final",
    "mean_pollution": "final",
    "biotech_adoption": "final",
}

#: Default tolerances: for a category the largest difference of shares of runs
#: (absolute); for a number the largest factor between an estimate and the largest
#: size's (1.25: within -20 % and +25 %). Outputs not named take ``"*"``.
DEFAULT_TOLERANCES: dict[str, float] = {
    "facility_status": 0.1,
    "protest_share": 1.25,
    "*": 1.1,
}


def run_statistics(frame: pd.DataFrame, outputs: Mapping[str, str]) -> pd.DataFrame:
    """One number per run and output: final, peak or mean, or 1/0 for a category.

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy model series: ``run_id``, ``day`` and the outputs' columns.
    outputs : mapping
        Output → a statistic of :data:`STATISTICS`, or a category of a text output.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``run_id``, one column per output.

    Examples
    --------
    >>> frame = pd.DataFrame({"run_id": ["a"] * 3 + ["b"] * 3, "day": [0, 1, 2] * 2,
    ...                       "x": [0.0, 3.0, 1.0, 0.0, 1.0, 2.0],
    ...                       "s": ["none", "proposed", "withdrawn"] * 2})
    >>> run_statistics(frame, {"x": "peak", "s": "withdrawn"}).to_dict("list")
    {'x': [3.0, 2.0], 's': [1.0, 1.0]}
    """
    ordered = frame.sort_values(["run_id", "day"])
    runs = ordered.groupby("run_id", sort=True)
    columns = {}
    for name, statistic in outputs.items():
        if statistic == "final":
            columns[name] = runs[name].last().astype(float)
        elif statistic == "peak":
            columns[name] = runs[name].max().astype(float)
        elif statistic == "mean":
            columns[name] = ordered[ordered["day"] >= 1].groupby("run_id")[name].mean()
        else:
            columns[name] = (runs[name].last() == statistic).astype(float)
    return pd.DataFrame(columns)


def _tolerance(tolerances: Mapping[str, float], name: str) -> float:
    return float(tolerances.get(name, tolerances.get("*", DEFAULT_TOLERANCES["*"])))


def _agrees(estimate: float, reference: float, tolerance: float, category: bool) -> bool:
    if category:
        return bool(abs(estimate - reference) <= tolerance)
    if estimate == reference:
        return True
    if estimate <= 0 or reference <= 0:
        # Factors mean nothing across zero; then the gap must be within the
        # tolerance's share of the larger magnitude.
        return bool(
            abs(estimate - reference) <= (tolerance - 1) * max(abs(estimate), abs(reference))
        )
    return bool(max(estimate / reference, reference / estimate) <= tolerance)


@dataclass
class ConvergenceResult:
    """The outcome of :func:`convergence`.

    Attributes
    ----------
    result : SweepResult
        The runs (labels ``"n=<size>"``, one parameter point per size).
    sizes : list of int
        The sizes, ascending (``n_citizens``).
    districts : int or None
        Populated districts of the city (for sizes per district), if known.
    outputs : dict
        Output → statistic or category.
    tolerances : dict
        Output → tolerance (a difference of shares for categories, a factor otherwise).
    confidence : float
        Confidence level of the intervals.
    table : pandas.DataFrame
        One row per (output, size): ``output``, ``statistic``, ``size``,
        ``per_district``, ``estimate``, ``ci_low``, ``ci_high``, ``n``,
        ``difference`` (from the largest size, paired by seed), ``diff_ci_low``,
        ``diff_ci_high``, ``tolerance``, ``category``, ``agrees`` and
        ``converged_size`` (the output's, repeated; NaN when not converged).
    """

    result: SweepResult
    sizes: list[int]
    districts: int | None
    outputs: dict[str, str]
    tolerances: dict[str, float]
    confidence: float
    table: pd.DataFrame = field(repr=False)

    @property
    def converged(self) -> dict[str, int | None]:
        """Per output, the smallest size from which every larger size agrees.

        ``None`` when even the second-largest size does not agree (more sizes, or
        larger ones, are needed to tell).
        """
        first = self.table.groupby("output", sort=False)["converged_size"].first()
        return {
            name: None if pd.isna(first.get(name)) else int(first[name]) for name in self.outputs
        }

    def summary(self) -> pd.DataFrame:
        """Per output: its statistic, tolerance, largest size's estimate and converged size.

        Returns
        -------
        pandas.DataFrame
            ``output``, ``statistic``, ``tolerance``, ``reference`` (the estimate at
            the largest size), ``converged_size`` and ``converged_per_district``
            (``NaN`` when not converged within the sizes run).
        """
        rows = []
        largest = max(self.sizes)
        for name, statistic in self.outputs.items():
            ref = self.table[(self.table["output"] == name) & (self.table["size"] == largest)]
            size = self.converged[name]
            rows.append(
                {
                    "output": name,
                    "statistic": statistic,
                    "tolerance": self.tolerances[name],
                    "reference": float(ref["estimate"].iloc[0]) if len(ref) else math.nan,
                    "converged_size": math.nan if size is None else size,
                    "converged_per_district": (
                        math.nan if size is None or not self.districts else size / self.districts
                    ),
                }
            )
        return pd.DataFrame(rows)

    @shared_sections
    def plot(self, outputs: Sequence[str] | None = None, **kwargs: Any) -> Any:
        """The estimates against the sample size with intervals and tolerance bands.

        Parameters
        ----------
        outputs : list of str, optional
            Panels to draw (default: every output).
        **kwargs
            Passed to :func:`waste_harmony.plotting.convergence_figure`.

        {figure_returns}
        """
        from waste_harmony.plotting.convergence import convergence_figure

        table = self.table if outputs is None else self.table[self.table["output"].isin(outputs)]
        return convergence_figure(table, **kwargs)


def _districts(kwargs: Mapping[str, Any], model: Any) -> int | None:
    """Populated districts of the city the runs use, when it can be known here."""
    from waste_harmony.city import default_city, load_city

    if model is None:
        city = kwargs.get("city")
        graph = default_city() if city is None else city
    elif hasattr(getattr(model, "city", None), "build"):  # a run file (RunConfig)
        graph = model.city.build()
    else:
        return None
    try:
        graph = load_city(graph)
    except (TypeError, ValueError):
        return None
    weights = np.array([data.get("population", 0.0) for _, data in graph.nodes(data=True)])
    return int(np.count_nonzero(weights > 0)) or None


def _summarise(
    stats: pd.DataFrame,
    runs: pd.DataFrame,
    sizes: list[int],
    outputs: Mapping[str, str],
    tolerances: Mapping[str, float],
    districts: int | None,
    confidence: float,
    text_outputs: set[str],
) -> pd.DataFrame:
    from scipy import stats as scipy_stats

    runs = runs.set_index("run_id").join(stats, how="inner")
    largest = max(sizes)
    rows = []
    for name, statistic in outputs.items():
        category = name in text_outputs
        table = runs.pivot_table(index="replicate", columns="n_citizens", values=name)
        ref = table[largest] if largest in table else pd.Series(dtype=float)
        tol = _tolerance(tolerances, name)
        ref_estimate = float(ref.mean()) if len(ref) else math.nan
        for size in sizes:
            values = table[size].dropna() if size in table else pd.Series(dtype=float)
            n = len(values)
            estimate = float(values.mean()) if n else math.nan
            if category:
                low, high = (
                    wilson_interval(int(values.sum()), n, confidence) if n else (math.nan,) * 2
                )
                both = pd.concat([values, ref], axis=1, join="inner").to_numpy(dtype=bool)
                a = int((both[:, 0] & both[:, 1]).sum())
                b = int((both[:, 0] & ~both[:, 1]).sum())
                c = int((~both[:, 0] & both[:, 1]).sum())
                d = int((~both[:, 0] & ~both[:, 1]).sum())
                diff = share_difference(a, b, c, d, paired=True, confidence=confidence)
                difference, diff_low, diff_high = (
                    diff["difference"],
                    diff["ci_low"],
                    diff["ci_high"],
                )
            else:
                se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
                half = (
                    float(scipy_stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
                    if n > 1
                    else math.nan
                )
                low, high = estimate - half, estimate + half
                pair = pd.concat([ref, values], axis=1, join="inner").to_numpy(dtype=float)
                diff = mean_difference(pair[:, 0], pair[:, 1], paired=True, confidence=confidence)
                difference, diff_low, diff_high = (
                    diff["difference"],
                    diff["ci_low"],
                    diff["ci_high"],
                )
            rows.append(
                {
                    "output": name,
                    "statistic": statistic,
                    "size": size,
                    "per_district": size / districts if districts else math.nan,
                    "estimate": estimate,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                    "reference": ref_estimate,
                    "difference": difference,
                    "diff_ci_low": diff_low,
                    "diff_ci_high": diff_high,
                    "tolerance": tol,
                    "category": category,
                    "agrees": bool(n) and _agrees(estimate, ref_estimate, tol, category),
                }
            )
    table = pd.DataFrame(rows)
    table["converged_size"] = table.groupby("output", sort=False)["agrees"].transform(
        lambda agrees: converged_size(table.loc[agrees.index, "size"], agrees)
    )
    return table


def converged_size(sizes: pd.Series, agrees: pd.Series) -> float:
    """The smallest size from which every larger size agrees (NaN if the next-largest does not).

    The largest size is the reference and agrees with itself, so it never counts as
    converged alone.

    Parameters
    ----------
    sizes, agrees : pandas.Series
        Sizes and whether each agrees with the largest, aligned.

    Returns
    -------
    float
        The size, or NaN.

    Examples
    --------
    >>> converged_size(pd.Series([10, 30, 100, 300]), pd.Series([False, True, True, True]))
    30.0
    >>> converged_size(pd.Series([10, 30, 100]), pd.Series([True, False, True]))
    nan
    """
    order = np.argsort(sizes.to_numpy())
    size = sizes.to_numpy()[order]
    ok = agrees.to_numpy(dtype=bool)[order]
    found = math.nan
    for i in range(len(size) - 2, -1, -1):
        if not ok[i]:
            break
        found = float(size[i])
    return found


def convergence(
    sizes: Sequence[int] | None = None,
    *,
    per_district: Sequence[float] | None = None,
    model: Any = None,
    population: float | None = None,
    outputs: Mapping[str, str] | None = None,
    tolerances: Mapping[str, float] | None = None,
    seeds: int | Sequence[int] = 20,
    days: int | None = None,
    root_seed: int | None = None,
    confidence: float = 0.95,
    out: str | os.PathLike[str] | None = None,
    executor: Any = None,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    write_on: str = "workers",
    **kwargs: Any,
) -> ConvergenceResult:
    """Run one configuration at increasing numbers of citizens and judge where it converges.

    Parameters
    ----------
    sizes : list of int, optional
        The ``n_citizens`` to run (at least two).
    per_district : list of float, optional
        The sizes as citizens per populated district of the city (instead of
        ``sizes``; needs the city, given as ``city=`` or the default city).
    model : class, callable or RunConfig, optional
        What to build (see :func:`~waste_harmony.experiments.run`).
    population : float, optional
        The people every size stands for (default: the largest size).
    outputs : mapping, optional
        Output → statistic (``"final"``, ``"peak"``, ``"mean"``) or, for a text
        output such as ``facility_status``, the category whose share of runs is
        judged (default :data:`DEFAULT_OUTPUTS`).
    tolerances : mapping, optional
        Output → tolerance: for a category the largest difference of shares, for a
        number the largest factor between a size's estimate and the largest size's
        (``"*"``: every other output). Defaults: :data:`DEFAULT_TOLERANCES`.
    seeds : int or list of int
        Replicates per size; replicate ``r`` has the same seed at every size.
    days, root_seed
        As in :func:`~waste_harmony.experiments.ensemble`.
    confidence : float
        Confidence level of the intervals.
    out, executor, workers, resume, overwrite, progress, write_on
        As in :func:`~waste_harmony.experiments.ensemble`.
    **kwargs
        Model keyword arguments shared by every size (``city``, ``scenarios``,
        parameters).

    Returns
    -------
    ConvergenceResult
        The table of estimates and differences, the converged size per output
        (:attr:`ConvergenceResult.converged`), a summary and a figure.

    Raises
    ------
    TypeError, ValueError
        If sizes are missing, given twice, fewer than two or not positive, an output
        is not recorded, a statistic is unknown, or ``n_citizens`` or
        ``population`` is in ``kwargs``.

    Examples
    --------
    >>> from waste_harmony import experiments
    >>> r = experiments.convergence([200, 800], seeds=2, days=5, root_seed=1,
    ...                             outputs={"mean_concern": "final"},
    ...                             executor="serial", progress=False)
    >>> r.table[["size", "n"]].to_dict("list")
    {'size': [200, 800], 'n': [2, 2]}
    >>> r.summary()["output"].tolist()
    ['mean_concern']
    """
    from waste_harmony.recording import OUTPUTS

    for key in ("n_citizens", "population"):
        if key in kwargs:
            raise TypeError(
                f"{key} is set by convergence itself; give the sizes as sizes= or "
                "per_district=, and the people they stand for as population="
            )
    districts = _districts(kwargs, model)
    if (sizes is None) == (per_district is None):
        raise TypeError("give the sizes as sizes= (n_citizens) or per_district=, one of them")
    if per_district is not None:
        if not districts:
            raise ValueError(
                "per_district= needs the city's populated districts: pass the city as "
                "city=, or give the sizes as sizes= (n_citizens)"
            )
        sizes = [round(float(k) * districts) for k in per_district]
    chosen = sorted({int(s) for s in sizes or []})
    if len(chosen) < 2 or chosen[0] <= 0:
        raise ValueError(
            f"convergence needs at least two different positive sizes, got {list(sizes or [])}"
        )
    wanted = dict(DEFAULT_OUTPUTS if outputs is None else outputs)
    kinds = {v.name: v.unit for v in OUTPUTS}
    text_outputs = {name for name, unit in kinds.items() if unit == "category"}
    for name, statistic in wanted.items():
        if name not in kinds:
            raise ValueError(f"unknown output {name!r}; recorded outputs: {', '.join(kinds)}")
        if name not in text_outputs and statistic not in STATISTICS:
            raise ValueError(
                f"output {name!r}: statistic {statistic!r} is not one of {', '.join(STATISTICS)}"
            )
    tols = {**DEFAULT_TOLERANCES, **(tolerances or {})}
    fixed = {**kwargs, "population": float(population if population is not None else chosen[-1])}
    result = experiment(
        "convergence",
        model,
        points=[{"n_citizens": s} for s in chosen],
        labels=[f"n={s}" for s in chosen],
        seeds=seeds,
        days=days,
        root_seed=root_seed,
        fixed=fixed,
        execution=Execution(out, executor, workers, resume, overwrite, progress, write_on),
        common_random_numbers=True,
    )
    frame = result.load(list(wanted))
    stats = run_statistics(frame, wanted)
    runs = result.runs()
    runs = runs[runs["status"] == "finished"][["run_id", "replicate", "n_citizens"]]
    table = _summarise(
        stats, runs, chosen, wanted, tols, districts, confidence, text_outputs & set(wanted)
    )
    return ConvergenceResult(
        result=result,
        sizes=chosen,
        districts=districts,
        outputs=wanted,
        tolerances={name: _tolerance(tols, name) for name in wanted},
        confidence=confidence,
        table=table,
    )
