"""cruxlab from Python.

- Gymnasium environments (``gymnasium.make("cruxlab/Maze-v0")``) and a native vector environment
  (``gymnasium.make_vec("cruxlab/Maze-v0", num_envs=4096)``): see :mod:`cruxlab.envs`.
- PettingZoo environments for the bargaining games: see :mod:`cruxlab.bargaining`.
- Experiments whose results come back as pandas DataFrames: :func:`run`, :func:`list`,
  :func:`show`, :func:`merge`.
- The learned experiments' trained networks, with their activations as numpy arrays:
  :class:`Policy`, :func:`policies.runs` (see :mod:`cruxlab.policies`).

The science lives in the Rust crates; this package is a thin layer over their bindings
(``cruxlab._cruxlab``).
"""

from cruxlab._cruxlab import __version__
from cruxlab.errors import CruxlabError, InternalError, UserError
from cruxlab.experiments import Partial, Results, list, merge, run, show
from cruxlab.policies import Policy
from cruxlab import envs  # noqa: F401  (registers the Gymnasium ids)
from cruxlab import policies  # noqa: F401

__all__ = [
    "CruxlabError",
    "InternalError",
    "Partial",
    "Policy",
    "Results",
    "UserError",
    "__version__",
    "list",
    "merge",
    "run",
    "show",
]
