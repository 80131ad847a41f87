"""Summaries of an experiment's runs: means with confidence intervals, shares of outcomes.

What :meth:`~waste_harmony.batch.store.SweepResult.summary` computes from the frame
it loads: per parameter point and day, the mean of each numeric variable over the
replicates with a t-based interval, and for a categorical variable the share of runs
in each category with Wilson's score interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import pandas as pd

__all__ = ["summarise"]


def summarise(
    frame: pd.DataFrame,
    variables: Sequence[str],
    parameter_names: Sequence[str],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean over replicates per parameter point and day (or shares of categories).

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy model results (``point``, ``label`` if any, the parameter columns,
        ``day`` and the variables).
    variables : sequence of str
        Variables to summarise.
    parameter_names : sequence of str
        The swept parameters (grouping columns where present).
    confidence : float
        Level of the interval (t-based for a mean, Wilson for a share).

    Returns
    -------
    pandas.DataFrame
        One row per (label, point, parameters, day, variable): ``mean``, ``sd``,
        ``n``, ``ci_low``, ``ci_high``; with categorical variables one row per
        category too, in a ``category`` column.

    Examples
    --------
    >>> frame = pd.DataFrame({"point": [0, 0], "day": [1, 1], "x": [1.0, 3.0]})
    >>> summarise(frame, ["x"], [])[["point", "day", "variable", "mean", "n"]].values.tolist()
    [[0, 1, 'x', 2.0, 2]]
    """
    from scipy import stats

    keys = [c for c in ("label", "point") if c in frame.columns]
    keys += [p for p in parameter_names if p in frame.columns] + ["day"]
    categorical = [v for v in variables if not pd.api.types.is_numeric_dtype(frame[v].dropna())]
    numeric = [v for v in variables if v not in categorical]
    parts = []
    if numeric:
        long = frame.melt(id_vars=keys, value_vars=numeric, var_name="variable")
        grouped = long.groupby([*keys, "variable"], dropna=False, sort=True)["value"]
        out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
        half = (
            stats.t.ppf(0.5 + confidence / 2, np.maximum(out["n"] - 1, 1))
            * out["sd"]
            / np.sqrt(out["n"])
        )
        out["ci_low"] = out["mean"] - half
        out["ci_high"] = out["mean"] + half
        parts.append(out)
    for variable in categorical:
        parts.append(_shares(frame, keys, variable, confidence))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _shares(frame: pd.DataFrame, keys: list[str], variable: str, confidence: float) -> pd.DataFrame:
    """Per group and category: the share of runs in it, with Wilson's interval."""
    from waste_harmony.proportions import wilson_interval

    data = frame[[*keys, variable]].dropna(subset=[variable])
    # every category in every group, zero counts included (a share of 0 has an interval)
    counts = pd.crosstab([data[k] for k in keys], data[variable])
    out = cast(pd.Series, counts.stack()).reset_index(name="count")
    out.columns = [*keys, "category", "count"]
    out["n"] = out.groupby(keys, sort=False)["count"].transform("sum")
    out.insert(len(keys), "variable", variable)
    out["mean"] = out["count"] / out["n"]
    out["sd"] = np.nan
    limits = [
        wilson_interval(int(k), int(n), confidence)
        for k, n in zip(out["count"], out["n"], strict=True)
    ]
    out["ci_low"] = [low for low, _ in limits]
    out["ci_high"] = [high for _, high in limits]
    columns = [*keys, "variable", "category", "mean", "sd", "n", "ci_low", "ci_high"]
    return out[columns]
