"""Draw the figures of the README and the documentation into docs/_static/.

    python docs/make_figures.py            # both figures
    python docs/make_figures.py decade     # one of: overview, decade

``overview.png``: a year of the story (TechCore and the Harmony Festival, when
installed) in the default city, seed 7. ``decade.png`` (docs/model.md, 7.5a): ten
years of the default city without scenarios, 3,000 citizens, seed 7 — as it is, with
concern that never fades (``concern_fading=0``, the former rule), and with cleaner
air from year 5 (a ``Policy`` halving ``background_pollution``, as a regional
clean-air policy would). Re-run it when the model changes; the PNGs are kept small.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from waste_harmony import CityModel
from waste_harmony.plotting import plot_series
from waste_harmony.scenarios import Policy, available

STATIC = Path(__file__).resolve().parent / "_static"
STORY = ("techcore", "harmony-festival")


def overview() -> None:
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


def decade(years: int = 10, policy_year: int = 5) -> None:
    """Run ten years of the default city three ways and write docs/_static/decade.png."""
    days = 365 * years
    runs = {
        "default": {},
        "concern never fades (concern_fading = 0)": {"concern_fading": 0.0},
        f"cleaner air from year {policy_year} (background 10 → 5)": {
            "scenarios": [Policy(day=365 * policy_year + 1, set={"background_pollution": 5.0})]
        },
    }
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for label, kw in runs.items():
        model = CityModel(n_citizens=3_000, rng=7, record_neighborhoods=False, **kw)
        model.run_for(days)
        frame = model.model_frame()
        years_axis = frame.index / 365
        style = {"lw": 2.2, "zorder": 3} if label == "default" else {"lw": 1.4}
        axes[0].plot(years_axis, frame["mean_concern"], label=label, **style)
        axes[1].plot(years_axis, frame["mean_pollution"], label=label, **style)
        if label == "default":
            axes[1].plot(
                years_axis,
                frame["pollution_exposure"],
                color="C0",
                ls="--",
                lw=1.2,
                label="default: population-weighted exposure",
            )
        first, last = frame.iloc[0], frame.iloc[-1]
        print(
            f"{label}: mean_concern {first['mean_concern']:.3f} -> {last['mean_concern']:.3f}, "
            f"mean_pollution {first['mean_pollution']:.2f} -> {last['mean_pollution']:.2f}"
        )
    axes[0].set(xlabel="year", ylabel="mean concern", title="concern (citizen mean)")
    axes[1].set(
        xlabel="year", ylabel="µg/m³ (PM2.5-equivalent)", title="pollution (area-weighted mean)"
    )
    axes[1].axhline(5.0, color="grey", lw=0.8, ls=":")
    axes[1].text(0.1, 5.3, "WHO 2021 guideline", fontsize=7, color="grey")
    axes[1].set_ylim(bottom=0)
    axes[0].legend(fontsize=7, loc="upper left")
    axes[1].legend(fontsize=7, loc="lower left")
    fig.suptitle("Ten years of the default city (3,000 citizens, no scenario, seed 7)", fontsize=10)
    fig.tight_layout()
    STATIC.mkdir(exist_ok=True)
    path = STATIC / "decade.png"
    fig.savefig(path, dpi=80, pil_kwargs={"optimize": True})
    plt.close(fig)
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


FIGURES = {"overview": overview, "decade": decade}


def main(names: list[str] | None = None) -> None:
    """Draw the named figures (all by default)."""
    for name in names or list(FIGURES):
        FIGURES[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
