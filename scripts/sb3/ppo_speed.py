"""PPO training throughput in Python on the corner-maze task, for comparison with
`cargo run --release -p cruxlab-learn --example speed -- [cnn|cnn-full|mlp] STEPS THREADS`.

Two trainers, same network and hyperparameters as `crates/learn` (see README.md):

- `sb3`: Stable-Baselines3's `PPO` on a `DummyVecEnv` of `maze_env.MazeEnv`, with a features
  extractor that is our trunk and empty `net_arch` (so the policy and value heads are single
  linear layers on the shared trunk, as in `crates/learn/src/net.rs`).
- `torch`: a minimal CleanRL-style PPO loop in plain PyTorch on the numpy `VecMazeEnv` (the
  best case for a PyTorch loop: no per-env Python objects, no buffer classes).

Printed per trainer, with the Rust example's definitions: env steps/s end to end (all training
iterations, wall clock), rollout-phase env steps/s (acting + stepping the envs, including the
bootstrap forward pass), gradient updates/s over the update phase (one update = one minibatch
forward, backward, clip and Adam step) and the update phase's GFLOP/s (forward + backward counted
as 3 x the forward multiply-adds, times 2).

    python ppo_speed.py --net cnn --steps 32768 --threads 1
    python ppo_speed.py --net mlp --steps 65536 --threads 2 --impl torch
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from maze_env import PLANES, MazeEnv, VecMazeEnv

ACTIONS = 4


@dataclass
class Setup:
    """Network and PPO settings of one of the Rust speed example's two configurations."""

    net: str
    size: int
    num_envs: int
    num_steps: int
    num_minibatches: int
    update_epochs: int
    learning_rate: float = 1e-3
    gamma: float = 0.95
    gae_lambda: float = 0.95
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    adam_eps: float = 1e-5

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.num_minibatches


def setup_for(net: str) -> Setup:
    if net == "cnn":  # PpoConfig::default(), NetConfig::cnn(), 9x9 mazes
        return Setup("cnn", 9, num_envs=32, num_steps=64, num_minibatches=4, update_epochs=3)
    if net == "cnn-full":  # the learned experiments' full PPO settings (TrainSetup::full) on the same CNN
        return Setup("cnn", 9, num_envs=16, num_steps=32, num_minibatches=8, update_epochs=4)
    if net == "mlp":  # the example's quick config, NetConfig::mlp(), 7x7 mazes
        return Setup("mlp", 7, num_envs=16, num_steps=32, num_minibatches=8, update_epochs=4)
    raise ValueError(f"unknown net {net!r}")


# ---------------------------------------------------------------------------------------------
# The network


def trunk(net: str, size: int) -> tuple[nn.Module, int]:
    """The shared trunk of `NetConfig::cnn()` / `NetConfig::mlp()` on `[B, size, size, 3]` input,
    and its output width."""
    if net == "cnn":
        layers = nn.Sequential(
            ChannelsFirst(),
            nn.Conv2d(PLANES, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(16 * size * size, 36), nn.ReLU(),
        )
        return layers, 36
    layers = nn.Sequential(
        nn.Flatten(),
        nn.Linear(size * size * PLANES, 64), nn.ReLU(),
        nn.Linear(64, 64), nn.ReLU(),
    )
    return layers, 64


class ChannelsFirst(nn.Module):
    """`[B, H, W, C]` (the environments' layout, as in Rust) to `[B, C, H, W]` for `nn.Conv2d`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2)


def macs_per_sample(net: str, size: int) -> int:
    """Forward multiply-adds of one sample, counted as `ActorCritic::macs_per_sample` does."""
    cells = size * size
    if net == "cnn":
        return 9 * PLANES * 16 * cells + 9 * 16 * 16 * cells + 16 * cells * 36 + 36 * ACTIONS + 36
    return cells * PLANES * 64 + 64 * 64 + 64 * ACTIONS + 64


def layer_init(layer: nn.Module, gain: float) -> nn.Module:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class Agent(nn.Module):
    """Actor-critic with a shared trunk, CleanRL's initialisation (orthogonal, gains sqrt(2) /
    0.01 / 1, zero biases)."""

    def __init__(self, net: str, size: int):
        super().__init__()
        self.trunk, width = trunk(net, size)
        for m in self.trunk.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                layer_init(m, np.sqrt(2))
        self.policy = layer_init(nn.Linear(width, ACTIONS), 0.01)
        self.value = layer_init(nn.Linear(width, 1), 1.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.policy(h), self.value(h).squeeze(-1)


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------------------------------------
# Reporting


@dataclass
class Timing:
    wall_secs: float = 0.0
    rollout_secs: float = 0.0
    update_secs: float = 0.0
    env_steps: int = 0
    samples_updated: int = 0
    gradient_steps: int = 0


def report(name: str, s: Setup, t: Timing) -> None:
    macs = macs_per_sample(s.net, s.size)
    out = {
        "impl": name,
        "net": s.net,
        "threads": torch.get_num_threads(),
        "steps_per_s": t.env_steps / t.wall_secs,
        "rollout_steps_per_s": t.env_steps / t.rollout_secs,
        "updates_per_s": t.gradient_steps / t.update_secs,
        "update_gflops": 6.0 * macs * t.samples_updated / t.update_secs / 1e9,
        "rollout_share": t.rollout_secs / t.wall_secs,
        "update_share": t.update_secs / t.wall_secs,
    }
    print(f"{name} {s.net}: {t.env_steps} env steps in {t.wall_secs:.1f} s, "
          f"{torch.get_num_threads()} torch thread(s)")
    print(f"  env steps/s (end to end): {out['steps_per_s']:.0f}")
    print(f"  rollout phase: {out['rollout_steps_per_s']:.0f} env steps/s "
          f"({t.rollout_secs:.1f} s, {100 * out['rollout_share']:.0f}% of wall)")
    print(f"  update phase: {t.update_secs:.1f} s ({100 * out['update_share']:.0f}% of wall)")
    print(f"  gradient updates/s: {out['updates_per_s']:.1f} (minibatch {s.minibatch_size})")
    print(f"  update phase: {out['update_gflops']:.2f} GFLOP/s "
          "(forward + backward counted as 3 x forward)")


# ---------------------------------------------------------------------------------------------
# (a) Stable-Baselines3


def run_sb3(s: Setup, total_steps: int, seed: int) -> Timing:
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
    from stable_baselines3.common.vec_env import DummyVecEnv

    class Trunk(BaseFeaturesExtractor):
        def __init__(self, observation_space: gym.spaces.Box, net: str, size: int):
            layers, width = trunk(net, size)
            super().__init__(observation_space, features_dim=width)
            self.layers = layers

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return self.layers(obs)

    class TimedPPO(PPO):
        """PPO that times its rollout (`collect_rollouts`, which also computes GAE) and update
        (`train`) phases and counts minibatch gradient steps."""

        timing = Timing()

        def collect_rollouts(self, *args, **kwargs):
            t = time.perf_counter()
            result = super().collect_rollouts(*args, **kwargs)
            self.timing.rollout_secs += time.perf_counter() - t
            self.timing.env_steps += self.n_steps * self.n_envs
            return result

        def train(self) -> None:
            t = time.perf_counter()
            super().train()
            self.timing.update_secs += time.perf_counter() - t
            per_epoch = -(-self.n_steps * self.n_envs // self.batch_size)
            self.timing.gradient_steps += self.n_epochs * per_epoch
            self.timing.samples_updated += self.n_epochs * self.n_steps * self.n_envs

    venv = DummyVecEnv([lambda: MazeEnv(s.size) for _ in range(s.num_envs)])
    lr0 = s.learning_rate
    model = TimedPPO(
        "MlpPolicy",
        venv,
        learning_rate=lambda progress_remaining: lr0 * progress_remaining,
        n_steps=s.num_steps,
        batch_size=s.minibatch_size,
        n_epochs=s.update_epochs,
        gamma=s.gamma,
        gae_lambda=s.gae_lambda,
        clip_range=s.clip_coef,
        clip_range_vf=s.clip_coef,
        normalize_advantage=True,
        ent_coef=s.ent_coef,
        vf_coef=s.vf_coef,
        max_grad_norm=s.max_grad_norm,
        policy_kwargs=dict(
            features_extractor_class=Trunk,
            features_extractor_kwargs=dict(net=s.net, size=s.size),
            share_features_extractor=True,
            net_arch=[],
            activation_fn=nn.ReLU,
            optimizer_kwargs=dict(eps=s.adam_eps),
        ),
        device="cpu",
        seed=seed,
        verbose=0,
    )
    print(f"sb3 policy: {num_params(model.policy)} parameters")
    t = time.perf_counter()
    model.learn(total_timesteps=total_steps, progress_bar=False)
    model.timing.wall_secs = time.perf_counter() - t
    return model.timing


# ---------------------------------------------------------------------------------------------
# (b) A CleanRL-style PPO loop


def run_torch(s: Setup, total_steps: int, seed: int) -> Timing:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    envs = VecMazeEnv(s.num_envs, size=s.size, seed=seed)
    agent = Agent(s.net, s.size)
    print(f"torch loop agent: {num_params(agent)} parameters")
    optimizer = torch.optim.Adam(agent.parameters(), lr=s.learning_rate, eps=s.adam_eps)
    n, steps = s.num_envs, s.num_steps
    iterations = total_steps // s.batch_size
    obs = torch.zeros((steps, n) + envs.obs_shape)
    actions = torch.zeros((steps, n), dtype=torch.long)
    logprobs = torch.zeros((steps, n))
    rewards = torch.zeros((steps, n))
    ended = torch.zeros((steps, n))
    values = torch.zeros((steps, n))
    next_obs = torch.from_numpy(envs.obs())
    timing = Timing()
    episodes = successes = 0
    kl_sum = clipfrac_sum = 0.0
    start = time.perf_counter()
    for it in range(iterations):
        optimizer.param_groups[0]["lr"] = (1.0 - it / iterations) * s.learning_rate

        # 1. Rollout.
        t = time.perf_counter()
        episodes = successes = 0
        for step in range(steps):
            obs[step] = next_obs
            with torch.no_grad():
                logits, value = agent(next_obs)
                logp_all = torch.log_softmax(logits, dim=1)
                action = torch.multinomial(logp_all.exp(), 1, generator=gen).squeeze(1)
            actions[step] = action
            logprobs[step] = logp_all.gather(1, action.unsqueeze(1)).squeeze(1)
            values[step] = value
            o, r, term, trunc, _ = envs.step(action.numpy())
            done = term | trunc
            episodes += int(done.sum())
            successes += int(term.sum())
            rewards[step] = torch.from_numpy(r)
            ended[step] = torch.from_numpy(done.astype(np.float32))
            next_obs = torch.from_numpy(o)
        with torch.no_grad():
            next_value = agent(next_obs)[1]
        timing.rollout_secs += time.perf_counter() - t
        timing.env_steps += s.batch_size

        # 2. GAE; an episode that ended at step t (terminated or truncated) is not bootstrapped.
        with torch.no_grad():
            advantages = torch.zeros_like(rewards)
            last = torch.zeros(n)
            for k in reversed(range(steps)):
                nxt = next_value if k + 1 == steps else values[k + 1]
                live = 1.0 - ended[k]
                delta = rewards[k] + s.gamma * nxt * live - values[k]
                last = delta + s.gamma * s.gae_lambda * live * last
                advantages[k] = last
            returns = advantages + values

        # 3. Update.
        t = time.perf_counter()
        b_obs = obs.reshape((-1,) + envs.obs_shape)
        b_actions, b_logprobs = actions.reshape(-1), logprobs.reshape(-1)
        b_adv, b_ret, b_val = advantages.reshape(-1), returns.reshape(-1), values.reshape(-1)
        mb = s.minibatch_size
        kl_sum = clipfrac_sum = 0.0
        for _ in range(s.update_epochs):
            order = torch.randperm(s.batch_size, generator=gen)
            for lo in range(0, s.batch_size - mb + 1, mb):
                idx = order[lo:lo + mb]
                logits, new_value = agent(b_obs[idx])
                logp_all = torch.log_softmax(logits, dim=1)
                new_logp = logp_all.gather(1, b_actions[idx].unsqueeze(1)).squeeze(1)
                entropy = -(logp_all.exp() * logp_all).sum(1)
                log_ratio = new_logp - b_logprobs[idx]
                ratio = log_ratio.exp()
                with torch.no_grad():
                    kl_sum += ((ratio - 1) - log_ratio).mean().item()
                    clipfrac_sum += ((ratio - 1.0).abs() > s.clip_coef).float().mean().item()
                adv = b_adv[idx]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                pg_loss = torch.max(-adv * ratio,
                                    -adv * ratio.clamp(1 - s.clip_coef, 1 + s.clip_coef)).mean()
                v_unclipped = (new_value - b_ret[idx]) ** 2
                v_clipped = b_val[idx] + (new_value - b_val[idx]).clamp(-s.clip_coef, s.clip_coef)
                v_loss = 0.5 * torch.max(v_unclipped, (v_clipped - b_ret[idx]) ** 2).mean()
                loss = pg_loss - s.ent_coef * entropy.mean() + s.vf_coef * v_loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), s.max_grad_norm)
                optimizer.step()
                timing.gradient_steps += 1
                timing.samples_updated += mb
        timing.update_secs += time.perf_counter() - t
    timing.wall_secs = time.perf_counter() - start
    updates = s.update_epochs * s.num_minibatches
    print(f"  last iteration: {episodes} episodes ended"
          + (f", success {successes / episodes:.2f}" if episodes else "")
          + f"; approx_kl {kl_sum / updates:.4f}, clipfrac {clipfrac_sum / updates:.3f}")
    return timing


def gemm_peak(n: int) -> float:
    a, b = torch.ones(n, n), torch.ones(n, n)
    a @ b
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--net", choices=["cnn", "cnn-full", "mlp"], default="cnn")
    p.add_argument("--steps", type=int, default=None,
                   help="env steps per trainer (default: 32768 for the CNNs, 65536 for mlp)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--impl", choices=["sb3", "torch", "both"], default="both")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    s = setup_for(args.net)
    total = args.steps if args.steps is not None else (65536 if args.net == "mlp" else 32768)
    if total < s.batch_size:
        p.error(f"--steps must be at least one batch ({s.batch_size})")
    print(f"torch {torch.__version__}, numpy {np.__version__}, {torch.get_num_threads()} thread(s)")
    for size in (512, 1024):
        print(f"torch gemm {size}x{size}x{size}: {gemm_peak(size):.1f} GFLOP/s (best of 5)")
    print(f"{args.net} ({s.net} network): {s.size}x{s.size} mazes, {s.num_envs} envs x {s.num_steps} steps, "
          f"{s.num_minibatches} minibatches of {s.minibatch_size}, {s.update_epochs} epochs, "
          f"{total // s.batch_size} iterations; {macs_per_sample(s.net, s.size)} multiply-adds "
          "per sample forward")
    if args.impl in ("torch", "both"):
        report("torch-loop", s, run_torch(s, total, args.seed))
    if args.impl in ("sb3", "both"):
        import stable_baselines3
        print(f"stable-baselines3 {stable_baselines3.__version__}")
        report("sb3", s, run_sb3(s, total, args.seed))


if __name__ == "__main__":
    main()
