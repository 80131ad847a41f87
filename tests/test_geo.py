"""Real cities: districts from GIS polygons and streets from OpenStreetMap.

District polygons are libpysal's bundled examples (Columbus's 49 neighbourhoods,
Chicago's 77 community areas, shipped inside the wheel); the OSM extracts in
tests/data/osm/ are osmnx's own test inputs (© OpenStreetMap contributors, ODbL).
Adjacency is checked against libpysal's rook contiguity, computed independently.
"""

import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

gpd = pytest.importorskip("geopandas")
shapely = pytest.importorskip("shapely")
libpysal = pytest.importorskip("libpysal")
pytest.importorskip("osmnx")

from waste_harmony import CityModel  # noqa: E402
from waste_harmony.city import (  # noqa: E402
    ZONES,
    connect_pieces,
    connector_links,
    district_geometries,
    from_districts,
    from_osm,
    load_city,
    save_city,
    validate_city,
)
from waste_harmony.config import ConfigError, load_run_file  # noqa: E402

OSM = Path(__file__).parent / "data" / "osm"
AGUAS = OSM / "aguascalientes.osm.bz2"
OAKLAND = OSM / "West-Oakland.osm.bz2"
COLUMBUS = libpysal.examples.get_path("columbus.shp")
TOKYO = libpysal.examples.get_path("tokyomet262.shp")
SIDS = libpysal.examples.get_path("sids2.shp")
TRACTS = libpysal.examples.get_path("10740.shp")
CHICAGO = libpysal.examples.get_path("Chicago77.shp")
ILLINOIS_EAST_FT = "EPSG:3435"  # the CRS of Chicago77 (coordinates in US survey feet)


def _rook_edges(frame, id_column):
    w = libpysal.weights.Rook.from_dataframe(frame, ids=id_column, use_index=False)
    return {frozenset((a, b)) for a, nbrs in w.neighbors.items() for b in nbrs}


@pytest.fixture(scope="module")
def chicago_frame():
    return gpd.read_file(CHICAGO)


@pytest.fixture(scope="module")
def chicago(chicago_frame):
    return from_districts(chicago_frame, id_column="AREANO", crs=ILLINOIS_EAST_FT)


def test_importing_city_does_not_import_geopandas():
    code = "import sys, waste_harmony.city; print('geopandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_columbus_districts_match_rook_contiguity():
    frame = gpd.read_file(COLUMBUS)
    G = from_districts(COLUMBUS, id_column="POLYID", unit_km=1.0, population="INC")
    validate_city(G)
    assert G.number_of_nodes() == len(frame) == 49
    assert {frozenset(e) for e in G.edges} == _rook_edges(frame, "POLYID")
    assert all(d["border_km"] > 0 for _, _, d in G.edges(data=True))
    pops = dict(G.nodes(data="population"))
    assert pops == dict(zip(frame.POLYID, frame.INC.astype(float), strict=True))


def test_chicago_areas_and_adjacency(chicago, chicago_frame):
    G = chicago
    validate_city(G)
    assert G.number_of_nodes() == 77
    # rook contiguity, less one corner: areas 16 and 19 (4.5 km apart) share 0.1 m of
    # boundary where they meet at a point, below the 10 m minimum border
    rook = _rook_edges(chicago_frame, "AREANO")
    assert {frozenset(e) for e in G.edges} == rook - {frozenset((16, 19))}
    exact = from_districts(
        chicago_frame, id_column="AREANO", crs=ILLINOIS_EAST_FT, snap_km=0, min_border_km=0
    )
    assert {frozenset(e) for e in exact.edges} == rook
    assert exact.edges[16, 19]["border_km"] == pytest.approx(1.05e-4, rel=0.01)
    # snapping at 1 m adds the ends (about 1 m each) to exactly shared borders
    added = [G.edges[e]["border_km"] - exact.edges[e]["border_km"] for e in G.edges]
    assert min(added) >= 0 and max(added) < 0.025
    total = [sum(b for *_, b in H.edges(data="border_km")) for H in (G, exact)]
    assert total[0] == pytest.approx(total[1], rel=2e-3)
    # areas in km² from feet: the layer's own projected total, converted independently
    ft_km = 1200 / 3937 / 1000  # one US survey foot in km
    total = chicago_frame.geometry.area.sum() * ft_km**2
    areas = np.array([a for _, a in G.nodes(data="area_km2")])
    assert math.isclose(areas.sum(), total, rel_tol=1e-6)
    assert 550 < areas.sum() < 650  # Chicago is about 600 km²
    # shared borders are symmetric (an undirected graph) and at most either perimeter
    geoms = district_geometries(G)
    for u, v, d in G.edges(data=True):
        assert d["border_km"] <= min(geoms[u].length, geoms[v].length) + 1e-9
    assert math.isclose(geoms.area.sum(), areas.sum(), rel_tol=1e-9)


def _fuzzy_edges(frame, id_column, buffer):
    w = libpysal.weights.fuzzy_contiguity(frame.set_index(id_column), buffering=True, buffer=buffer)
    return {frozenset((a, b)) for a, nbrs in w.neighbors.items() for b in nbrs}


def _story_runs(G, citizens, days=5):
    model = CityModel(G, n_citizens=citizens, scenarios=["techcore", "harmony-festival"], rng=3)
    model.run_for(days)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == days + 1
    assert np.isfinite(frame.select_dtypes("number").to_numpy(dtype=float)).all()
    return model


def _with_green(G):
    """The story's TechCore needs a biodiverse district: the largest one."""
    node = max(G.nodes, key=lambda n: G.nodes[n]["area_km2"])
    G.nodes[node]["zone"] = "green"
    return G


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_digitising_gaps_are_snapped_like_fuzzy_contiguity():
    # Tokyo's 262 municipalities (EPSG:30166, metres): 27 pairs 0.04-1.1 mm apart and
    # ~190 pairs whose boundaries cross (slivers of a few m² of overlap). Exact rook
    # contiguity cuts the layer into 23 pieces, the refusal this used to end in.
    frame = gpd.read_file(TOKYO)
    with pytest.warns(UserWarning, match=r"falls into 23 pieces.*connect='nearest'"):
        exact = from_districts(frame, id_column="AreaID", snap_km=0)
    assert {frozenset(e) for e in exact.edges} == _rook_edges(frame, "AreaID")
    assert nx.number_connected_components(exact) == 23
    G = from_districts(frame, id_column="AreaID")
    assert nx.is_connected(G)
    # independently: libpysal's fuzzy contiguity with a 1 m buffer finds the same
    # pairs, plus two corners (borders of 1.9 and 5.5 m) that the 10 m minimum drops
    fuzzy = _fuzzy_edges(frame, "AreaID", buffer=1.0)
    corners = from_districts(frame, id_column="AreaID", min_border_km=0)
    assert {frozenset(e) for e in corners.edges} == fuzzy
    dropped = fuzzy - {frozenset(e) for e in G.edges}
    assert len(dropped) == 2
    assert all(0 < corners.edges[tuple(e)]["border_km"] < 0.006 for e in dropped)
    assert G.number_of_edges() == len(fuzzy) - 2 == 693
    _story_runs(_with_green(G), citizens=1000)


def test_a_corner_touch_is_no_border():
    # Three unit squares (km): a and c share a side, b meets a only at the corner
    # (1, 1) and c along its top side; b is nudged 8e-7 km down, so that a and b
    # share 8e-7 km of boundary, the kind of contact that became a 1.4 km link.
    squares = [shapely.box(0, 0, 1, 1), shapely.box(1, 1 - 8e-7, 2, 2), shapely.box(1, 0, 2, 1)]
    frame = gpd.GeoDataFrame({"id": ["a", "b", "c"]}, geometry=squares)
    G = from_districts(frame, id_column="id", unit_km=1.0)
    assert sorted(map(sorted, G.edges)) == [["a", "c"], ["b", "c"]]
    exact = from_districts(frame, id_column="id", unit_km=1.0, snap_km=0, min_border_km=0)
    assert exact.edges["a", "b"]["border_km"] == pytest.approx(8e-7)
    assert exact.edges["a", "b"]["length_km"] == pytest.approx(math.sqrt(2), rel=1e-5)


@pytest.mark.filterwarnings("ignore:the district layer is in a geographic CRS:UserWarning")
def test_a_regional_layer_runs_on_its_declared_km():
    # North Carolina's 100 counties: 748 km wide, median link 39 km. The loader
    # declares km; the unit guess (a city is at most 500 km wide) no longer overrides it.
    G = from_districts(SIDS, id_column="FIPSNO", crs="EPSG:4267")
    assert G.graph["units"] == "km"
    xs = [p[0] for _, p in G.nodes(data="pos")]
    assert 700 < max(xs) - min(xs) < 800
    validate_city(G)
    _story_runs(_with_green(G), citizens=500)
    # the same graph without its declaration is refused, the message naming it
    undeclared = G.copy()
    del undeclared.graph["units"]
    with pytest.raises(ValueError, match=r'look like metres.*G.graph\["units"\] = "km"'):
        validate_city(undeclared)
    undeclared.graph["units"] = "km"
    validate_city(undeclared)


@pytest.mark.filterwarnings("ignore:the district layer is in a geographic CRS:UserWarning")
def test_an_isolated_tract_is_joined_by_a_declared_link():
    # Albuquerque's 195 census tracts (2000): tract 35043940300 lies 6.1 km from
    # every other, so the layer is in two pieces.
    frame = gpd.read_file(TRACTS)
    with pytest.warns(UserWarning, match=r"falls into 2 pieces.*connect='nearest'"):
        apart = from_districts(frame, id_column="STFID", crs="EPSG:4269")
    with pytest.raises(ValueError, match=r"2 connected components.*connect_pieces\(G\)") as info:
        CityModel(apart, n_citizens=500)
    assert "allow_disconnected" not in str(info.value)  # CityModel has no such keyword
    G = from_districts(frame, id_column="STFID", crs="EPSG:4269", connect="nearest")
    assert connector_links(G) == [("35043010301", "35043940300", pytest.approx(33.54, abs=0.01))]
    link = G.edges["35043010301", "35043940300"]
    assert link["border_km"] == 0.0 and link["connector"] is True
    x0, y0 = G.nodes["35043010301"]["pos"]
    x1, y1 = G.nodes["35043940300"]["pos"]
    assert link["length_km"] == pytest.approx(math.hypot(x1 - x0, y1 - y0))
    # the message's own fix works too: by position (the closest centres) or, given
    # the polygons, at the nearest shores as connect="nearest" does
    by_position = connect_pieces(apart)
    assert nx.is_connected(by_position)
    assert [link[:2] for link in connector_links(by_position)] == [("35043940300", "35043940800")]
    by_shore = connect_pieces(apart, shapes=district_geometries(apart).to_numpy())
    assert set(by_shore.edges) == set(G.edges)
    _story_runs(_with_green(G), citizens=1000)


@pytest.mark.filterwarnings("ignore:the district layer is in a geographic CRS:UserWarning")
def test_a_district_file_in_pieces_names_the_run_file_key(tmp_path):
    frame = gpd.read_file(TRACTS).set_crs("EPSG:4269")
    frame[["STFID", "geometry"]].to_file(tmp_path / "tracts.geojson")
    (tmp_path / "run.toml").write_text(
        'days = 2\ncitizens = 300\n[city]\nfile = "tracts.geojson"\nid_column = "STFID"\n'
    )
    config = load_run_file(tmp_path / "run.toml")
    with pytest.raises(ConfigError, match=r'2 pieces.*connect = "nearest"'):
        config.build_model()
    (tmp_path / "run.toml").write_text(
        'days = 2\ncitizens = 300\n[city]\nfile = "tracts.geojson"\nid_column = "STFID"\n'
        'connect = "nearest"\n'
    )
    G = load_run_file(tmp_path / "run.toml").city.build()
    assert nx.is_connected(G) and len(connector_links(G)) == 1


def test_geographic_crs_is_projected_to_utm_with_a_warning(chicago, chicago_frame):
    lonlat = chicago_frame.set_crs(ILLINOIS_EAST_FT).to_crs("EPSG:4326")
    with pytest.warns(UserWarning, match=r"geographic CRS.*UTM zone 16N"):
        G = from_districts(lonlat, id_column="AREANO")
    assert G.graph["crs"] == "EPSG:32616"
    a = sum(d for _, d in G.nodes(data="area_km2"))
    b = sum(d for _, d in chicago.nodes(data="area_km2"))
    assert math.isclose(a, b, rel_tol=2e-3)  # UTM scale distortion is below 0.1 %
    assert set(G.edges) == set(chicago.edges)


def test_table_join_and_zones(tmp_path, chicago_frame):
    table = pd.DataFrame(
        {
            "area": chicago_frame.AREANO,
            "residents": np.arange(1, 78) * 1000.0,
            "use": ["park" if i % 10 == 0 else "homes" for i in range(77)],
        }
    )
    path = tmp_path / "census.csv"
    table.to_csv(path, index=False)
    G = from_districts(
        chicago_frame,
        id_column="AREANO",
        crs=ILLINOIS_EAST_FT,
        table=path,
        table_id="area",
        population="residents",
        zone="use",
        zone_map={"park": "green", "homes": "residential"},
    )
    assert sum(p for _, p in G.nodes(data="population")) == pytest.approx(77 * 78 / 2 * 1000)
    assert Counter(z for _, z in G.nodes(data="zone")) == {"residential": 69, "green": 8}


def test_errors_name_the_problem(tmp_path, chicago_frame):
    with pytest.raises(ValueError, match=r"no CRS.*crs=.*unit_km="):
        from_districts(chicago_frame, id_column="AREANO")
    with pytest.raises(ValueError, match=r"no id column 'AREA_ID'"):
        from_districts(chicago_frame, id_column="AREA_ID", crs=ILLINOIS_EAST_FT)
    with pytest.raises(ValueError, match=r"population: no column 'POP'"):
        from_districts(chicago_frame, id_column="AREANO", crs=ILLINOIS_EAST_FT, population="POP")
    short = pd.DataFrame({"AREANO": range(1, 76), "pop": 1.0})
    with pytest.raises(ValueError, match=r"2 district id\(s\).*no row in the table.*'76', '77'"):
        from_districts(
            chicago_frame, id_column="AREANO", crs=ILLINOIS_EAST_FT, table=short, population="pop"
        )
    with pytest.raises(ValueError, match="zone_map"):
        from_districts(chicago_frame, id_column="AREANO", crs=ILLINOIS_EAST_FT, zone="COMMUNITY")


def test_geometry_survives_graphml(tmp_path, chicago):
    path = tmp_path / "chicago.graphml"
    save_city(chicago, path)
    G = load_city(path)
    assert G.nodes[1]["geometry_wkt"] == chicago.nodes[1]["geometry_wkt"]
    assert district_geometries(G).area.sum() == pytest.approx(
        district_geometries(chicago).area.sum()
    )


def test_model_runs_30_days_on_chicago(chicago):
    model = CityModel(chicago, n_citizens=2000, rng=1)
    model.run_for(30)
    assert np.isfinite(model.mean_pollution)


@pytest.fixture(scope="module")
def aguas_cells():
    return {km: from_osm(AGUAS, cell_km=km, population=20_000) for km in (0.25, 0.5)}


def test_osm_cells_at_two_resolutions(aguas_cells):
    fine, coarse = aguas_cells[0.25], aguas_cells[0.5]
    for km, G in aguas_cells.items():
        validate_city(G)
        assert G.graph["units"] == "km" and G.graph["cell_km"] == km
        assert sum(p for _, p in G.nodes(data="population")) == pytest.approx(20_000)
        # each cell's area is its land (the square within 50 m of a street), the area
        # of its polygon
        for _, d in G.nodes(data=True):
            land = shapely.from_wkt(d["geometry_wkt"])
            assert 0 < d["area_km2"] <= km**2 * (1 + 1e-9)
            assert land.area == pytest.approx(d["area_km2"], rel=1e-5)  # WKT in mm
            x, y = d["pos"]
            assert (
                land.difference(shapely.box(x - km / 2, y - km / 2, x + km / 2, y + km / 2)).area
                < 1e-12
            )
        zones = Counter(z for _, z in G.nodes(data="zone"))
        assert zones["residential"] > 0 and zones["green"] > 0  # parks and meadows found
        assert set(zones) <= set(ZONES)
        # neighbouring cells' centres are one cell (or one diagonal) apart
        lengths = {round(d / km, 6) for *_, d in G.edges(data="length_km")}
        assert lengths <= {1.0, round(math.sqrt(2), 6)}
    # street extent: the extract spans a few km, so tens of 250 m cells; 500 m cells nest them
    assert 40 < fine.number_of_nodes() < 400
    assert coarse.number_of_nodes() < fine.number_of_nodes() <= 4 * coarse.number_of_nodes()
    street = [sum(s for _, s in G.nodes(data="street_km")) for G in (fine, coarse)]
    assert street[0] == pytest.approx(street[1], rel=0.02)
    assert nx.is_connected(fine)
    # The same land at both resolutions: only the 50 m margins of streets that spill
    # into streetless 250 m cells are lost at 250 m (whole cells: 7.75 vs 11.0 km²).
    land = [sum(a for _, a in G.nodes(data="area_km2")) for G in (fine, coarse)]
    assert land[0] == pytest.approx(land[1], rel=0.02)
    # Cells sharing a side exchange across the land on it: at most the side, and more
    # than nothing since a street crosses it.
    for km, G in aguas_cells.items():
        for u, v, d in G.edges(data=True):
            side = abs(G.nodes[u]["cell_col"] - G.nodes[v]["cell_col"]) + abs(
                G.nodes[u]["cell_row"] - G.nodes[v]["cell_row"]
            )
            if side == 1:
                assert 0 < d["border_km"] <= km * (1 + 1e-9)
            else:
                assert "border_km" not in d


def test_osm_zones_from_land_use(aguas_cells):
    G = aguas_cells[0.25]
    zones = Counter(z for _, z in G.nodes(data="zone"))
    assert zones["plaza"] == 1  # the pedestrian historic centre
    assert zones["industrial"] >= 1  # the extract's landuse=industrial polygon
    plaza = next(n for n, z in G.nodes(data="zone") if z == "plaza")
    emission = {z: [] for z in ZONES}
    for _, d in G.nodes(data=True):
        emission[d["zone"]].append(d["industrial_emission"])
    assert min(emission["industrial"]) > max(emission["residential"])
    assert G.nodes[plaza]["population"] < max(p for _, p in G.nodes(data="population"))


def test_osm_land_use_is_conserved_when_cells_merge(aguas_cells):
    # Areal weighting: each cell's attributes mix the zones' values by land share, so
    # the industrial emission (a density: emission x area is extensive), the habitat
    # area and the area of four 250 m cells add up to their 500 m cell's, whatever
    # zone label each cell gets (zones count only for the distance terms).
    fine, coarse = aguas_cells[0.25], aguas_cells[0.5]
    children: dict[tuple[int, int], list[dict]] = {}
    for _, d in fine.nodes(data=True):
        children.setdefault((d["cell_col"] // 2, d["cell_row"] // 2), []).append(d)
    whole = [
        (d, children[(d["cell_col"], d["cell_row"])])
        for _, d in coarse.nodes(data=True)
        if len(children.get((d["cell_col"], d["cell_row"]), [])) == 4
    ]
    assert len(whole) >= 10
    mixed = 0
    for parent, kids in whole:
        for attribute in ("industrial_emission", "habitat"):
            total = sum(k[attribute] * k["area_km2"] for k in kids)
            assert total == pytest.approx(parent[attribute] * parent["area_km2"], abs=1e-9)
        assert sum(k["area_km2"] for k in kids) == pytest.approx(parent["area_km2"])
        emissions = [k["industrial_emission"] for k in kids]
        mixed += 0 < parent["industrial_emission"] < 10 and max(emissions) > min(emissions)
    assert mixed >= 1  # some 500 m cells hold industrial land unevenly spread over quarters


def test_model_runs_on_osm_cells(aguas_cells):
    model = CityModel(aguas_cells[0.5], n_citizens=1000, rng=2)
    model.run_for(30)
    assert np.isfinite(model.mean_pollution)


def test_osm_from_an_osmnx_graph_and_bad_input():
    import osmnx as ox

    graph = ox.graph_from_xml(OAKLAND, retain_all=True)
    with pytest.warns(UserWarning, match="largest street-connected group"):
        G = from_osm(graph, cell_km=0.1)
    validate_city(G)
    assert all(z == "residential" for _, z in G.nodes(data="zone"))  # no land use given
    with pytest.raises(ValueError, match="cell_km must be a positive"):
        from_osm(graph, cell_km=0)
    with pytest.raises(ValueError, match="street_buffer_km must be a positive"):
        from_osm(graph, cell_km=0.1, street_buffer_km=-0.05)
    # street_buffer_km=None: whole squares, bordering along whole sides
    with pytest.warns(UserWarning, match="largest street-connected group"):
        whole = from_osm(graph, cell_km=0.1, street_buffer_km=None)
    assert all(a == pytest.approx(0.01) for _, a in whole.nodes(data="area_km2"))
    assert all(b in (None, pytest.approx(0.1)) for *_, b in whole.edges(data="border_km"))
    assert sum(a for _, a in G.nodes(data="area_km2")) < sum(
        a for _, a in whole.nodes(data="area_km2")
    )
    with pytest.raises(FileNotFoundError, match="OSM file not found"):
        from_osm(OSM / "nowhere.osm")


def test_run_files_load_districts_and_osm(tmp_path):
    frame = gpd.read_file(COLUMBUS)  # planar units taken as km, written in metres
    frame = frame.set_geometry(frame.geometry.scale(1000, 1000, origin=(0, 0))).set_crs(
        "EPSG:26917"
    )
    frame.to_file(tmp_path / "districts.geojson")
    (tmp_path / "run.toml").write_text(
        'days = 2\ncitizens = 300\n[city]\nfile = "districts.geojson"\n'
        'id_column = "POLYID"\npopulation = "INC"\ncolumns = { land_price = "HOVAL" }\n'
    )
    config = load_run_file(tmp_path / "run.toml")
    G = config.city.build()
    assert G.number_of_nodes() == 49
    assert G.nodes[1]["land_price"] == pytest.approx(80.467003)
    assert config.to_dict()["city"]["file"].endswith("districts.geojson")

    (tmp_path / "osm.toml").write_text(f'[city]\nosm = "{OAKLAND}"\ncell_km = 0.25\n')
    with pytest.warns(UserWarning, match="largest"):
        H = load_run_file(tmp_path / "osm.toml").city.build()
    assert H.graph["cell_km"] == 0.25

    (tmp_path / "bad.toml").write_text(f'[city]\nosm = "{OAKLAND}"\ncell_kms = 0.25\n')
    with pytest.raises(ConfigError, match=r"city.cell_kms: unknown key; did you mean 'cell_km'"):
        load_run_file(tmp_path / "bad.toml")
    (tmp_path / "bad2.toml").write_text('[city]\nfile = "missing.geojson"\nid_column = "x"\n')
    with pytest.raises(ConfigError, match="city.file: file not found"):
        load_run_file(tmp_path / "bad2.toml")
