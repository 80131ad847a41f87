"""One definition of the map markers: each symbol means one thing on every map.

The static maps (:mod:`waste_harmony.plotting.maps`) and the live viewer
(:mod:`waste_harmony.viz`) draw the same marks the same way:

- :data:`FACILITY` — the facility site: a cross ``X``, coloured by its status
  (:data:`FACILITY_STATUS_COLOURS`);
- :data:`FESTIVAL` — where the festival is held: a gold star ``*``;
- :data:`COLONY` — an organism colony (biomass at or above the colony threshold): a
  green triangle ``^``;
- :data:`PROTEST` — residents protesting: a red ring (width ∝ share protesting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matplotlib.lines import Line2D

__all__ = [
    "COLONY",
    "FACILITY",
    "FACILITY_STATUS_COLOURS",
    "FESTIVAL",
    "PROTEST",
    "Marker",
    "legend_handle",
]


@dataclass(frozen=True)
class Marker:
    """How one kind of map mark is drawn.

    Parameters
    ----------
    marker : str
        Matplotlib marker symbol.
    face : str
        Face colour (``"none"`` for a ring).
    edge : str
        Edge colour.
    edge_width : float
        Edge width (points).
    size : float
        Marker area in the map (pt²); legend size is derived from it.
    label : str
        Legend label.

    Examples
    --------
    >>> FESTIVAL.marker, FESTIVAL.label
    ('*', 'festival')
    """

    marker: str
    face: str
    edge: str
    edge_width: float
    size: float
    label: str

    def scatter_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments of :meth:`matplotlib.axes.Axes.scatter` for this mark.

        Parameters
        ----------
        **overrides
            Replace any of the returned entries (e.g. ``s=`` or ``c=``).

        Returns
        -------
        dict
            ``marker``, ``s``, ``c`` (or ``facecolors``), ``edgecolors``, ``linewidths``.

        Examples
        --------
        >>> COLONY.scatter_kwargs(s=10)["s"]
        10
        """
        kwargs: dict[str, Any] = {
            "marker": self.marker,
            "s": self.size,
            "facecolors": self.face,
            "edgecolors": self.edge,
            "linewidths": self.edge_width,
        }
        kwargs.update(overrides)
        return kwargs


#: Status of the facility → colour of its cross.
FACILITY_STATUS_COLOURS: dict[str, str] = {
    "proposed": "#f0a030",
    "built": "#c0392b",
    "withdrawn": "#7f8c8d",
}
FACILITY = Marker("X", FACILITY_STATUS_COLOURS["proposed"], "black", 1.0, 220.0, "facility site")
FESTIVAL = Marker("*", "#ffd54f", "black", 0.8, 200.0, "festival")
COLONY = Marker("^", "#2e7d32", "white", 0.5, 40.0, "organism colony")
PROTEST = Marker("o", "none", "#d62728", 1.5, 60.0, "protest")


def legend_handle(mark: Marker, label: str | None = None, *, face: str | None = None) -> Line2D:
    """A legend entry drawn like ``mark``.

    Parameters
    ----------
    mark : Marker
        The mark.
    label : str, optional
        Legend text (default: the mark's label).
    face : str, optional
        Face colour instead of the mark's (e.g. a facility status colour).

    Returns
    -------
    matplotlib.lines.Line2D
        A handle for ``legend(handles=...)``.

    Examples
    --------
    >>> legend_handle(FACILITY, "site (built)", face="#c0392b").get_label()
    'site (built)'
    """
    return Line2D(
        [],
        [],
        ls="",
        marker=mark.marker,
        mfc=face or mark.face,
        mec=mark.edge,
        mew=max(mark.edge_width, 1.0),
        ms=max(mark.size, 36.0) ** 0.5 * 0.8,
        label=mark.label if label is None else label,
    )
