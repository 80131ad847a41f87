"""The behaviour rules: small, cited, vectorised models over numpy arrays.

Each module is one published model, usable on its own arrays or graphs; the
:class:`~waste_harmony.CityModel` calls exactly these functions. Nothing here
knows about agents, scenarios or the model.

=================  ===========================================================
module             model
=================  ===========================================================
``opinion``        Deffuant–Weisbuch bounded confidence; DeGroot averaging
``recycling``      theory of planned behaviour, logistic form
``waste``          Gamma waste generation; collection to landfill
``protest``        Granovetter thresholds on neighbourhood networks
``perception``     exposure to pollution raises concern (saturating harm)
``attention``      concern fades towards a baseline (issue-attention cycle)
``diffusion``      graph-Laplacian dispersion and decay of air pollution
``mobility``       daily outings within a street distance (activity space)
``organism``       Fisher–KPP logistic growth and spread on the graph
``adoption``       Bass diffusion of innovations
``biodiversity``   species–area relationship
``inequality``     Gini, Theil, Atkinson, concentration index
=================  ===========================================================
"""

from waste_harmony.dynamics import (
    adoption,
    attention,
    biodiversity,
    diffusion,
    inequality,
    mobility,
    opinion,
    organism,
    perception,
    protest,
    recycling,
    waste,
)

__all__ = [
    "adoption",
    "attention",
    "biodiversity",
    "diffusion",
    "inequality",
    "mobility",
    "opinion",
    "organism",
    "perception",
    "protest",
    "recycling",
    "waste",
]
