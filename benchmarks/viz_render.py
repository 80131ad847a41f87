"""Time one step + redraw of the viz page for a 1,000-node city with 10^5 citizens.

    python benchmarks/viz_render.py [--nodes 1000] [--citizens 100000] [--repeat 5]

Prints the median time of: the model step alone, the city map and the series panel
built from scratch (figure + PNG, as a paper figure), the same two updated in place as
the page does it (step + ``CityMapView``/``SeriesView`` update + JPEG frame), and a
press of the page's Step button in Solara's test renderer (step + every component
re-rendered), all in this Python process. The browser's own work (decoding the two
images) is not included; ``benchmarks/viz_browser.py`` measures it in Chromium.
"""

from __future__ import annotations

import argparse
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import ipyvuetify as v
import solara

from waste_harmony.city import organic_city
from waste_harmony.viz import city_map_figure, make_page, series_figure
from waste_harmony.viz.app import VizCityModel
from waste_harmony.viz.components import png_bytes
from waste_harmony.viz.figures import CityMapView, SeriesView


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    city = organic_city(args.nodes, seed=1)
    model = VizCityModel(city, n_citizens=args.citizens, seed=1)
    model.run_for(30)
    step = _median(model.step, args.repeat)
    city_map = _median(lambda: png_bytes(city_map_figure(model, "concern")), args.repeat)
    series = _median(lambda: png_bytes(series_figure(model)), args.repeat)
    map_view, series_view = CityMapView(model), SeriesView()
    map_view.update(model).image()
    series_view.update(model).image()
    live_map = _median(lambda: (model.step(), map_view.update(model).image()), args.repeat)
    live_series = _median(lambda: (model.step(), series_view.update(model).image()), args.repeat)

    @solara.component
    def App():  # noqa: N802
        with solara.AppLayout():
            make_page(city=city, n_citizens=args.citizens, rng=1)

    _, rc = solara.render(App(), handle_error=False)
    button = rc.find(v.Btn, children=["Step"]).widget
    press = _median(button.click, args.repeat)
    print(f"{args.nodes} nodes, {args.citizens:,} citizens (median of {args.repeat}):")
    print(f"  model.step()                      {1000 * step:7.0f} ms")
    print(f"  city map figure + PNG             {1000 * city_map:7.0f} ms")
    print(f"  series panel figure + PNG         {1000 * series:7.0f} ms")
    print(f"  step + live map update + JPEG     {1000 * live_map:7.0f} ms")
    print(f"  step + live series update + JPEG  {1000 * live_series:7.0f} ms")
    print(f"  Step button: step + page redraw   {1000 * press:7.0f} ms")


if __name__ == "__main__":
    main()
