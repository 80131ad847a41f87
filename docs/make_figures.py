"""Draw the figure of the README and the documentation's front page into docs/_static/.

    python docs/make_figures.py

A year of the story (TechCore and the Harmony Festival, when installed) in the
default city, seed 7. Re-run it when the model changes; the PNG is kept small.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from waste_harmony import CityModel
from waste_harmony.plotting import plot_series
from waste_harmony.scenarios import available

STATIC = Path(__file__).resolve().parent / "_static"
STORY = ("techcore", "harmony-festival")


def main() -> None:
    """Run the year and write docs/_static/overview.png."""
    scenarios = [name for name in STORY if name in available()]
    model = CityModel(n_citizens=10_000, scenarios=scenarios, rng=7)
    model.run_for(365)
    fig = plot_series(
        model, ["mean_concern", "protest_share", "recycling_rate", "mean_pollution"], ncols=2
    )
    fig.set_size_inches(9, 4.6)
    fig.suptitle(
        f"A year in the default city, 10,000 citizens, scenarios: "
        f"{', '.join(scenarios) or 'none'} (facility: {model.facility_status})",
        fontsize=10,
    )
    STATIC.mkdir(exist_ok=True)
    path = STATIC / "overview.png"
    fig.savefig(path, dpi=80, pil_kwargs={"optimize": True})
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
