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

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from waste_harmony.experiments.plan import Branch
from waste_harmony.experiments.runner import _experiment
from waste_harmony.experiments.store import SweepResult

__all__ = ["Comparison", "compare", "difference_interval"]


def difference_interval(baseline: np.ndarray, variant: np.ndarray, *, paired: bool,
                        confidence: float = 0.95) -> dict[str, float]:
    """Mean difference ``variant - baseline`` with a t confidence interval.

    Parameters
    ----------
    baseline, variant : array
        One value per replicate (aligned by replicate when ``paired``).
    paired : bool
        Paired-t on per-replicate differences (common random numbers, branching),
        or Welch's interval for independent samples.
    confidence : float
        Confidence level.

    Returns
    -------
    dict
        ``difference``, ``ci_low``, ``ci_high``, ``se``, ``n``.

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
    if paired:
        keep = ~(np.isnan(b) | np.isnan(v))
        d = v[keep] - b[keep]
        n = len(d)
        mean = float(d.mean()) if n else float("nan")
        se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        df = n - 1
    else:
        b, v = b[~np.isnan(b)], v[~np.isnan(v)]
        n = min(len(b), len(v))
        mean = float(v.mean() - b.mean()) if n else float("nan")
        vb = b.var(ddof=1) / len(b) if len(b) > 1 else float("nan")
        vv = v.var(ddof=1) / len(v) if len(v) > 1 else float("nan")
        se = float(np.sqrt(vb + vv))
        denominator = (vb**2 / (len(b) - 1) if len(b) > 1 else np.nan) + (
            vv**2 / (len(v) - 1) if len(v) > 1 else np.nan)
        df = (vb + vv) ** 2 / denominator if denominator > 0 else max(n - 1, 1)
    if se == 0:
        half = 0.0
    else:
        half = float(stats.t.ppf(0.5 + confidence / 2, df) * se) if n > 1 else float("nan")
    return {"difference": mean, "ci_low": mean - half, "ci_high": mean + half, "se": se,
            "n": n}


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
        One row per (variable, day): ``baseline_mean``, ``variant_mean``,
        ``difference``, ``ci_low``, ``ci_high``, ``se``, ``n``.
    """

    result: SweepResult
    variables: list[str]
    paired: bool
    confidence: float
    differences: pd.DataFrame

    def summary(self, *, from_day: int | None = None) -> pd.DataFrame:
        """Per variable, the difference of the runs' time-averages, with its interval.

        Parameters
        ----------
        from_day : int, optional
            Average over days ``>= from_day`` only (e.g. after an intervention).

        Returns
        -------
        pandas.DataFrame
            One row per variable: ``baseline_mean``, ``variant_mean``,
            ``difference``, ``ci_low``, ``ci_high``, ``se``, ``n``.
        """
        frame = self.result.load(self.variables)
        if from_day is not None:
            frame = frame[frame["day"] >= from_day]
        means = frame.groupby(["label", "replicate"])[self.variables].mean()
        rows = []
        for variable in self.variables:
            table = means[variable].unstack("label")
            row = difference_interval(table.get("baseline", pd.Series(dtype=float)).to_numpy(),
                                      table.get("variant", pd.Series(dtype=float)).to_numpy(),
                                      paired=self.paired, confidence=self.confidence)
            rows.append({"variable": variable,
                         "baseline_mean": float(table["baseline"].mean()),
                         "variant_mean": float(table["variant"].mean()), **row})
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
        ax.fill_between(rows["day"], rows["ci_low"], rows["ci_high"], alpha=0.3,
                        label=f"{self.confidence:.0%} CI")
        ax.plot(rows["day"], rows["difference"], label="variant − baseline")
        ax.axhline(0.0, color="grey", lw=0.8)
        branch = self.result.manifest.get("branch")
        if branch:
            ax.axvline(branch["at_day"], color="k", ls=":", label="intervention")
        ax.set_xlabel("day")
        ax.set_ylabel(f"Δ {variable}")
        ax.legend(loc="best", fontsize="small")
        return ax


def _numeric_variables(result: SweepResult) -> list[str]:
    import pyarrow as pa

    schema = result.dataset("model").schema
    skip = {"run_id", "label", "point", "replicate", "seed", "day", *result.parameter_names}
    return [f.name for f in schema if f.name not in skip
            and (pa.types.is_floating(f.type) or pa.types.is_integer(f.type))]


def compare(baseline: Mapping[str, Any] | None = None,
            variant: Mapping[str, Any] | None = None, *, model: Any = None,
            seeds: int | Sequence[int] = 20, days: int | None = None,
            root_seed: int | None = None, variables: Sequence[str] | None = None,
            common_random_numbers: bool = True, intervention: Any = None,
            at_day: int | None = None, confidence: float = 0.95,
            out: str | os.PathLike[str] | None = None, executor: Any = None,
            workers: int | None = None, resume: bool = False, overwrite: bool = False,
            progress: bool = True, write_on: str = "workers", **kwargs: Any) -> Comparison:
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
        Model-level variables to compare (default: every numeric one).
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
    base = dict(baseline or {})
    branching = intervention is not None or at_day is not None
    if branching:
        if variant is not None:
            raise TypeError("branching compares one model with itself after an intervention: "
                            "give baseline and intervention/at_day, not a variant")
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
            raise TypeError("give a variant (model keyword arguments), or intervention= and "
                            "at_day= for a branching comparison")
        points = [base, dict(variant)]
        labels = ["baseline", "variant"]
        branch = None
        paired = common_random_numbers
    result = _experiment("compare", model, points=points, labels=labels, seeds=seeds,
                         days=days, root_seed=root_seed,
                         common_random_numbers=common_random_numbers or branching,
                         branch=branch, fixed=kwargs, out=out, executor=executor,
                         workers=workers, resume=resume, overwrite=overwrite,
                         progress=progress, write_on=write_on,
                         extra_manifest={"paired": paired})
    chosen = list(variables) if variables is not None else _numeric_variables(result)
    frame = result.load(chosen)
    rows = []
    for variable in chosen:
        table = frame.pivot_table(index=["day", "replicate"], columns="label", values=variable,
                                  dropna=False)
        for day, block in table.groupby(level="day"):
            b = block["baseline"].to_numpy() if "baseline" in block else np.array([])
            v = block["variant"].to_numpy() if "variant" in block else np.array([])
            stats_row = difference_interval(b, v, paired=paired, confidence=confidence)
            rows.append({"variable": variable, "day": int(day),
                         "baseline_mean": float(np.nanmean(b)) if len(b) else np.nan,
                         "variant_mean": float(np.nanmean(v)) if len(v) else np.nan,
                         **stats_row})
    differences = pd.DataFrame(rows)
    return Comparison(result, chosen, paired, confidence, differences)
