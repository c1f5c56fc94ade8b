"""Gymnasium environments over cruxlab's gridworld engine.

Registered ids (``gymnasium.make(id, **kwargs)``):

- ``cruxlab/Maze-v0``: perfect mazes, ``size`` x ``size`` (odd, default 9), a fresh maze per seed,
  holding the agent, a diamond, a cheese and a key; the target (default ``"diamond"``) rewards 1.0
  and ends the episode.
- ``cruxlab/Rooms-v0``: open rooms with scattered obstacles (``size``, ``density``).
- ``cruxlab/CornerMaze-v0``: the goal-misgeneralisation distribution: during training the diamond
  lies in the ``region`` x ``region`` square at the top-right corner (with probability
  ``p_anywhere`` anywhere instead); ``test=True`` draws test levels (diamond outside the region).
- ``cruxlab/Level-v0``: one fixed level from the text format of ``levels/`` (``text=`` or
  ``path=``).
- ``cruxlab/Safety-v0``: the safety gridworlds of cruxlab-safety (``level=``, one of
  :data:`SAFETY_LEVELS`, e.g. ``"side_effects_sokoban:0"``): five actions (the fifth a no-op), the
  board as ``(H, W)`` uint8 characters, and a hidden performance the agent never sees
  (``env.unwrapped.hidden_performance()``).

Observations (``obs=``): ``"compact"`` is an ``(H, W)`` uint8 grid of cell codes (0 floor, 1 wall,
2 agent, 3 diamond, 4 cheese, 5 key); ``"planes"`` is ``(6, H, W)`` float32 one-hot planes (walls,
agent, diamond, cheese, key) and the cue plane ``0.9**d`` (d the maze distance to the diamond).
Actions: 0 up, 1 down, 2 left, 3 right. ``reset(seed=s)`` plays the level the CLI's
``cruxlab render --generate maze:SIZE --seed s`` shows.

``gymnasium.make_vec("cruxlab/Maze-v0", num_envs=N)`` (or ``Rooms-v0``) builds
:class:`CruxlabVectorEnv`, which steps all ``N`` environments in one call of the Rust engine into
its own buffers, which numpy reads without copying.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from cruxlab import _cruxlab
from cruxlab.errors import UserError

CODES = _cruxlab.CODES
CHANNELS = _cruxlab.CHANNELS
#: Object kinds by the index ``reached`` arrays use (-1: nothing).
KINDS = ("diamond", "cheese", "key")
_SEED_BOUND = 2**63


def _observation_space(obs: str, height: int, width: int) -> spaces.Box:
    if obs == "compact":
        return spaces.Box(0, CODES - 1, (height, width), np.uint8)
    if obs == "planes":
        return spaces.Box(0.0, 1.0, (CHANNELS, height, width), np.float32)
    raise UserError(f"obs {obs}: unknown observation kind '{obs}' (expected compact or planes)")


def _default_steps(height: int, width: int) -> int:
    return 4 * height * width


class CruxlabEnv(gymnasium.Env):
    """One cruxlab gridworld (``cruxlab_grid::Env``) with Gymnasium's API."""

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 8}

    def __init__(self, core: Any, render_mode: str | None = None, tile: int = 16):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UserError(
                f"render_mode {render_mode}: expected one of {self.metadata['render_modes']}"
            )
        self._core = core
        self.render_mode = render_mode
        self.tile = tile
        height, width = core.shape
        self.observation_space = _observation_space(core.obs_kind, height, width)
        self.action_space = spaces.Discrete(4)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(_SEED_BOUND))
        elif seed < 0:
            raise UserError(f"seed {seed}: must be >= 0")
        obs = self._core.reset(seed)
        return obs, {"steps": 0, "agent": self._core.agent, "seed": seed}

    def step(self, action):
        obs, reward, terminated, truncated, steps, reached, moved = self._core.step(int(action))
        info = {"steps": steps, "reached": reached, "moved": moved}
        return obs, float(reward), terminated, truncated, info

    def render(self):
        if self.render_mode == "rgb_array":
            return self._core.rgb(self.tile)
        if self.render_mode == "ansi":
            return self._core.ansi()
        return None


class MazeEnv(CruxlabEnv):
    """Perfect mazes, a fresh one per seed (``maze:SIZE``)."""

    def __init__(self, size: int = 9, target: str = "diamond", max_steps: int | None = None,
                 obs: str = "compact", render_mode: str | None = None, tile: int = 16):
        steps = max_steps if max_steps is not None else _default_steps(size, size)
        core = _cruxlab.GridEnv.generated(f"maze:{size}", target, steps, obs)
        super().__init__(core, render_mode, tile)


class RoomsEnv(CruxlabEnv):
    """Open rooms with scattered obstacles (``rooms:SIZE:DENSITY``)."""

    def __init__(self, size: int = 15, density: float = 0.2, target: str = "diamond",
                 max_steps: int | None = None, obs: str = "compact",
                 render_mode: str | None = None, tile: int = 16):
        steps = max_steps if max_steps is not None else _default_steps(size, size)
        core = _cruxlab.GridEnv.generated(f"rooms:{size}:{density}", target, steps, obs)
        super().__init__(core, render_mode, tile)


class CornerMazeEnv(CruxlabEnv):
    """Mazes whose diamond sits in the top-right corner region during training. With ``min_size``
    below ``size``, each level's maze has an odd side drawn from ``min_size..size`` and is centred
    in the ``size`` x ``size`` grid with walls around it (procgen's padding); the region is the
    maze's own top-right corner. Mazes too small to leave floor outside the region (side below
    ``region + 3``) appear in training levels only, the agent anywhere but on the diamond; test
    levels draw their side from the smallest that leaves floor outside."""

    def __init__(self, size: int = 13, region: int = 3, p_anywhere: float = 0.0,
                 test: bool = False, max_steps: int | None = None, obs: str = "compact",
                 render_mode: str | None = None, tile: int = 16, min_size: int | None = None):
        steps = max_steps if max_steps is not None else _default_steps(size, size)
        core = _cruxlab.GridEnv.corner(size, region, p_anywhere, test, steps, obs, min_size)
        super().__init__(core, render_mode, tile)


class LevelEnv(CruxlabEnv):
    """One fixed level, from text or a file in the ``levels/`` format."""

    def __init__(self, text: str | None = None, path: str | None = None,
                 target: str = "diamond", max_steps: int | None = None, obs: str = "compact",
                 render_mode: str | None = None, tile: int = 16):
        if (text is None) == (path is None):
            raise UserError("LevelEnv: give exactly one of text= or path=")
        if path is not None:
            try:
                text = Path(path).read_text()
            except OSError as e:
                raise UserError(f"{path}: {e.strerror}") from None
        first = _cruxlab.GridEnv.fixed(text, target, 1, obs)
        height, width = first.shape
        steps = max_steps if max_steps is not None else _default_steps(height, width)
        core = _cruxlab.GridEnv.fixed(text, target, steps, obs)
        super().__init__(core, render_mode, tile)


SAFETY_LEVELS = tuple(_cruxlab.safety_levels())


class SafetyEnv(gymnasium.Env):
    """A safety gridworld (``cruxlab_safety::SafetyEnv``); the levels are fixed."""

    metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 8}

    def __init__(self, level: str = "side_effects_sokoban:0", render_mode: str | None = None,
                 tile: int = 16):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UserError(
                f"render_mode {render_mode}: expected one of {self.metadata['render_modes']}"
            )
        self._core = _cruxlab.SafetyGridEnv.builtin(level)
        self.level = level
        self.render_mode = render_mode
        self.tile = tile
        height, width = self._core.shape
        self.observation_space = spaces.Box(0, 255, (height, width), np.uint8)
        self.action_space = spaces.Discrete(5)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(_SEED_BOUND))
        elif seed < 0:
            raise UserError(f"seed {seed}: must be >= 0")
        return self._core.reset(seed), {"steps": 0}

    def step(self, action):
        board, reward, terminated, truncated, steps, ending = self._core.step(int(action))
        return board, float(reward), terminated, truncated, {"steps": steps, "ending": ending}

    def hidden_performance(self) -> float:
        """The episode's hidden performance so far (the experimenter's measure, not a reward)."""
        return self._core.hidden_performance()

    def episode_return(self) -> float:
        return self._core.episode_return()

    def render(self):
        if self.render_mode == "rgb_array":
            return self._core.rgb(self.tile)
        if self.render_mode == "ansi":
            return self._core.ansi()
        return None


class CruxlabVectorEnv(VectorEnv):
    """``num_envs`` generated gridworlds stepped in one call (``cruxlab_grid::VecEnv``).

    The observation, reward, termination and truncation arrays returned by :meth:`step` are numpy
    views of the Rust engine's buffers: the next step overwrites them in place (copy them to keep
    them), and they are read-only.

    Auto-reset is *same-step* (``metadata["autoreset_mode"] == AutoresetMode.SAME_STEP``): when an
    episode ends, the step reports its reward and flags and the returned observation is already the
    next episode's first. The ended episode's last observation is in ``infos["final_obs"]`` (an
    object array, ``infos["_final_obs"]`` marking the environments that ended), on termination and
    on truncation alike; ``final_observations`` is the same data as one preallocated array.

    Seeding: ``reset(seed=s)`` makes environment ``i``'s ``k``-th episode the level
    ``GridVecEnv.episode_seed(s, i, k)``, so a single environment reset with that seed replays it.
    """

    metadata = {
        "render_modes": ["rgb_array", "ansi"],
        "render_fps": 8,
        "autoreset_mode": AutoresetMode.SAME_STEP,
    }

    def __init__(self, num_envs: int = 64, spec: str = "maze:9", target: str = "diamond",
                 max_steps: int | None = None, obs: str = "compact",
                 render_mode: str | None = None, tile: int = 16, keep_final: bool = True,
                 seed: int = 0):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UserError(
                f"render_mode {render_mode}: expected one of {self.metadata['render_modes']}"
            )
        probe = _cruxlab.GridEnv.generated(spec, target, 1, obs)
        height, width = probe.shape
        steps = max_steps if max_steps is not None else _default_steps(height, width)
        self._core = _cruxlab.GridVecEnv(num_envs, spec, target, steps, obs, seed, keep_final)
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.tile = tile
        self.single_observation_space = _observation_space(obs, height, width)
        self.single_action_space = spaces.Discrete(4)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._buffers = self._core.buffers()
        for array in self._buffers.values():
            array.flags.writeable = False
        self._obs = self._buffers["obs"]
        self._rewards = self._buffers["rewards"]
        self._terminated = self._buffers["terminated"]
        self._truncated = self._buffers["truncated"]
        self._ended = self._buffers["ended"]
        self._final = self._buffers.get("final_obs")
        self._actions = np.zeros(num_envs, np.int64)

    @property
    def final_observations(self) -> np.ndarray | None:
        """Each environment's last ended episode's final observation (valid where ``ended``)."""
        return self._final

    @property
    def ended(self) -> np.ndarray:
        """Which environments' episodes ended on the last step."""
        return self._ended

    @property
    def reached(self) -> np.ndarray:
        """What each agent entered on the last step: -1 nothing, else an index into ``KINDS``."""
        return self._buffers["reached"]

    @property
    def episode_steps(self) -> np.ndarray:
        """Steps of each current episode as of the last step (an ended episode's length)."""
        return self._buffers["episode_steps"]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise UserError(
                "seed: one base seed (an int) for all environments; environment i's episodes "
                "follow from it"
            )
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(_SEED_BOUND))
        elif seed < 0:
            raise UserError(f"seed {seed}: must be >= 0")
        self._core.reset(int(seed))
        return self._obs, {}

    def step(self, actions):
        actions = np.asarray(actions)
        if actions.dtype != np.int64:
            np.copyto(self._actions, actions, casting="unsafe")
            actions = self._actions
        self._core.step(actions.reshape(-1))
        infos: dict[str, Any] = {}
        if self._final is not None and self._ended.any():
            ended = self._ended.copy()
            final = np.empty(self.num_envs, dtype=object)
            for i in np.flatnonzero(ended):
                final[i] = self._final[i].copy()
            infos = {
                "final_obs": final,
                "_final_obs": ended,
                "final_info": {},
                "_final_info": ended,
            }
        return self._obs, self._rewards, self._terminated, self._truncated, infos

    def render(self):
        if self.render_mode == "rgb_array":
            return tuple(self._core.rgb(i, self.tile) for i in range(self.num_envs))
        if self.render_mode == "ansi":
            return tuple(self._core.ansi(i) for i in range(self.num_envs))
        return None


def _maze_vector(num_envs: int = 64, size: int = 9, **kwargs) -> CruxlabVectorEnv:
    return CruxlabVectorEnv(num_envs, spec=f"maze:{size}", **kwargs)


def _rooms_vector(num_envs: int = 64, size: int = 15, density: float = 0.2,
                  **kwargs) -> CruxlabVectorEnv:
    return CruxlabVectorEnv(num_envs, spec=f"rooms:{size}:{density}", **kwargs)


def _register() -> None:
    registry = gymnasium.envs.registration.registry
    entries = [
        ("cruxlab/Maze-v0", MazeEnv, _maze_vector),
        ("cruxlab/Rooms-v0", RoomsEnv, _rooms_vector),
        ("cruxlab/CornerMaze-v0", CornerMazeEnv, None),
        ("cruxlab/Level-v0", LevelEnv, None),
        ("cruxlab/Safety-v0", SafetyEnv, None),
    ]
    for env_id, entry, vector in entries:
        if env_id in registry:
            continue
        gymnasium.register(
            id=env_id,
            entry_point=entry,
            vector_entry_point=vector,
            disable_env_checker=False,
        )


#: The registered ids.
IDS = ("cruxlab/Maze-v0", "cruxlab/Rooms-v0", "cruxlab/CornerMaze-v0", "cruxlab/Level-v0",
       "cruxlab/Safety-v0")

_register()
