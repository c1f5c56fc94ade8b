"""PettingZoo environments for cruxlab's bargaining games.

- Nash demand with a commitment stage and value-destroying threats:
  :func:`nash_demand_parallel_env`, :func:`nash_demand_env` (AEC).
- Deal-or-No-Deal (multi-issue bargaining, OpenSpiel's ``bargaining``):
  :func:`deal_parallel_env`, :func:`deal_env` (AEC).

Agents are ``player_0`` and ``player_1``. Each observation is a dict with the game's
``observation`` tensor and an ``action_mask`` (1 where the action is legal now). Rewards are the
change in each player's return, so they sum to the game's returns over an episode.

Parallel API: at a simultaneous node every agent acts; at a sequential node (a Deal-or-No-Deal
offer) only the mover does. An agent that does not act now has an all-zero mask, and whatever
action it sends is ignored (``infos[agent]["acting"]`` says who acts). AEC API: only the agents
that act are ever selected; at a simultaneous node the actions are collected in agent order and
applied together once the last one is in.

An illegal action raises :class:`cruxlab.UserError` with the game's message. With
``illegal_action="terminate"`` (PettingZoo's ``TerminateIllegalWrapper`` convention, for
learners and test harnesses that sample without masks) it ends the episode instead: the offender
receives ``illegal_reward``, the others 0, and ``infos[agent]["illegal"]`` names the offender.
"""

from __future__ import annotations

import functools

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv

from cruxlab import _cruxlab
from cruxlab.errors import UserError

_SEED_BOUND = 2**63


def _seed(rng: np.random.Generator, seed: int | None) -> int:
    if seed is None:
        return int(rng.integers(_SEED_BOUND))
    if seed < 0:
        raise UserError(f"seed {seed}: must be >= 0")
    return int(seed)


def _obs(observation, mask) -> dict:
    return {"observation": observation, "action_mask": mask}


class _Spaces:
    """Spaces shared by both APIs, one object per agent (so seeding an action space sticks)."""

    def _init_spaces(self, observation_len: int, num_actions: int) -> None:
        obs_space = spaces.Dict(
            {
                "observation": spaces.Box(-np.inf, np.inf, (observation_len,), np.float32),
                "action_mask": spaces.Box(0, 1, (num_actions,), np.int8),
            }
        )
        self._observation_spaces = {a: obs_space for a in self.possible_agents}
        self._action_spaces = {a: spaces.Discrete(num_actions) for a in self.possible_agents}

    @functools.lru_cache(maxsize=None)  # noqa: B019  (one per agent, for the env's lifetime)
    def observation_space(self, agent):
        return self._observation_spaces[agent]

    @functools.lru_cache(maxsize=None)  # noqa: B019
    def action_space(self, agent):
        return self._action_spaces[agent]


class BargainParallelEnv(_Spaces, ParallelEnv):
    """PettingZoo's Parallel API over ``cruxlab_games::ParallelEnv``."""

    metadata = {"render_modes": ["ansi"], "name": "cruxlab_bargain_v0", "is_parallelizable": True}

    def __init__(self, core, name: str, render_mode: str | None = None,
                 illegal_action: str = "raise", illegal_reward: float = -1.0):
        if render_mode is not None and render_mode != "ansi":
            raise UserError(f"render_mode {render_mode}: expected 'ansi' or None")
        if illegal_action not in ("raise", "terminate"):
            raise UserError(f"illegal_action {illegal_action}: expected 'raise' or 'terminate'")
        self._core = core
        self.metadata = dict(self.metadata, name=name)
        self.render_mode = render_mode
        self.illegal_action = illegal_action
        self.illegal_reward = float(illegal_reward)
        self._masks: dict = {}
        self.possible_agents = list(core.possible_agents)
        self.agents: list[str] = []
        self._init_spaces(core.observation_len, core.num_actions)
        self._rng = np.random.default_rng()
        self._texts: dict[str, str] = {}

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        observations = self._core.reset(_seed(self._rng, seed))
        self.agents = list(self._core.agents)
        acting = set(self._core.acting_agents())
        infos = {a: {"acting": a in acting, "cumulative_return": 0.0} for a in self.agents}
        self._texts = {}
        self._masks = {a: o[1] for a, o in observations.items()}
        return {a: _obs(*o) for a, o in observations.items()}, infos

    def step(self, actions: dict):
        acting = self._core.acting_agents()
        chosen = {}
        for agent in acting:
            if agent not in actions or actions[agent] is None:
                raise UserError(f"agent '{agent}' must act now but sent no action")
            chosen[agent] = int(actions[agent])
        for agent in actions:
            if agent not in self.possible_agents:
                raise UserError(f"unknown agent '{agent}'")
        if self.illegal_action == "terminate" and self.agents:
            offenders = [a for a, act in chosen.items()
                         if not (0 <= act < len(self._masks[a]) and self._masks[a][act])]
            if offenders:
                return self._end_illegal(offenders[0])
        observations, rewards, terminations, truncations, infos = self._core.step(chosen)
        self.agents = list(self._core.agents)
        self._texts = {a: i["text"] for a, i in infos.items()}
        self._masks = {a: o[1] for a, o in observations.items()}
        observations = {a: _obs(*o) for a, o in observations.items()}
        return observations, rewards, terminations, truncations, infos

    def _end_illegal(self, offender: str):
        live = self.agents
        observations = {a: _obs(*self._core.observe(a)) for a in live}
        rewards = {a: (self.illegal_reward if a == offender else 0.0) for a in live}
        done = {a: True for a in live}
        infos = {a: {"illegal": offender} for a in live}
        self.agents = []
        return observations, rewards, done, {a: False for a in live}, infos

    def render(self):
        if self.render_mode == "ansi":
            return "\n".join(f"{a}: {t}" for a, t in self._texts.items())
        return None

    def close(self):
        pass

    def state(self):
        raise NotImplementedError("the games are partially observed; use observe per agent")


class BargainAECEnv(_Spaces, AECEnv):
    """PettingZoo's AEC API over ``cruxlab_games::AecEnv``."""

    metadata = {"render_modes": ["ansi"], "name": "cruxlab_bargain_v0", "is_parallelizable": True}

    def __init__(self, core, name: str, render_mode: str | None = None):
        super().__init__()
        if render_mode is not None and render_mode != "ansi":
            raise UserError(f"render_mode {render_mode}: expected 'ansi' or None")
        self._core = core
        self.metadata = dict(self.metadata, name=name)
        self.render_mode = render_mode
        self.possible_agents = list(core.possible_agents)
        self.agents = []
        self._init_spaces(*self._sizes(core))
        self._rng = np.random.default_rng()
        self._returns: dict[str, float] = {}

    @staticmethod
    def _sizes(core):
        core.reset(0)
        obs, mask, *_ = core.last(core.possible_agents[0])
        return len(obs), len(mask)

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._core.reset(_seed(self._rng, seed))
        self.agents = self.possible_agents[:]
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self._returns = {a: 0.0 for a in self.agents}
        self.infos = {}
        for a in self.agents:
            self.infos[a] = self._core.last(a)[5]
        self.agent_selection = self._core.agent_selection

    def observe(self, agent):
        obs, mask, *_ = self._core.last(agent)
        return _obs(obs, mask)

    def step(self, action):
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if action is None:
            raise UserError(f"agent '{agent}' must act now but sent no action")
        self._cumulative_rewards[agent] = 0.0
        self._core.step(int(action))
        for a in self.agents:
            _, _, _, terminated, truncated, info = self._core.last(a)
            self.rewards[a] = info["cumulative_return"] - self._returns[a]
            self._returns[a] = info["cumulative_return"]
            self.terminations[a] = terminated
            self.truncations[a] = truncated
            self.infos[a] = info
        self._accumulate_rewards()
        selected = self._core.agent_selection
        self.agent_selection = selected if selected is not None else self.agents[0]

    def render(self):
        if self.render_mode == "ansi":
            return "\n".join(f"{a}: {self.infos[a]['text']}" for a in self.agents)
        return None

    def close(self):
        pass


def nash_demand_parallel_env(units: int = 100, commitment_stage: bool = True,
                             threat_damage: float = 0.5, threat_cost: float = 0.05,
                             surrogate_shield: bool = False, max_cycles: int = 100,
                             render_mode: str | None = None, illegal_action: str = "raise",
                             illegal_reward: float = -1.0) -> BargainParallelEnv:
    core = _cruxlab.BargainParallel.nash_demand(units, commitment_stage, threat_damage,
                                                threat_cost, surrogate_shield, max_cycles)
    return BargainParallelEnv(core, "cruxlab_nash_demand_v0", render_mode, illegal_action,
                              illegal_reward)


def nash_demand_env(units: int = 100, commitment_stage: bool = True, threat_damage: float = 0.5,
                    threat_cost: float = 0.05, surrogate_shield: bool = False,
                    max_cycles: int = 100, render_mode: str | None = None) -> BargainAECEnv:
    core = _cruxlab.BargainAec.nash_demand(units, commitment_stage, threat_damage, threat_cost,
                                           surrogate_shield, max_cycles)
    return BargainAECEnv(core, "cruxlab_nash_demand_v0", render_mode)


def deal_parallel_env(min_items: int = 5, max_items: int = 7, max_turns: int = 10,
                      max_cycles: int = 100, render_mode: str | None = None,
                      illegal_action: str = "raise",
                      illegal_reward: float = -1.0) -> BargainParallelEnv:
    core = _cruxlab.BargainParallel.deal(min_items, max_items, max_turns, max_cycles)
    return BargainParallelEnv(core, "cruxlab_deal_v0", render_mode, illegal_action,
                              illegal_reward)


def deal_env(min_items: int = 5, max_items: int = 7, max_turns: int = 10, max_cycles: int = 100,
             render_mode: str | None = None) -> BargainAECEnv:
    core = _cruxlab.BargainAec.deal(min_items, max_items, max_turns, max_cycles)
    return BargainAECEnv(core, "cruxlab_deal_v0", render_mode)
