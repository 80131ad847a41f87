"""Time the viz page in headless Chromium: Step-click latency and Play speed.

    python benchmarks/viz_browser.py [--clicks 20] [--play-seconds 10] [--port 0]

Starts ``python -m waste_harmony.viz`` (the default page: 10^4 citizens on the
100-node default city, story scenarios ticked) on a free localhost port, opens it in
Debian's Chromium through Playwright (as ``tests/test_viz_browser.py`` does) and
reports

- the Step-click latency: from the click until the page shows the next day *and* both
  images (map and series) have been replaced and decoded — median and p90 over
  ``--clicks`` clicks;
- Play: days advanced per second of wall-clock time over ``--play-seconds``.

Chromium is ``$WASTE_HARMONY_CHROMIUM`` or ``chromium`` on the path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Resolves once the day label shows `day` and both images are new and decoded.
WAIT_JS = """async ([day, oldMap, oldSeries]) => {
    const ready = () => {
        const d = document.querySelector('.wh-day');
        const m = document.querySelector('img.wh-city-map');
        const s = document.querySelector('img.wh-series');
        return d && d.innerText.trim() === 'Day ' + day && m && s
            && m.src !== oldMap && s.src !== oldSeries
            && m.complete && s.complete && m.naturalWidth > 0 && s.naturalWidth > 0;
    };
    while (!ready()) { await new Promise(r => requestAnimationFrame(r)); }
    await Promise.all([document.querySelector('img.wh-city-map').decode(),
                       document.querySelector('img.wh-series').decode()]);
    return true;
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("WASTE_HARMONY_VIZ_RUNFILE", None)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "waste_harmony.viz", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the viz server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return proc
        except OSError:
            if time.monotonic() > deadline:
                proc.terminate()
                raise RuntimeError(f"the viz server did not answer:\n{log.read_text()}") from None
            time.sleep(0.5)


def _srcs(page) -> tuple[str, str]:
    return (
        page.locator("img.wh-city-map").get_attribute("src") or "",
        page.locator("img.wh-series").get_attribute("src") or "",
    )


def _day(page) -> int:
    return int(page.locator(".wh-day").inner_text().removeprefix("Day "))


def measure(url: str, clicks: int, play_seconds: float) -> dict[str, float]:
    """Step latencies (s) and Play speed (days/s) of the page at ``url``."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("WASTE_HARMONY_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        raise SystemExit("Chromium not found: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.locator("img.wh-city-map").wait_for()
        step = page.get_by_role("button", name="Step")
        latencies = []
        for _ in range(3 + clicks):  # three warm-up clicks
            day, (old_map, old_series) = _day(page), _srcs(page)
            start = time.perf_counter()
            step.click()
            page.evaluate(WAIT_JS, [day + 1, old_map, old_series])
            latencies.append(time.perf_counter() - start)
        latencies = latencies[3:]
        first = _day(page)
        page.get_by_role("button", name="▶").click()
        start = time.perf_counter()
        page.wait_for_timeout(1000 * play_seconds)
        last, elapsed = _day(page), time.perf_counter() - start
        page.get_by_role("button", name="❚❚").click()
        browser.close()
    ordered = sorted(latencies)
    return {
        "median": statistics.median(latencies),
        "p90": ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))],
        "max": ordered[-1],
        "days_per_second": (last - first) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--play-seconds", type=float, default=10.0)
    parser.add_argument("--url", help="measure a running page instead of starting one")
    args = parser.parse_args()
    proc = None
    url = args.url
    if url is None:
        port = _free_port()
        log = Path(tempfile.mkdtemp()) / "server.log"
        proc = _serve(port, log)
        url = f"http://127.0.0.1:{port}/"
    try:
        result = measure(url, args.clicks, args.play_seconds)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
    print(f"viz page, 10^4 citizens on 100 nodes, {args.clicks} Step clicks:")
    print(
        f"  Step click → map and series updated: median {1000 * result['median']:.0f} ms, "
        f"p90 {1000 * result['p90']:.0f} ms, max {1000 * result['max']:.0f} ms"
    )
    print(f"  Play: {result['days_per_second']:.2f} days/s over {args.play_seconds:g} s")


if __name__ == "__main__":
    main()
