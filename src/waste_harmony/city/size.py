"""Memory a city needs, estimated from its size before it is built; a refusal if it cannot fit.

A 4000 × 4000 grid city (16 million neighbourhoods) used to run for minutes with no
output before the machine ran out of memory. The bytes a city costs grow linearly
with its neighbourhoods (nodes), streets (edges) and citizens; the constants below
were measured on grid cities of 10^4 to 9 × 10^4 nodes (resident memory before and
after building, Python 3.13, networkx 3, on 2026-12-06):

* the graph with its node and edge attributes: 1,360–2,110 bytes a node with two
  streets a node, taken as :data:`GRAPH_NODE_BYTES` + 2 × :data:`GRAPH_EDGE_BYTES`;
* a model on it (neighbourhood agents, state columns, space): 2,900–3,100 bytes a
  node with one citizen each, of which :data:`CITIZEN_BYTES` for the citizen (259–315
  bytes a citizen measured with 10^5–4 × 10^5 citizens on 10^4 nodes).

These are lower bounds (a run also records series), so a refusal is never wrong by
much; work that passes may still need more.
"""

from __future__ import annotations

from waste_harmony.machine import available_memory_bytes, gigabytes

__all__ = [
    "CITIZEN_BYTES",
    "GRAPH_EDGE_BYTES",
    "GRAPH_NODE_BYTES",
    "MODEL_NODE_BYTES",
    "check_city_size",
    "city_bytes",
]

#: Bytes a node of a city graph costs (its attributes), without its edges.
GRAPH_NODE_BYTES = 650
#: Bytes an edge of a city graph costs (both adjacency entries and ``length_km``).
GRAPH_EDGE_BYTES = 350
#: Bytes a node costs a model built on the city (its neighbourhood agent and columns).
MODEL_NODE_BYTES = 2_600
#: Bytes a citizen costs a model.
CITIZEN_BYTES = 260


def city_bytes(n_nodes: int, n_edges: int, n_citizens: int = 0, *, model: bool = False) -> int:
    """Bytes a city graph (and, with ``model``, a model on it) needs at least.

    Examples
    --------
    >>> city_bytes(100, 180)
    128000
    >>> city_bytes(100, 180, 1_000, model=True)
    648000
    """
    graph = n_nodes * GRAPH_NODE_BYTES + n_edges * GRAPH_EDGE_BYTES
    if not model:
        return graph
    return graph + n_nodes * MODEL_NODE_BYTES + n_citizens * CITIZEN_BYTES


def check_city_size(
    n_nodes: int,
    n_edges: int,
    n_citizens: int = 0,
    *,
    model: bool = False,
    graph_built: bool = False,
    what: str,
    fix: str,
) -> None:
    """Refuse, before building it, a city this machine cannot hold, with the numbers.

    Parameters
    ----------
    n_nodes, n_edges, n_citizens : int
        The city's size (citizens only count with ``model``).
    model : bool
        Whether a model is built on it too.
    graph_built : bool
        Whether the graph exists already (a model on a given city): only the model's
        part is still to be allocated.
    what : str
        What is built, for the message (``"grid_city(4000 x 4000)"``).
    fix : str
        What to lower, for the message.

    Raises
    ------
    MemoryError
        If :func:`city_bytes` exceeds the memory available now: naming the size,
        the estimate, what is available and ``fix``.

    Examples
    --------
    >>> check_city_size(100, 180, what="a small city", fix="-")  # fits
    >>> check_city_size(100, 180, 10**6, model=True, graph_built=True, what="-", fix="-")
    >>> check_city_size(10**12, 2 * 10**12, what="grid_city(10^6 x 10^6)", fix="fewer rows")
    Traceback (most recent call last):
    ...
    MemoryError: grid_city(10^6 x 10^6): 1,000,000,000,000 neighbourhoods and ...
    """
    need = city_bytes(n_nodes, n_edges, n_citizens, model=model)
    if graph_built:
        need -= city_bytes(n_nodes, n_edges)
    free = available_memory_bytes()
    if free is None or need <= free:
        return
    citizens = f" and {n_citizens:,} citizens" if model and n_citizens else ""
    raise MemoryError(
        f"{what}: {n_nodes:,} neighbourhoods and {n_edges:,} streets{citizens} need at "
        f"least {gigabytes(need)} of memory to build (estimated from its size before "
        f"building it) where this machine has {gigabytes(free)} available: {fix}"
    )
