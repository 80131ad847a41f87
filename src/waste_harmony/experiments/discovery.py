"""Scenario discovery with PRIM: where in parameter space does an outcome happen.

The Patient Rule Induction Method (Friedman & Fisher 1999) peels a box around the
cases of interest: starting from the whole sample, it repeatedly removes the slice
``peel_alpha`` of one parameter's range (the lowest or highest values) that raises
the share of cases of interest inside the box most, until the box holds fewer than
``min_support`` of the cases. Every box of this *peeling trajectory* trades
**coverage** (share of all cases of interest inside the box) against **density**
(share of the box's cases that are of interest; Bryant & Lempert 2010); the chosen
box is the largest one reaching the density ``threshold``.

References
----------
Friedman, J. H. & Fisher, N. I. (1999). Bump hunting in high-dimensional data.
*Statistics and Computing* 9, 123–143.

Bryant, B. P. & Lempert, R. J. (2010). Thinking inside the box: a participatory,
computer-assisted approach to scenario discovery. *Technological Forecasting and
Social Change* 77, 34–49.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> x = pd.DataFrame(rng.uniform(0, 1, (2000, 3)), columns=["a", "b", "c"])
>>> y = (x["a"] > 0.6) & (x["b"] < 0.5)
>>> box = prim(x, y, threshold=0.9)
>>> sorted(box.restricted)
['a', 'b']
>>> bool(box.coverage > 0.9 and box.density > 0.9)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PrimBox", "discover", "prim"]


@dataclass
class PrimBox:
    """A PRIM result: the chosen box, the peeling trajectory and feature importance.

    Attributes
    ----------
    limits : pandas.DataFrame
        ``low`` and ``high`` per parameter (the chosen box).
    coverage, density, support : float
        Of the chosen box (support: share of all cases inside).
    trajectory : pandas.DataFrame
        Every box of the peeling: ``step``, ``coverage``, ``density``, ``support``,
        ``n_restricted``, and ``low_<name>``/``high_<name>`` limits.
    importance : pandas.DataFrame
        Parameters ranked by how much the box restricts them: ``parameter``,
        ``restriction`` (1 − box width / full width) and ``density_gain`` (density
        lost when the restriction on that parameter alone is lifted).
    """

    limits: pd.DataFrame
    coverage: float
    density: float
    support: float
    trajectory: pd.DataFrame
    importance: pd.DataFrame

    @property
    def restricted(self) -> list[str]:
        """Parameters the box restricts."""
        return self.importance.loc[self.importance["restriction"] > 0, "parameter"].tolist()

    def select(self, step: int) -> PrimBox:
        """Another box of the trajectory (e.g. one with more coverage)."""
        row = self.trajectory.iloc[step]
        names = list(self.limits.index)
        limits = pd.DataFrame(
            {"low": [row[f"low_{n}"] for n in names], "high": [row[f"high_{n}"] for n in names]},
            index=names,
        )
        return PrimBox(
            limits=limits,
            coverage=float(row["coverage"]),
            density=float(row["density"]),
            support=float(row["support"]),
            trajectory=self.trajectory,
            importance=self.importance,
        )

    def plot_tradeoff(self, ax: Any = None) -> Any:
        """Coverage against density along the peeling trajectory (colour: restricted dims)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 3.2))
        points = ax.scatter(
            self.trajectory["coverage"],
            self.trajectory["density"],
            c=self.trajectory["n_restricted"],
            cmap="viridis",
            s=14,
        )
        ax.plot(self.coverage, self.density, "o", mfc="none", mec="C3", ms=10, label="chosen")
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.figure.colorbar(points, ax=ax, label="parameters restricted")
        ax.legend(frameon=False)
        return ax.figure


def _inside(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return ((x >= low) & (x <= high)).all(axis=1)


def prim(
    x: pd.DataFrame,
    y: Any,
    *,
    peel_alpha: float = 0.05,
    threshold: float = 0.8,
    min_support: float = 0.05,
) -> PrimBox:
    """Find a box of parameter space where ``y`` is mostly true (PRIM peeling).

    Parameters
    ----------
    x : pandas.DataFrame
        Numeric inputs, one row per case (e.g. a sweep's parameter columns).
    y : array of bool
        Whether each case shows the outcome of interest.
    peel_alpha : float
        Share of the box's cases removed at each peel.
    threshold : float
        Density the chosen box must reach; the largest (most coverage) such box of
        the trajectory is chosen, else the densest.
    min_support : float
        Peeling stops when the box would hold fewer than this share of all cases.

    Returns
    -------
    PrimBox
    """
    if not isinstance(x, pd.DataFrame):
        raise TypeError(f"x must be a pandas DataFrame of inputs, got {type(x).__name__}")
    values = x.to_numpy(dtype=float)
    target = np.asarray(y, dtype=bool).ravel()
    if len(target) != len(values):
        raise ValueError(f"y has {len(target)} entries but x has {len(values)} rows")
    if not target.any():
        raise ValueError("y is never true: there is no outcome to find a box for")
    if not 0 < peel_alpha < 0.5:
        raise ValueError(f"peel_alpha must be in (0, 0.5), got {peel_alpha}")
    if not np.isfinite(values).all():
        raise ValueError("x holds non-finite values; drop those cases first")
    names = list(x.columns)
    n, total = len(values), target.sum()
    low, high = values.min(axis=0), values.max(axis=0)
    inside = np.ones(n, dtype=bool)
    boxes = []

    def record(step: int) -> None:
        k = int(inside.sum())
        hits = int(target[inside].sum())
        boxes.append(
            {
                "step": step,
                "coverage": hits / total,
                "density": hits / k,
                "support": k / n,
                "n_restricted": int(
                    ((low > values.min(axis=0)) | (high < values.max(axis=0))).sum()
                ),
                **{f"low_{m}": low[j] for j, m in enumerate(names)},
                **{f"high_{m}": high[j] for j, m in enumerate(names)},
            }
        )

    record(0)
    step = 0
    while inside.sum() > min_support * n:
        best: tuple[float, int, str, float] | None = None
        box_vals = values[inside]
        box_y = target[inside]
        for j in range(len(names)):
            col = box_vals[:, j]
            cuts = (
                ("low", np.quantile(col, peel_alpha)),
                ("high", np.quantile(col, 1 - peel_alpha)),
            )
            for side, cut in cuts:
                keep = col > cut if side == "low" else col < cut
                if keep.all() or not keep.any() or keep.sum() < min_support * n:
                    continue
                mean = float(box_y[keep].mean())
                if best is None or mean > best[0]:
                    best = (mean, j, side, float(cut))
        if best is None:
            break
        _, j, side, cut = best
        if side == "low":
            low[j] = box_vals[:, j][box_vals[:, j] > cut].min()
        else:
            high[j] = box_vals[:, j][box_vals[:, j] < cut].max()
        inside = _inside(values, low, high)
        step += 1
        record(step)
    trajectory = pd.DataFrame(boxes)
    good = trajectory[trajectory["density"] >= threshold]
    if len(good):
        chosen = int(good["step"].to_numpy()[np.argmax(good["coverage"].to_numpy())])
    else:
        chosen = int(np.argmax(trajectory["density"].to_numpy()))
    full_low, full_high = values.min(axis=0), values.max(axis=0)
    row = trajectory.iloc[chosen]
    b_low = np.array([row[f"low_{m}"] for m in names])
    b_high = np.array([row[f"high_{m}"] for m in names])
    in_box = _inside(values, b_low, b_high)
    density = float(target[in_box].mean())
    importance = []
    for j, m in enumerate(names):
        width = full_high[j] - full_low[j]
        restriction = 0.0 if width == 0 else 1 - (b_high[j] - b_low[j]) / width
        lo, hi = b_low.copy(), b_high.copy()
        lo[j], hi[j] = full_low[j], full_high[j]
        relaxed = float(target[_inside(values, lo, hi)].mean())
        importance.append(
            {
                "parameter": m,
                "restriction": float(restriction),
                "density_gain": density - relaxed,
            }
        )
    ranking = pd.DataFrame(importance).sort_values(
        ["density_gain", "restriction"], ascending=False, ignore_index=True
    )
    return PrimBox(
        limits=pd.DataFrame({"low": b_low, "high": b_high}, index=names),
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        support=float(row["support"]),
        trajectory=trajectory,
        importance=ranking,
    )


def discover(
    result: Any,
    outcome: str | Callable[[pd.DataFrame], Any],
    *,
    day: int | None = None,
    **kwargs: Any,
) -> PrimBox:
    """Run PRIM on a sweep: the parameter region that leads to an outcome.

    Parameters
    ----------
    result : SweepResult
        A finished sweep (or sensitivity experiment) with parameter columns.
    outcome : str or callable
        A boolean model variable (its value on ``day``), or a function taking one
        run's model frame and returning ``True``/``False`` (e.g. "the facility withdrew":
        ``lambda f: (f["facility_status"] == "withdrawn").any()``).
    day : int, optional
        Day at which a column outcome is read (default: the last day).
    **kwargs
        Passed to :func:`prim`.

    Returns
    -------
    PrimBox
    """
    names = result.parameter_names
    if not names:
        raise ValueError("the experiment varies no parameters; run a sweep first")
    runs = result.runs()
    runs = runs[runs["status"] == "finished"]
    if callable(outcome):
        frame = result.to_pandas()
        flags = frame.groupby("run_id").apply(outcome, include_groups=False)
        y = runs["run_id"].map(flags.astype(bool)).to_numpy()
    else:
        frame = result.load([outcome])
        last = frame["day"].max() if day is None else day
        at = frame[frame["day"] == last].set_index("run_id")[outcome]
        y = runs["run_id"].map(at).astype(bool).to_numpy()
    return prim(runs[names].astype(float), y, **kwargs)
