"""The PettingZoo environments, under PettingZoo's own API and seed tests."""

import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

import cruxlab
from cruxlab import bargaining

PARALLEL = {
    "nash_demand": lambda: bargaining.nash_demand_parallel_env(units=10),
    "nash_demand_no_commitment": lambda: bargaining.nash_demand_parallel_env(
        units=10, commitment_stage=False),
    "deal": lambda: bargaining.deal_parallel_env(),
}
AEC = {
    "nash_demand": lambda: bargaining.nash_demand_env(units=10),
    "nash_demand_no_commitment": lambda: bargaining.nash_demand_env(
        units=10, commitment_stage=False),
    "deal": lambda: bargaining.deal_env(),
}


@pytest.mark.parametrize("name", PARALLEL)
def test_parallel_api(name):
    parallel_api_test(PARALLEL[name](), num_cycles=200)


SAMPLING_WITHOUT_MASKS = {
    "nash_demand": lambda: bargaining.nash_demand_parallel_env(units=10,
                                                               illegal_action="terminate"),
    "deal": lambda: bargaining.deal_parallel_env(illegal_action="terminate"),
}


@pytest.mark.parametrize("name", SAMPLING_WITHOUT_MASKS)
def test_parallel_seed(name):
    # PettingZoo's parallel seed test samples actions without the masks.
    parallel_seed_test(SAMPLING_WITHOUT_MASKS[name])


def test_illegal_action_terminates_when_asked():
    env = bargaining.nash_demand_parallel_env(units=10, illegal_action="terminate")
    obs, _ = env.reset(seed=0)
    illegal = {a: int((obs[a]["action_mask"] == 0).nonzero()[0][0]) for a in env.agents}
    _, rewards, term, _, infos = env.step(illegal)
    assert env.agents == [] and all(term.values())
    assert rewards == {"player_0": -1.0, "player_1": 0.0}
    assert infos["player_0"]["illegal"] == "player_0"
    env = bargaining.nash_demand_parallel_env(units=10)
    env.reset(seed=0)
    with pytest.raises(cruxlab.UserError, match="not legal"):
        env.step(illegal)


@pytest.mark.parametrize("name", AEC)
def test_aec_api(name):
    api_test(AEC[name](), num_cycles=200)


@pytest.mark.parametrize("name", AEC)
def test_aec_seed(name):
    seed_test(AEC[name], num_cycles=50)


def test_parallel_rewards_sum_to_returns():
    env = bargaining.nash_demand_parallel_env(units=10)
    obs, infos = env.reset(seed=4)
    totals = {a: 0.0 for a in env.possible_agents}
    last = {}
    while env.agents:
        actions = {a: int(obs[a]["action_mask"].nonzero()[0][-1]) for a in env.agents}
        obs, rewards, term, trunc, infos = env.step(actions)
        for a, r in rewards.items():
            totals[a] += r
        last = infos
    for a in env.possible_agents:
        assert totals[a] == pytest.approx(last[a]["cumulative_return"])


def test_missing_action_raises_the_games_message():
    env = bargaining.nash_demand_parallel_env(units=10)
    env.reset(seed=0)
    with pytest.raises(cruxlab.UserError, match="must act now but sent no action"):
        env.step({})


def test_bad_game_parameters_raise():
    with pytest.raises(cruxlab.UserError, match="min_items 6, max_items 5"):
        bargaining.deal_parallel_env(min_items=6, max_items=5)
