"""State in columns: the tables of numpy arrays the model owns, one array per attribute.

Citizen and neighbourhood state lives in :class:`StateTable` objects (one array
per attribute, one row per agent); :class:`RowGroups` sums and averages a column over
runs of rows (each node's residents). These are plain data structures: they know
nothing of agents or of the model, so every layer may use them. Agents are views of
their rows through :class:`waste_harmony.agents.columns.Column`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["RowGroups", "StateTable"]


class StateTable:
    """Named numpy columns of equal length, accessed as attributes or by key.

    Parameters
    ----------
    n_rows : int
        Number of rows (agents).

    Examples
    --------
    >>> t = StateTable(3)
    >>> t.add("concern", np.array([0.1, 0.2, 0.3]))
    >>> t.concern[1], len(t), "concern" in t
    (np.float64(0.2), 3, True)
    """

    _columns: dict[str, np.ndarray]
    n_rows: int

    def __init__(self, n_rows: int) -> None:
        object.__setattr__(self, "_columns", {})
        object.__setattr__(self, "n_rows", int(n_rows))

    def add(self, name: str, values: np.ndarray) -> None:
        """Add (or replace) a column.

        Parameters
        ----------
        name : str
            Column name.
        values : numpy.ndarray
            Values, one per row.

        Raises
        ------
        ValueError
            If the length differs from the table's.
        """
        array = np.asarray(values)
        if array.shape[:1] != (self.n_rows,):
            raise ValueError(f"column {name!r} has {len(array)} rows, the table has {self.n_rows}")
        self._columns[name] = array

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self._columns[name]
        except KeyError:
            raise AttributeError(
                f"no state column {name!r}; columns are: {', '.join(self._columns)}"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._columns:
            self._columns[name][...] = value
        else:
            raise AttributeError(f"use add({name!r}, values) to create a new column")

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return self.n_rows

    def __getstate__(self) -> dict[str, Any]:
        return {"_columns": self._columns, "n_rows": self.n_rows}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "_columns", state["_columns"])
        object.__setattr__(self, "n_rows", state["n_rows"])

    def columns(self) -> list[str]:
        """Names of the columns.

        Returns
        -------
        list of str
            Column names in insertion order.
        """
        return list(self._columns)


class RowGroups:
    """Rows grouped in contiguous runs: group ``g`` holds ``counts[g]`` consecutive rows.

    Citizens are created home by home, so the rows of each node's residents are one
    run. Sums over such runs (:meth:`sums`, :meth:`means`) read the values once, in
    order, which is several times faster than ``np.bincount(group, weights=...)``.

    Parameters
    ----------
    counts : numpy.ndarray of int, shape (n_groups,)
        Rows per group, in row order (groups may be empty).
    labels : numpy.ndarray of int, shape (n_rows,), optional
        Each row's group (``np.repeat(np.arange(n_groups), counts)``), if the caller
        already holds it; made when first needed otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> groups = RowGroups(np.array([2, 0, 3]))
    >>> groups.sums(np.array([1.0, 2.0, 3.0, 4.0, 5.0])).tolist()
    [3.0, 0.0, 12.0]
    >>> groups.means(np.array([True, False, True, True, False])).tolist()
    [0.5, 0.0, 0.6666666666666666]
    """

    def __init__(self, counts: np.ndarray, labels: np.ndarray | None = None) -> None:
        counts = np.asarray(counts, dtype=np.int64)
        if counts.ndim != 1 or (counts < 0).any():
            raise ValueError("counts must be a one-dimensional array of counts >= 0")
        self.counts = counts
        self.n_rows = int(counts.sum())
        if labels is not None and len(labels) != self.n_rows:
            raise ValueError(f"expected {self.n_rows} labels (one per row), got {len(labels)}")
        self._labels = labels
        starts = np.cumsum(counts) - counts
        self._occupied = counts > 0
        self._starts = starts[self._occupied]
        self._sizes = counts.astype(np.float64)

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over each group's rows (float64; booleans count).

        Parameters
        ----------
        values : numpy.ndarray, shape (n_rows,)
            One value per row.

        Returns
        -------
        numpy.ndarray, shape (n_groups,)
            Per-group sums, 0 for empty groups.
        """
        if len(values) != self.n_rows:
            raise ValueError(f"expected {self.n_rows} values (one per row), got {len(values)}")
        m = len(self.counts)
        if values.dtype == bool and np.count_nonzero(values) * 8 < self.n_rows:
            # Few selected rows (protesters on most days, early adopters): counting their
            # groups touches only them.
            if self._labels is None:
                self._labels = np.repeat(np.arange(m), self.counts)
            return np.bincount(self._labels[values], minlength=m).astype(np.float64)
        out = np.zeros(m)
        if len(self._starts):
            # Integer sums of booleans are exact and faster than summing them as floats.
            dtype = np.int64 if values.dtype == bool else np.float64
            out[self._occupied] = np.add.reduceat(values, self._starts, dtype=dtype)
        return out

    def means(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each group's rows (0 for empty groups).

        Parameters
        ----------
        values : numpy.ndarray, shape (n_rows,)
            One value per row; a boolean column gives each group's share.

        Returns
        -------
        numpy.ndarray, shape (n_groups,)
            Per-group means.
        """
        total = self.sums(values)
        return np.divide(total, self._sizes, out=total, where=self._occupied)
