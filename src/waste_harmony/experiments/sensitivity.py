"""Global sensitivity analysis on SALib: Sobol' indices and Morris elementary effects.

:func:`sensitivity` samples the parameter space (``SALib.sample.sobol`` — the
Sobol' sequence with Saltelli's cross-sampling, not the deprecated
``SALib.sample.saltelli`` — or ``SALib.sample.morris``), runs the model at every
sample point as a :func:`~waste_harmony.experiments.sweep`, reduces each run to
one number per output (its mean over days, its last value, or your function),
averages over seeds and analyses the outputs (``SALib.analyze.sobol`` /
``SALib.analyze.morris``). :func:`analyze` does the last step for any function,
which is how the method is validated on the Ishigami function, whose indices
are known analytically.

References
----------
Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output.
Design and estimator for the total sensitivity index. *Computer Physics
Communications* 181, 259–270.
Sobol', I. M. (2001). Global sensitivity indices for nonlinear mathematical models
and their Monte Carlo estimates. *Mathematics and Computers in Simulation* 55,
271–280.
Morris, M. D. (1991). Factorial sampling plans for preliminary computational
experiments. *Technometrics* 33, 161–174; Campolongo, F., Cariboni, J. and
Saltelli, A. (2007). An effective screening design for sensitivity analysis of
large models. *Environmental Modelling & Software* 22, 1509–1518 (μ*).
Ishigami, T. and Homma, T. (1990). An importance quantification technique in
uncertainty analysis for computer models. *Proc. ISUMA '90*, 398–403.
Herman, J. and Usher, W. (2017). SALib: An open-source Python library for
sensitivity analysis. *Journal of Open Source Software* 2(9), 97.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from waste_harmony.batch.store import SweepResult
from waste_harmony.docstrings import shared_sections

__all__ = ["SensitivityResult", "analyze", "as_problem", "sample", "sensitivity"]

_METHODS = ("sobol", "morris")


def as_problem(problem: Mapping[str, Any]) -> dict[str, Any]:
    """A SALib problem dict from a SALib dict or a mapping name → (low, high).

    Parameters
    ----------
    problem : mapping
        ``{"names": [...], "bounds": [[lo, hi], ...]}`` (``num_vars`` optional), or
        ``{"concern_confidence": (0.1, 0.5), ...}``.

    Returns
    -------
    dict
        ``num_vars``, ``names``, ``bounds``.

    Examples
    --------
    >>> as_problem({"a": (0, 1), "b": (2, 3)})
    {'num_vars': 2, 'names': ['a', 'b'], 'bounds': [[0.0, 1.0], [2.0, 3.0]]}
    """
    if "names" in problem and "bounds" in problem:
        names = list(problem["names"])
        bounds = [[float(lo), float(hi)] for lo, hi in problem["bounds"]]
    else:
        names = list(problem)
        try:
            bounds = [[float(problem[n][0]), float(problem[n][1])] for n in names]
        except (TypeError, IndexError, ValueError):
            raise TypeError(
                "problem must be a SALib dict (names, bounds) or a mapping name -> (low, high)"
            ) from None
    if len(names) != len(bounds) or not names:
        raise ValueError("problem needs one (low, high) bound per name, and at least one name")
    for name, (lo, hi) in zip(names, bounds, strict=True):
        if not lo < hi:
            raise ValueError(f"bounds of {name!r} must have low < high, got ({lo}, {hi})")
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _check_method(method: str) -> str:
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    return method


def sample(
    problem: Mapping[str, Any],
    n: int,
    *,
    method: str = "sobol",
    seed: int = 0,
    calc_second_order: bool = False,
    num_levels: int = 4,
) -> np.ndarray:
    """Sample points for a sensitivity analysis.

    Parameters
    ----------
    problem : mapping
        See :func:`as_problem`.
    n : int
        Base sample size: Sobol' gives ``n (D + 2)`` points (``n (2D + 2)`` with
        second order; ``n`` should be a power of 2), Morris ``n`` trajectories of
        ``D + 1`` points.
    method : {"sobol", "morris"}
        Design.
    seed : int
        Seed of the scrambling / trajectories.
    calc_second_order : bool
        Sobol': also sample for second-order indices.
    num_levels : int
        Morris: grid levels.

    Returns
    -------
    numpy.ndarray
        ``(points, D)``.

    Examples
    --------
    >>> sample({"a": (0, 1), "b": (0, 1)}, 8).shape
    (32, 2)
    """
    problem = as_problem(problem)
    if _check_method(method) == "sobol":
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(
            problem, n, calc_second_order=calc_second_order, scramble=True, seed=seed
        )
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(problem, n, num_levels=num_levels, seed=seed)


def analyze(
    problem: Mapping[str, Any],
    X: np.ndarray,
    Y: np.ndarray | Mapping[str, np.ndarray],
    *,
    method: str = "sobol",
    seed: int = 0,
    calc_second_order: bool = False,
    num_levels: int = 4,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Sensitivity indices of outputs ``Y`` at sample points ``X``, as a tidy frame.

    Parameters
    ----------
    problem : mapping
        See :func:`as_problem`.
    X : numpy.ndarray
        The points from :func:`sample`.
    Y : array or mapping
        One output (array of ``len(X)``) or output name → array.
    method : {"sobol", "morris"}
        As sampled.
    seed : int
        Seed of the bootstrap.
    calc_second_order : bool
        Sobol': as sampled.
    num_levels : int
        Morris: as sampled.
    confidence : float
        Level of the bootstrap confidence intervals.

    Returns
    -------
    pandas.DataFrame
        ``output``, ``parameter``, ``index`` (Sobol': ``S1``, ``ST``, ``S2`` with
        ``parameter`` ``"a:b"``; Morris: ``mu``, ``mu_star``, ``sigma``), ``value``,
        ``conf`` (half-width), ``ci_low``, ``ci_high``.

    Examples
    --------
    >>> problem = {"a": (0, 1), "b": (0, 1)}
    >>> X = sample(problem, 256, seed=1)
    >>> S = analyze(problem, X, 4 * X[:, 0] + X[:, 1], seed=1)
    >>> S1 = S[S["index"] == "S1"].set_index("parameter")["value"]
    >>> round(float(S1["a"]), 1), round(float(S1["b"]), 1)
    (0.9, 0.1)
    """
    problem = as_problem(problem)
    outputs = dict(Y) if isinstance(Y, Mapping) else {"y": Y}
    names = problem["names"]
    rows: list[dict[str, Any]] = []
    for output, values in outputs.items():
        y = np.asarray(values, dtype=float).reshape(-1)
        if len(y) != len(X):
            raise ValueError(f"output {output!r} has {len(y)} values for {len(X)} points")
        if np.isnan(y).any():
            raise ValueError(
                f"output {output!r} has {int(np.isnan(y).sum())} missing values "
                "(failed runs?); rerun them (resume=True) before analysing"
            )
        if method == "sobol":
            from SALib.analyze import sobol as sobol_analyze

            res = sobol_analyze.analyze(
                problem,
                y,
                calc_second_order=calc_second_order,
                conf_level=confidence,
                print_to_console=False,
                seed=seed,
            )
            for index in ("S1", "ST"):
                for i, name in enumerate(names):
                    rows.append(_row(output, name, index, res[index][i], res[f"{index}_conf"][i]))
            if calc_second_order:
                for i in range(len(names)):
                    for j in range(i + 1, len(names)):
                        rows.append(
                            _row(
                                output,
                                f"{names[i]}:{names[j]}",
                                "S2",
                                res["S2"][i][j],
                                res["S2_conf"][i][j],
                            )
                        )
        else:
            from SALib.analyze import morris as morris_analyze

            res = morris_analyze.analyze(
                problem,
                np.asarray(X),
                y,
                conf_level=confidence,
                num_levels=num_levels,
                print_to_console=False,
                seed=seed,
            )
            for i, name in enumerate(names):
                rows.append(_row(output, name, "mu", res["mu"][i], np.nan))
                rows.append(
                    _row(output, name, "mu_star", res["mu_star"][i], res["mu_star_conf"][i])
                )
                rows.append(_row(output, name, "sigma", res["sigma"][i], np.nan))
    return pd.DataFrame(rows)


def _row(output: str, parameter: str, index: str, value: float, conf: float) -> dict[str, Any]:
    value, conf = float(value), float(conf)
    return {
        "output": output,
        "parameter": parameter,
        "index": index,
        "value": value,
        "conf": conf,
        "ci_low": value - conf,
        "ci_high": value + conf,
    }


@dataclass
class SensitivityResult:
    """Sensitivity indices with their sample and (for models) the runs.

    Attributes
    ----------
    indices : pandas.DataFrame
        Tidy indices (see :func:`analyze`).
    method : str
        ``"sobol"`` or ``"morris"``.
    problem : dict
        The SALib problem.
    X : numpy.ndarray
        Sample points.
    Y : dict
        Output name → values per point.
    result : SweepResult or None
        The model runs (``None`` for a plain function).
    """

    indices: pd.DataFrame
    method: str
    problem: dict[str, Any]
    X: np.ndarray
    Y: dict[str, np.ndarray]
    result: SweepResult | None = None

    def ranking(self, output: str | None = None) -> list[str]:
        """Parameters from most to least influential (ST for Sobol', μ* for Morris).

        Parameters
        ----------
        output : str, optional
            Which output (default: the first).

        Returns
        -------
        list of str
            Parameter names.
        """
        index = "ST" if self.method == "sobol" else "mu_star"
        output = output or next(iter(self.Y))
        rows = self.indices[(self.indices["output"] == output) & (self.indices["index"] == index)]
        return rows.sort_values("value", ascending=False)["parameter"].tolist()

    @shared_sections
    def plot(self, *, outputs: Sequence[str] | None = None) -> Any:
        """Bar charts of the indices with confidence intervals, one panel per output.

        Parameters
        ----------
        outputs : list of str, optional
            Which outputs (default: all).

        {figure_returns}
        """
        import matplotlib.pyplot as plt

        outputs = list(outputs or self.Y)
        shown = ("S1", "ST") if self.method == "sobol" else ("mu_star", "sigma")
        fig, axes = plt.subplots(1, len(outputs), figsize=(4.5 * len(outputs), 3.5), squeeze=False)
        names = self.problem["names"]
        x = np.arange(len(names))
        width = 0.8 / len(shown)
        for ax, output in zip(axes[0], outputs, strict=True):
            block = self.indices[self.indices["output"] == output]
            for k, index in enumerate(shown):
                rows = block[block["index"] == index].set_index("parameter").reindex(names)
                errors = rows["conf"].fillna(0.0).to_numpy()
                ax.bar(
                    x + (k - (len(shown) - 1) / 2) * width,
                    rows["value"],
                    width,
                    yerr=errors,
                    capsize=3,
                    label=index,
                )
            ax.set_xticks(x, names, rotation=30, ha="right")
            ax.set_title(output)
            ax.axhline(0.0, color="grey", lw=0.8)
            ax.legend(fontsize="small")
        fig.tight_layout()
        return fig


def _variable(output: str) -> str:
    """The recorded variable of an output: ``"facility_status=withdrawn"`` → ``facility_status``."""
    return output.partition("=")[0].strip()


def _statistic(frame: pd.DataFrame, output: str, statistic: Any) -> float:
    if callable(statistic):
        return float(statistic(frame[["day", output]]))
    if statistic == "mean":
        return float(frame[output].mean())
    if statistic == "final":
        return float(frame[output].iloc[frame["day"].argmax()])
    raise ValueError(f"statistic must be 'mean', 'final' or a function, got {statistic!r}")


def sensitivity(
    problem: Mapping[str, Any],
    *,
    method: str = "sobol",
    outputs: Sequence[str] | None = None,
    n: int = 64,
    function: Callable[[np.ndarray], Any] | None = None,
    model: Any = None,
    days: int | None = None,
    seeds: int = 1,
    statistic: Any = "mean",
    integers: Sequence[str] = (),
    root_seed: int = 0,
    calc_second_order: bool = False,
    num_levels: int = 4,
    confidence: float = 0.95,
    out: str | os.PathLike[str] | None = None,
    executor: Any = None,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    **kwargs: Any,
) -> SensitivityResult:
    """Global sensitivity analysis of model outputs (or of a function) to parameters.

    Parameters
    ----------
    problem : mapping
        Parameters and their ranges (see :func:`as_problem`): names are model keyword
        arguments (or dotted scenario parameters with a run file).
    method : {"sobol", "morris"}
        Sobol' first-order and total indices, or Morris μ*/σ screening.
    outputs : list of str
        Model-level variables to analyse (required for models). An outcome of a
        categorical variable is ``"variable=category"``
        (``"facility_status=withdrawn"``): 1 in a run where the variable is in that
        category, so with ``statistic="final"`` and replicates averaged, the
        analysis is of the *probability* of the outcome.
    n : int
        Base sample size (see :func:`sample`).
    function : callable, optional
        Analyse ``function(X)`` instead of a model: it takes the ``(points, D)``
        array and returns one value per point (or a dict output → values).
    model : class, callable or RunConfig, optional
        What to build (see :func:`~waste_harmony.experiments.run`).
    days : int
        Days per run.
    seeds : int
        Replicates per point (their outputs are averaged; common random numbers).
    statistic : {"mean", "final"} or callable
        How a run's series becomes one number: its mean over days, its last day, or
        ``statistic(frame)`` on the run's ``day`` and output columns.
    integers : list of str
        Parameters rounded to integers before running.
    root_seed : int
        Seeds the sample, the bootstrap and the runs.
    calc_second_order, num_levels, confidence
        See :func:`sample` and :func:`analyze`.
    out, executor, workers, resume, overwrite, progress
        As in :func:`~waste_harmony.experiments.sweep`.
    **kwargs
        Fixed model keyword arguments.

    Returns
    -------
    SensitivityResult
        Tidy indices with confidence intervals, a ranking and a plot.

    Examples
    --------
    >>> import numpy as np
    >>> S = sensitivity({"a": (0, 1), "b": (0, 1)}, n=128,
    ...                 function=lambda X: X[:, 0] + 0.1 * X[:, 1])
    >>> S.ranking()
    ['a', 'b']
    """
    from waste_harmony.batch.runner import sweep

    problem = as_problem(problem)
    method = _check_method(method)
    X = sample(
        problem,
        n,
        method=method,
        seed=root_seed,
        calc_second_order=calc_second_order,
        num_levels=num_levels,
    )
    result = None
    if function is not None:
        values = function(X)
        Y: dict[str, np.ndarray] = (
            {k: np.asarray(v, dtype=float) for k, v in values.items()}
            if isinstance(values, Mapping)
            else {"y": np.asarray(values, dtype=float)}
        )
    else:
        if not outputs:
            raise TypeError(
                "outputs is required: the model-level variables to analyse, "
                "e.g. outputs=['mean_concern', 'recycling_rate']"
            )
        rounded = set(integers)
        points = [
            {
                name: (round(float(v)) if name in rounded else float(v))
                for name, v in zip(problem["names"], row, strict=True)
            }
            for row in X
        ]
        result = sweep(
            model,
            parameters=points,
            seeds=seeds,
            days=days,
            root_seed=root_seed,
            out=out,
            executor=executor,
            workers=workers,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            **kwargs,
        )
        frame = result.load(list(dict.fromkeys(_variable(o) for o in outputs)))
        Y = {}
        for output in outputs:
            variable, _, category = output.partition("=")
            if category:  # an outcome: 1 in runs where the variable is in the category
                frame[output] = (frame[variable.strip()] == category.strip()).astype(float)
            per_run = frame.groupby(["point", "replicate"])[["day", output]].apply(
                _statistic, output, statistic
            )
            per_point = per_run.groupby(level="point").mean()
            Y[output] = per_point.reindex(range(len(X))).to_numpy()
    indices = analyze(
        problem,
        X,
        Y,
        method=method,
        seed=root_seed,
        calc_second_order=calc_second_order,
        num_levels=num_levels,
        confidence=confidence,
    )
    return SensitivityResult(indices, method, problem, X, Y, result)
