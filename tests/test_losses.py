"""Closed-form values and float64 parity of the seed's equations."""

import pytest
import torch

from stylelib.losses import content_loss, gram_matrix, style_loss, total_loss, tv_loss


def seed_content(F, P):
    """E_c = 1/2 Σ_ij (F_ij - P_ij)², transcribed with loops (one image)."""
    N, M = F.shape
    return 0.5 * sum((F[i, j] - P[i, j]) ** 2 for i in range(N) for j in range(M))


def seed_gram(F):
    """G_ij = Σ_k F_ik F_jk, transcribed with loops."""
    N, M = F.shape
    return torch.tensor([[sum(F[i, k] * F[j, k] for k in range(M)) for j in range(N)] for i in range(N)],
                        dtype=F.dtype)


def seed_style(F, A):
    """E_s = 1/(4 N² M²) Σ_ij (G_ij - A_ij)², transcribed with loops."""
    N, M = F.shape
    G = seed_gram(F)
    return sum((G[i, j] - A[i, j]) ** 2 for i in range(N) for j in range(N)) / (4 * N**2 * M**2)


def test_gram_of_ones_is_n_squared():
    n = 5
    assert gram_matrix(torch.ones(1, 1, n, n)).item() == n**2


def test_gram_closed_form_two_channels():
    f = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # (1, 2, 1, 2)
    expected = torch.tensor([[[1 + 4, 3 + 8], [3 + 8, 9 + 16]]], dtype=torch.float32)
    torch.testing.assert_close(gram_matrix(f), expected)


def test_content_loss_closed_form():
    p = torch.zeros(2, 3, 4, 5)
    assert content_loss(p + 2, p).tolist() == [0.5 * 4 * 60] * 2  # ½ Σ 2² over N·M = 60 entries
    assert content_loss(p, p).tolist() == [0.0, 0.0]


def test_style_loss_closed_form():
    # F = a everywhere, A = 0: G = a² M, so E_s = N² (a² M)² / (4 N² M²) = a⁴ / 4.
    a, n, h, w = 3.0, 4, 2, 3
    f = torch.full((1, n, h, w), a)
    torch.testing.assert_close(style_loss(f, torch.zeros(1, n, n)), torch.tensor([a**4 / 4]))
    torch.testing.assert_close(style_loss(f, gram_matrix(f)), torch.tensor([0.0]))


def test_tv_closed_form():
    assert tv_loss(torch.full((1, 3, 6, 7), 0.3)).item() == 0.0
    h, w = 6, 7
    checker = ((torch.arange(h)[:, None] + torch.arange(w)[None, :]) % 2).float()[None, None]
    # every horizontal and vertical neighbour pair differs by exactly 1
    assert tv_loss(checker).item() == h * (w - 1) + (h - 1) * w


def test_total_loss_closed_form():
    e_c, e_s = torch.tensor([2.0]), [torch.tensor([1.0]), torch.tensor([3.0])]
    assert total_loss(e_c, e_s, alpha=10, beta=4).item() == 10 * 2 + 4 * (0.5 * 1 + 0.5 * 3)
    assert total_loss(e_c, e_s, alpha=1, beta=1, layer_weights=[1, 0]).item() == 3
    with pytest.raises(ValueError, match="2 style layers but 1"):
        total_loss(e_c, e_s, alpha=1, beta=1, layer_weights=[1])


def test_float64_parity_with_the_seed(gen):
    F = torch.randn(1, 3, 2, 3, dtype=torch.float64, generator=gen)
    P = torch.randn(1, 3, 2, 3, dtype=torch.float64, generator=gen)
    S = torch.randn(1, 3, 3, 2, dtype=torch.float64, generator=gen)
    f, p, s = F[0].flatten(1), P[0].flatten(1), S[0].flatten(1)  # (N, M)
    torch.testing.assert_close(gram_matrix(F)[0], seed_gram(f), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(content_loss(F, P)[0], torch.tensor(seed_content(f, p).item(), dtype=torch.float64))
    A = seed_gram(s)
    torch.testing.assert_close(style_loss(F, A[None])[0], torch.tensor(seed_style(f, A).item(), dtype=torch.float64))


def test_losses_are_batched(gen):
    F = torch.randn(3, 4, 5, 6, generator=gen)
    P = torch.randn(3, 4, 5, 6, generator=gen)
    A = gram_matrix(torch.randn(1, 4, 5, 6, generator=gen))
    for fn, args in [(content_loss, (P,)), (style_loss, (A,)), (tv_loss, ())]:
        batched = fn(F, *args)
        assert batched.shape == (3,)
        singles = torch.cat([fn(F[i : i + 1], *[a[i : i + 1] if a.shape[0] == 3 else a for a in args]) for i in range(3)])
        torch.testing.assert_close(batched, singles)
    assert gram_matrix(F).shape == (3, 4, 4)


def test_losses_do_not_modify_inputs(gen):
    F = torch.randn(1, 2, 3, 3, generator=gen)
    before = F.clone()
    content_loss(F, F * 2), style_loss(F, torch.zeros(1, 2, 2)), tv_loss(F), gram_matrix(F)
    assert torch.equal(F, before)
