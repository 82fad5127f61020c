"""The training divergence guard: its rule in closed form, its snapshots, and a spike injected into a real run."""

import math

import pytest
import torch

import stylelib.train as train
from stylelib import load_example, save_image
from stylelib.guard import PATIENCE, WARMUP, Guard


def test_a_spike_is_a_non_finite_loss_or_factor_times_the_median_after_warmup():
    g = Guard(4.0, window=50)
    assert not any(g.spiked(100.0 if i == 0 else 1.0 + i / 100) for i in range(WARMUP))  # no judgement yet
    assert WARMUP == 20
    median = (1.10 + 1.11) / 2  # of 1.01 ... 1.19 and 100; their mean is 6.045
    assert g.spiked(4 * median + 1e-6) and not g.spiked(4 * median - 1e-6)  # 4 x the median
    assert g.spiked(math.nan) and g.spiked(math.inf)
    assert len(g.history) == WARMUP + 1  # spikes never join the history; the healthy 4.42 did
    g = Guard(4.0, window=5, history=[1.0] * 30)
    assert g.history == [1.0] * 5  # only the last window is kept
    g = Guard(4.0, history=[1.0] * 30)
    # one odd batch is skipped; PATIENCE spikes in a row call for a step back, and the count starts again
    assert [g.judge(x) for x in [9.0, 1.0] + [9.0] * PATIENCE + [9.0]] == \
        ["skip", "ok"] + ["skip"] * (PATIENCE - 1) + ["rollback", "skip"]


def test_restore_loads_the_older_of_two_snapshots_weights_and_optimiser():
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)

    def step():
        opt.zero_grad()
        net(torch.randn(4, 3)).pow(2).sum().backward()
        opt.step()

    g = Guard(4.0)
    with pytest.raises(FloatingPointError, match="before the first snapshot"):
        g.restore(net, opt)
    step()
    g.snapshot(1, net, opt)
    older = [p.detach().clone() for p in net.parameters()]
    older_moment = opt.state[net.weight]["exp_avg"].clone()
    step()
    g.snapshot(2, net, opt)
    step()
    for _ in range(2):  # restoring twice: the snapshot itself must not have trained on in between
        assert g.restore(net, opt) == 1
        assert all(torch.equal(a, b) for a, b in zip(older, net.parameters()))
        assert torch.equal(opt.state[net.weight]["exp_avg"], older_moment) and opt.state[net.weight]["step"] == 1
        assert [s[0] for s in g.snapshots] == [1]  # the newer snapshot is dropped
        step()
        step()


def test_restore_brings_back_the_history_of_its_snapshot():
    g = Guard(4.0, history=[10.0] * 30)  # the untrained network's losses
    net = torch.nn.Linear(1, 1)
    opt = torch.optim.Adam(net.parameters())
    g.snapshot(0, net, opt)
    g.history = [1.0] * 30  # trained on, the losses fell tenfold
    g.restore(net, opt)
    assert g.judge(10.0) == "ok"  # judged against its own time's losses, not the later, lower ones


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name in ("grace-hopper", "astronaut", "kingfisher"):
        save_image(load_example(name, size=40), folder / f"{name}.png")
    return folder


def test_injected_spikes_are_skipped_then_rolled_back_to_the_older_snapshot_at_half_the_lr(photos, tmp_path,
                                                                                          monkeypatch):
    terms, calls = train.photo_terms, []
    spikes = {22} | set(range(26, 26 + PATIENCE))  # one odd batch, then weights that went wrong

    def spiking(*args):  # those steps' losses jump a hundredfold
        calls.append(1)
        out = terms(*args)
        return {k: v * 100 for k, v in out.items()} if len(calls) in spikes else out

    monkeypatch.setattr(train, "photo_terms", spiking)
    cfg = train.TrainConfig(style="starry-night", data=str(photos), width=8, image_size=32, style_size=64, steps=32,
                            checkpoint_every=10, preview_every=1000, precision="fp32")
    its = list(train.train_iter(cfg, tmp_path / "m.safetensors"))
    assert [it.step for it in its] == [s for s in range(1, 33) if s not in spikes]  # no spike was applied
    last = 26 + PATIENCE - 1
    assert its[-1].info["rollbacks"] == [[last, 10]]  # step 10, not 20: the newer snapshot may hold the damage
    assert its[-1].info["skipped"] == [22] + list(range(26, last))
    state = torch.load(tmp_path / "m.ckpt", weights_only=True)
    assert state["lr_scale"] == 0.5 and state["rollbacks"] == [[last, 10]]
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(cfg.lr / 2)  # halved (constant schedule)
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    # without the guard the same spikes are applied like any other step
    calls.clear()
    cfg.guard = 0.0
    its = list(train.train_iter(cfg, tmp_path / "n.safetensors"))
    assert len(its) == 32 and its[-1].info["rollbacks"] == its[-1].info["skipped"] == []


def test_a_skipped_step_leaves_the_weights_alone(photos, tmp_path, monkeypatch):
    terms, calls, seen = train.photo_terms, [], []
    net_class = train.TransformerNet

    def spiking(vgg, out, *args):  # step 22's loss jumps; record the weights each step starts from
        calls.append(1)
        seen.append([p.detach().clone() for p in nets[0].parameters()])
        got = terms(vgg, out, *args)
        return {k: v * 100 for k, v in got.items()} if len(calls) == 22 else got

    nets = []
    monkeypatch.setattr(train, "TransformerNet", lambda *a, **k: nets.append(net_class(*a, **k)) or nets[-1])
    monkeypatch.setattr(train, "photo_terms", spiking)
    cfg = train.TrainConfig(style="starry-night", data=str(photos), width=8, image_size=32, style_size=64, steps=24,
                            checkpoint_every=10, preview_every=1000, precision="fp32")
    its = list(train.train_iter(cfg, tmp_path / "s.safetensors"))
    assert its[-1].info["skipped"] == [22] and its[-1].info["rollbacks"] == []
    assert all(torch.equal(a, b) for a, b in zip(seen[21], seen[22]))  # step 23 starts where step 22 did
    assert not all(torch.equal(a, b) for a, b in zip(seen[20], seen[21]))  # an applied step moves them


def test_guard_below_one_is_refused_and_older_checkpoints_resume(photos, tmp_path):
    with pytest.raises(ValueError, match="guard must be 0 \\(off\\) or at least 1"):
        train.TrainConfig(style="starry-night", data=str(photos), guard=0.5)
    cfg = train.TrainConfig(style="starry-night", data=str(photos), width=8, image_size=32, style_size=64, steps=4,
                            checkpoint_every=2, preview_every=1000, precision="fp32")
    out = tmp_path / "r.safetensors"
    list(train.train_iter(cfg, out))
    ckpt = tmp_path / "r.ckpt"
    state = torch.load(ckpt, weights_only=True)
    for key in ("lr_scale", "rollbacks", "skipped", "history"):  # a checkpoint written before the guard existed
        state.pop(key)
    del state["config"]["guard"]
    torch.save(state, ckpt)
    cfg.steps = 6
    its = list(train.train_iter(cfg, out, resume=True))
    assert [it.step for it in its] == [5, 6]
