"""Paired comparisons: what a change does, with confidence intervals.

Two designs:

* **Common random numbers** (default): the baseline and the variant are run
  with the same seeds, replicate by replicate, so both face the same random
  draws as far as their dynamics allow; the difference is estimated from the
  per-replicate differences (a paired t interval), which is usually far
  narrower than comparing independent runs (Law 2015, §11.2).
* **Branching**: each replicate runs one model to ``at_day``, copies it
  (:meth:`~waste_harmony.CityModel.copy`) and applies the intervention to the
  copy only. Both branches share their whole history up to the intervention,
  including the state of the random generator, so the difference is the
  intervention's alone.

References
----------
Law, A. M. (2015). *Simulation Modeling and Analysis*, 5th ed., McGraw-Hill,
§11.2 (common random numbers) and §10.2 (paired-t and Welch confidence intervals).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from waste_harmony.batch.plan import Branch, RunFilePair, resolve_factory
from waste_harmony.batch.runner import Execution, experiment
from waste_harmony.batch.store import SweepResult
from waste_harmony.proportions import difference_interval as proportion_difference
from waste_harmony.proportions import mcnemar

__all__ = ["Comparison", "compare", "difference_interval", "recorded_variables"]


def difference_interval(
    baseline: np.ndarray, variant: np.ndarray, *, paired: bool, confidence: float = 0.95
) -> dict[str, Any]:
    """Mean difference ``variant - baseline`` with a t confidence interval.

    Parameters
    ----------
    baseline, variant : array
        One value per replicate (aligned by replicate when ``paired``); 2-D arrays
        hold one group per row (e.g. one day per row) and give one result per row.
        NaN marks a missing run.
    paired : bool
        Paired-t interval on per-replicate differences (common random numbers,
        branching), or Welch's interval for independent samples.
    confidence : float
        Confidence level.

    Returns
    -------
    dict
        ``difference``, ``ci_low``, ``ci_high``, ``se``, ``n`` (floats, or arrays for
        2-D input).

    Examples
    --------
    >>> r = difference_interval(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.4, 3.6]),
    ...                         paired=True)
    >>> round(r["difference"], 3), r["ci_low"] < 0.5 < r["ci_high"]
    (0.5, True)
    """
    from scipy import stats

    b = np.asarray(baseline, dtype=float)
    v = np.asarray(variant, dtype=float)
    scalar = b.ndim == 1
    b, v = np.atleast_2d(b), np.atleast_2d(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        if paired:
            d = v - b
            n = np.sum(~np.isnan(d), axis=1)
            mean = np.nanmean(d, axis=1) if d.shape[1] else np.full(len(d), np.nan)
            se = np.where(n > 1, np.nanstd(d, axis=1, ddof=1) / np.sqrt(n), np.nan)
            df = n - 1.0
        else:
            nb = np.sum(~np.isnan(b), axis=1)
            nv = np.sum(~np.isnan(v), axis=1)
            n = np.minimum(nb, nv)
            mean = np.nanmean(v, axis=1) - np.nanmean(b, axis=1)
            vb = np.where(nb > 1, np.nanvar(b, axis=1, ddof=1), np.nan) / nb
            vv = np.where(nv > 1, np.nanvar(v, axis=1, ddof=1), np.nan) / nv
            se = np.sqrt(vb + vv)
            df = (vb + vv) ** 2 / (vb**2 / (nb - 1) + vv**2 / (nv - 1))  # Welch-Satterthwaite
            df = np.where(np.isfinite(df), df, np.maximum(n - 1.0, 1.0))
        half = np.where(se == 0, 0.0, stats.t.ppf(0.5 + confidence / 2, np.maximum(df, 1)) * se)
        half = np.where(n > 1, half, np.nan)
    out = {"difference": mean, "ci_low": mean - half, "ci_high": mean + half, "se": se, "n": n}
    if scalar:
        return {k: (int(val[0]) if k == "n" else float(val[0])) for k, val in out.items()}
    return out


@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    Attributes
    ----------
    result : SweepResult
        The runs (labels ``"baseline"`` and ``"variant"``).
    variables : list of str
        Variables compared.
    paired : bool
        Whether differences are paired by replicate (common random numbers or
        branching) or independent (Welch).
    confidence : float
        Confidence level of the intervals.
    differences : pandas.DataFrame
        One row per (variable, day) of the numeric variables: ``baseline_mean``,
        ``variant_mean``, ``difference``, ``ci_low``, ``ci_high``, ``se``, ``n``.
    proportions : pandas.DataFrame
        One row per (variable, category, day) of the categorical variables
        (``facility_status``): the share of runs in the category, ``baseline_share``,
        ``variant_share``, their ``difference`` with Newcombe's interval
        (``ci_low``, ``ci_high``; paired: method 10 of Newcombe 1998b, otherwise
        the square-and-add interval), ``p_value`` (McNemar's exact test when
        paired, else NaN) and ``n``. See :meth:`shares`.
    """

    result: SweepResult
    variables: list[str]
    paired: bool
    confidence: float
    differences: pd.DataFrame
    proportions: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    def shares(self, variable: str | None = None, *, day: int | None = None) -> pd.DataFrame:
        """How often each category happens with and without the change, on one day.

        "TechCore withdraws in x % of runs with the policy and y % without": the
        shares of runs in each category of a categorical variable on ``day`` (the
        last day by default), their difference (variant − baseline) with its
        interval and McNemar's p-value for paired runs.

        Parameters
        ----------
        variable : str, optional
            A compared categorical variable (default: all of them).
        day : int, optional
            The day (default: the last recorded day).

        Returns
        -------
        pandas.DataFrame
            Rows of :attr:`proportions` for that day.
        """
        rows = self.proportions
        if rows.empty:
            raise KeyError(f"no categorical variable was compared; compared: {self.variables}")
        if variable is not None:
            if variable not in set(rows["variable"]):
                raise KeyError(f"{variable!r} was not compared as a category")
            rows = rows[rows["variable"] == variable]
        on = int(rows["day"].max()) if day is None else day
        return rows[rows["day"] == on].reset_index(drop=True)

    def summary(self, *, from_day: int = 1) -> pd.DataFrame:
        """Per variable, the difference of the runs' time-averages, with its interval.

        Parameters
        ----------
        from_day : int
            Average over days ``>= from_day`` only (e.g. after an intervention). The
            default 1 averages the simulated days: day 0, the initial state, has no
            flows and is left out.

        Returns
        -------
        pandas.DataFrame
            One row per numeric variable: ``baseline_mean``, ``variant_mean``,
            ``difference``, ``ci_low``, ``ci_high``, ``se``, ``n``; then one row per
            category of each categorical variable (``"facility_status =
            withdrawn"``): the shares of runs on the last day as the means, their
            difference with Newcombe's interval, and ``p_value`` (McNemar).
        """
        numeric = [v for v in self.variables if v in set(self.differences.get("variable", []))]
        frame = self.result.load(numeric) if numeric else pd.DataFrame()
        rows = []
        if numeric:
            frame = frame[frame["day"] >= from_day]
            means = frame.groupby(["label", "replicate"])[numeric].mean()
        for variable in numeric:
            table = means[variable].unstack("label")
            row = difference_interval(
                table.get("baseline", pd.Series(dtype=float)).to_numpy(),
                table.get("variant", pd.Series(dtype=float)).to_numpy(),
                paired=self.paired,
                confidence=self.confidence,
            )
            rows.append(
                {
                    "variable": variable,
                    "baseline_mean": float(table["baseline"].mean()),
                    "variant_mean": float(table["variant"].mean()),
                    **row,
                }
            )
        if not self.proportions.empty:  # categories: the share of runs on the last day
            for _, share in self.shares().iterrows():
                rows.append(
                    {
                        "variable": f"{share['variable']} = {share['category']}",
                        "baseline_mean": share["baseline_share"],
                        "variant_mean": share["variant_share"],
                        "difference": share["difference"],
                        "ci_low": share["ci_low"],
                        "ci_high": share["ci_high"],
                        "n": share["n"],
                        "p_value": share["p_value"],
                    }
                )
        return pd.DataFrame(rows)

    def plot(self, variable: str, *, ax: Any = None) -> Any:
        """Plot the mean difference of one variable over time with its interval.

        Parameters
        ----------
        variable : str
            A compared variable.
        ax : matplotlib.axes.Axes, optional
            Where to draw.

        Returns
        -------
        matplotlib.axes.Axes
            The axes.
        """
        import matplotlib.pyplot as plt

        rows = self.differences[self.differences["variable"] == variable]
        if rows.empty:
            raise KeyError(f"{variable!r} was not compared; compared: {self.variables}")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3.5))
        ax.fill_between(
            rows["day"],
            rows["ci_low"],
            rows["ci_high"],
            alpha=0.3,
            label=f"{self.confidence:.0%} CI",
        )
        ax.plot(rows["day"], rows["difference"], label="variant − baseline")
        ax.axhline(0.0, color="grey", lw=0.8)
        branch = self.result.manifest.get("branch")
        if branch:
            ax.axvline(branch["at_day"], color="k", ls=":", label="intervention")
        ax.set_xlabel("day")
        ax.set_ylabel(f"Δ {variable}")
        ax.legend(loc="best", fontsize="small")
        return ax


def _variables(result: SweepResult) -> tuple[list[str], list[str]]:
    """The model variables of a result: (numeric, categorical)."""
    import pyarrow as pa

    schema = result.dataset("model").schema
    skip = {"run_id", "label", "point", "replicate", "seed", "day", *result.parameter_names}
    fields = [f for f in schema if f.name not in skip]
    numeric = [
        f.name for f in fields if pa.types.is_floating(f.type) or pa.types.is_integer(f.type)
    ]
    categorical = [f.name for f in fields if pa.types.is_string(f.type)]
    return numeric, categorical


def recorded_variables(model: Any, fixed: Mapping[str, Any]) -> list[str] | None:
    """The model-level variables the runs will record, known before anything runs.

    For :class:`~waste_harmony.CityModel` (or a subclass) and run files: the built-in
    outputs and the own ``model_reporters``; ``None`` for any other factory (its
    variables are known only once a model is built).

    Examples
    --------
    >>> "facility_status" in recorded_variables(None, {})
    True
    """
    from waste_harmony.config import RunConfig
    from waste_harmony.model import CityModel
    from waste_harmony.recording import OUTPUTS, as_outputs

    factory, _ = resolve_factory(model)
    own: Any = fixed.get("model_reporters")
    if isinstance(model, RunConfig):
        own = model.model_reporters
    elif isinstance(model, RunFilePair):  # what both run files record
        own = [n for n in model.baseline.model_reporters if n in model.variant.model_reporters]
    elif not (isinstance(factory, type) and issubclass(factory, CityModel)):
        return None
    names = [v.name for v in OUTPUTS]
    if isinstance(own, Mapping) or (own and all(isinstance(o, str) for o in own)):
        return [*names, *own]
    return [*names, *(o.name for o in as_outputs(own))]


def _check_variables(variables: Sequence[str] | None, model: Any, fixed: Mapping[str, Any]) -> None:
    if variables is None:
        return
    if isinstance(variables, str):
        raise TypeError(f"variables must be a list of names, got the string {variables!r}")
    known = recorded_variables(model, fixed)
    if known is None:
        return
    unknown = [v for v in variables if v not in known]
    if unknown:
        raise KeyError(
            f"{unknown[0]!r} is not a recorded model variable; recorded: {', '.join(known)} "
            "(record your own with model_reporters=)"
        )


def _proportions(
    frame: pd.DataFrame, variable: str, *, paired: bool, confidence: float
) -> pd.DataFrame:
    """Per day and category: shares of baseline and variant runs, the difference, its test."""
    rows = []
    for day, part in frame.groupby("day", sort=True):
        table = part.pivot_table(
            index="replicate", columns="label", values=variable, aggfunc="first"
        )
        base = table.get("baseline", pd.Series(dtype=object))
        var = table.get("variant", pd.Series(dtype=object))
        if paired:
            both = table.reindex(columns=["baseline", "variant"]).dropna()
            base, var = both["baseline"], both["variant"]
        else:
            base, var = base.dropna(), var.dropna()
        for category in sorted(set(base) | set(var)):
            x, y = (var == category).to_numpy(), (base == category).to_numpy()
            if paired:
                a, b = int(np.sum(x & y)), int(np.sum(x & ~y))
                c, d = int(np.sum(~x & y)), int(np.sum(~x & ~y))
                p_value = mcnemar(b, c)["p_value"]
            else:
                a, b = int(x.sum()), int((~x).sum())
                c, d = int(y.sum()), int((~y).sum())
                p_value = np.nan
            found = proportion_difference(a, b, c, d, paired=paired, confidence=confidence)
            rows.append(
                {
                    "variable": variable,
                    "category": category,
                    "day": int(cast(int, day)),
                    "baseline_share": found["p2"],
                    "variant_share": found["p1"],
                    "difference": found["difference"],
                    "ci_low": found["ci_low"],
                    "ci_high": found["ci_high"],
                    "p_value": p_value,
                    "n": found["n"],
                }
            )
    return pd.DataFrame(rows)


def compare(
    baseline: Mapping[str, Any] | None = None,
    variant: Mapping[str, Any] | None = None,
    *,
    model: Any = None,
    seeds: int | Sequence[int] = 20,
    days: int | None = None,
    root_seed: int | None = None,
    variables: Sequence[str] | None = None,
    common_random_numbers: bool = True,
    intervention: Any = None,
    at_day: int | None = None,
    confidence: float = 0.95,
    out: str | os.PathLike[str] | None = None,
    executor: Any = None,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    write_on: str = "workers",
    **kwargs: Any,
) -> Comparison:
    """Compare a variant with a baseline over paired replicates.

    Parameters
    ----------
    baseline : mapping, optional
        Model keyword arguments of the baseline (on top of ``**kwargs``).
    variant : mapping, optional
        Model keyword arguments of the variant (on top of ``**kwargs``). Omit it when
        branching.
    model : class, callable or RunConfig, optional
        What to build (see :func:`~waste_harmony.experiments.run`).
    seeds : int or list of int
        Replicates.
    days : int
        Days per run.
    root_seed : int, optional
        Root of the seeds.
    variables : list of str, optional
        Model-level variables to compare (default: every numeric one). Categorical
        variables (``"facility_status"``, an own output of unit ``"category"``) are
        compared as shares of runs per category (:meth:`Comparison.shares`). The
        names are checked before anything runs.
    common_random_numbers : bool
        Run baseline and variant with the same seeds and pair them (default), or
        give the variant independent seeds (Welch's interval). Ignored when
        branching, which is always paired.
    intervention : callable or Scenario, optional
        Branching mode: ``intervention(model)`` (an importable function) or a scenario
        installed in the variant branch after ``at_day``.
    at_day : int, optional
        Branching mode: the last day the branches share.
    confidence : float
        Confidence level of the intervals.
    out, executor, workers, resume, overwrite, progress, write_on
        As in :func:`~waste_harmony.experiments.ensemble`.
    **kwargs
        Model keyword arguments shared by both.

    Returns
    -------
    Comparison
        Differences per variable and day with confidence intervals, a summary and
        a plot.

    Examples
    --------
    >>> from waste_harmony import experiments
    >>> c = experiments.compare({}, {"waste_per_capita_kg": 1.0}, seeds=3, days=5,
    ...                         n_citizens=200, root_seed=1, variables=["waste_generated_kg"],
    ...                         executor="serial", progress=False)
    >>> row = c.summary().iloc[0]
    >>> bool(row["ci_low"] > 0), int(row["n"])
    (True, 3)
    """
    _check_variables(variables, model, kwargs)
    base = dict(baseline or {})
    branching = intervention is not None or at_day is not None
    if branching:
        if variant is not None:
            raise TypeError(
                "branching compares one model with itself after an intervention: "
                "give baseline and intervention/at_day, not a variant"
            )
        if intervention is None or at_day is None:
            raise TypeError("branching needs both intervention= and at_day=")
        if isinstance(at_day, bool) or not isinstance(at_day, int):
            raise TypeError(f"at_day must be an integer day, got {at_day!r}")
        points: list[dict[str, Any]] = [base]
        labels = None
        branch = Branch(at_day, intervention)
        paired = True
    else:
        if variant is None:
            raise TypeError(
                "give a variant (model keyword arguments), or intervention= and "
                "at_day= for a branching comparison"
            )
        points = [base, dict(variant)]
        labels = ["baseline", "variant"]
        branch = None
        paired = common_random_numbers
    result = experiment(
        "compare",
        model,
        points=points,
        seeds=seeds,
        days=days,
        root_seed=root_seed,
        fixed=kwargs,
        execution=Execution(out, executor, workers, resume, overwrite, progress, write_on),
        labels=labels,
        common_random_numbers=common_random_numbers or branching,
        branch=branch,
        extra_manifest={"paired": paired},
    )
    numeric_names, categorical_names = _variables(result)
    chosen = list(variables) if variables is not None else numeric_names
    missing = [v for v in chosen if v not in numeric_names and v not in categorical_names]
    if missing:
        raise KeyError(f"{missing[0]!r} was not recorded; recorded: {numeric_names}")
    categorical = [v for v in chosen if v in categorical_names]
    numeric = [v for v in chosen if v not in categorical]
    frame = result.load(chosen)
    replicates = sorted(frame["replicate"].unique())
    parts = []
    for variable in numeric:
        table = frame.pivot_table(
            index="day", columns=["label", "replicate"], values=variable, dropna=False
        )
        present = set(table.columns.get_level_values(0))

        def side(label: str, table: pd.DataFrame = table, present: set = present) -> np.ndarray:
            if label not in present:
                return np.full((len(table), len(replicates)), np.nan)
            # with (label, replicate) columns, table[label] is a frame (stubs say Series)
            part = cast(pd.DataFrame, table[label])
            return part.reindex(columns=replicates).to_numpy(dtype=float)

        b, v = side("baseline"), side("variant")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (failed runs)
            stats_rows = difference_interval(b, v, paired=paired, confidence=confidence)
            parts.append(
                pd.DataFrame(
                    {
                        "variable": variable,
                        "day": table.index.to_numpy(dtype=np.int64),
                        "baseline_mean": np.nanmean(b, axis=1),
                        "variant_mean": np.nanmean(v, axis=1),
                        **stats_rows,
                    }
                )
            )
    differences = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    shares = [_proportions(frame, v, paired=paired, confidence=confidence) for v in categorical]
    proportions = pd.concat(shares, ignore_index=True) if shares else pd.DataFrame()
    return Comparison(result, chosen, paired, confidence, differences, proportions)
