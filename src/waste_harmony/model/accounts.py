"""The day's waste accounts: what was generated, recycled, reused and consumed.

:class:`WasteAccounts` is the part of a :class:`~waste_harmony.CityModel` that books
every kilogram a rule or a scenario moves (``model.account_waste``), takes waste out
of the neighbourhood stocks (``model.reuse_waste``, ``model.consume_waste``) and
remembers the stock at the end of the last recorded day, so the recorded balance
(generated = recycled + reused + consumed + change of stock) can be checked each day.
The model closes the day after recording it (:meth:`WasteAccounts.close_day`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLOWS", "WasteAccounts"]

#: The booked flows of a day, in kg.
FLOWS = ("generated", "recycled", "reused", "consumed")


class WasteAccounts:
    """Today's waste flows (kg) and the stock at the end of the last recorded day.

    Parameters
    ----------
    stock_kg : float
        Waste in the city now (the stock the first day's balance starts from).

    Examples
    --------
    >>> accounts = WasteAccounts(stock_kg=10.0)
    >>> stock = np.array([4.0, 6.0])
    >>> accounts.book(generated=3.0)
    >>> accounts.take("consumed", stock, np.array([0, 0, 1]), np.array([3.0, 3.0, 1.0]))
    5.0
    >>> accounts.today, stock.tolist()
    ({'generated': 3.0, 'recycled': 0.0, 'reused': 0.0, 'consumed': 5.0}, [0.0, 5.0])
    """

    def __init__(self, stock_kg: float) -> None:
        self._flows = dict.fromkeys(FLOWS, 0.0)
        self.stock_yesterday_kg = float(stock_kg)

    @property
    def today(self) -> dict[str, float]:
        """Today's flows so far (kg), a new dict."""
        return dict(self._flows)

    def book(self, **kg: float) -> None:
        """Add to today's flows, kilograms by flow name (``generated=``, … of :data:`FLOWS`)."""
        for flow, amount in kg.items():
            self._flows[flow] += amount

    def take(
        self, flow: str, stock: np.ndarray, rows: np.ndarray, amounts: np.ndarray | float
    ) -> float:
        """Take waste out of ``stock`` (in place), at most what is there, and book it.

        Parameters
        ----------
        flow : str
            ``"recycled"``, ``"reused"`` or ``"consumed"``.
        stock : numpy.ndarray
            Waste per node (kg), updated in place.
        rows : numpy.ndarray of int
            Node rows to take from (a row may repeat: its requests add up).
        amounts : float or array
            Kilograms wanted per entry of ``rows``.

        Returns
        -------
        float
            Kilograms taken.

        Raises
        ------
        ValueError
            If an amount is negative or not finite.
        """
        wanted = np.broadcast_to(np.asarray(amounts, dtype=np.float64), rows.shape)
        if np.any(wanted < 0) or not np.all(np.isfinite(wanted)):
            raise ValueError("waste amounts must be finite and non-negative")
        # The same node may be named twice: add its requests up before taking.
        unique, inverse = np.unique(rows, return_inverse=True)
        requested = np.bincount(inverse, weights=wanted, minlength=len(unique))
        taken = np.minimum(stock[unique], requested)
        stock[unique] -= taken
        total = float(taken.sum())
        self._flows[flow] += total
        return total

    def close_day(self, stock_kg: float) -> None:
        """Start a new day: flows back to 0, ``stock_kg`` becomes yesterday's stock."""
        self.stock_yesterday_kg = float(stock_kg)
        for key in self._flows:
            self._flows[key] = 0.0
