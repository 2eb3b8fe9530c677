"""How the loss terms of a step become the total the optimiser minimises.

The study set λ_MAE and λ_Perceptual by hand, phase by phase (section 5), and names
that its main reproducibility limitation; section 7.2 proposes three automatic
rules, written here from their papers. Every rule is one small module behind one
interface the training loop calls:

- `Manual`: the params' weights, ramped as `LossConfig.weights_at` says (the study's).
- `Uncertainty` (Kendall, Gal and Cipolla, CVPR 2018): one learned log-variance
  s_i = log σ_i² per term, L = Σ_i exp(-s_i)·L_i + s_i, trained with the network
  (the common form of their regression loss without the constant ½; at its optimum
  exp(-s_i) = 1/L_i, so a term 100 times larger gets 1/100 of the weight).
- `GradNorm` (Chen et al., ICML 2018): weights w_i updated every step so that the
  gradient norms G_i = ||∇_W w_i·L_i|| at the last shared layer W move towards
  Ḡ·r_i^α, with r_i = (L_i/L_i(0)) / mean_j(L_j/L_j(0)) and α = 1.5; the gradient
  of Σ_i |G_i - Ḡ·r_i^α| (targets held constant) steps the weights by Adam (lr 0.025,
  the usual choice of implementations: a plain gradient step of that loss is as large
  as the gradient norms and swings the weights between their bounds), and they are then
  renormalised to sum to the number of terms.
- `SoftAdapt` (Heydari, Thompson and Mehmood, 2019), loss-weighted variant: after
  each epoch, α_i = f_i·exp(β(s_i - max s)) / Σ_j f_j·exp(β(s_j - max s)), where s_i
  is the change of term i's epoch mean since the previous epoch and f_i that mean,
  β = 0.1; the weights are α scaled to sum to the number of terms (equal in epoch 1).

`backward` computes each term's gradient with respect to the network's output once,
so GradNorm's gradient norms at W cost two short backward passes through the last
layer only, not a second pass through the VGG of the perceptual loss.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .schema import LossConfig


class Weighting(nn.Module):
    """Base: fixed weights per epoch; subclasses learn or adapt them."""

    def __init__(self, terms: list[str]) -> None:
        super().__init__()
        self.terms = terms

    def weights(self, epoch: int) -> dict[str, float]:
        """The weights in force at `epoch`, by term."""
        raise NotImplementedError

    def backward(self, losses: dict[str, Tensor], pred: Tensor, epoch: int,
                 scale: float = 1.0) -> Tensor:
        """Back-propagate the weighted total of `losses` (unweighted scalar terms computed
        from `pred`) into the network, multiplied by `scale` (a GradScaler's), and return
        the (unscaled, detached) total."""
        w = self.weights(epoch)
        total = sum(w[name] * value for name, value in losses.items())  # terms of weight 0 absent
        (total * scale).backward()
        return total.detach()

    def end_epoch(self, mean_losses: dict[str, float]) -> None:
        """Called after each epoch with the epoch's mean unweighted terms."""


class Manual(Weighting):
    """The params' hand-set weights (`LossConfig.weights_at`), as the study trained."""

    def __init__(self, loss: LossConfig) -> None:
        terms = [t for t in ("mse", "mae", "perceptual")
                 if getattr(loss, t) or (loss.ramp_to is not None and getattr(loss.ramp_to, t))]
        super().__init__(terms)
        self.loss = loss

    def weights(self, epoch: int) -> dict[str, float]:
        w = self.loss.weights_at(epoch)
        return {t: getattr(w, t) for t in self.terms}


class Uncertainty(Weighting):
    """L = Σ_i exp(-s_i)·L_i + s_i with learned s_i = log σ_i², starting at 0 (weights 1)."""

    def __init__(self, terms: list[str]) -> None:
        super().__init__(terms)
        self.log_var = nn.Parameter(torch.zeros(len(terms)))

    def weights(self, epoch: int) -> dict[str, float]:
        return dict(zip(self.terms, torch.exp(-self.log_var.detach()).tolist()))

    def backward(self, losses: dict[str, Tensor], pred: Tensor, epoch: int,
                 scale: float = 1.0) -> Tensor:
        stacked = torch.stack([losses[t].float() for t in self.terms])
        total = (torch.exp(-self.log_var) * stacked + self.log_var).sum()
        (total * scale).backward()
        return total.detach()


class GradNorm(Weighting):
    """Weights w_i (sum = number of terms) stepped each batch towards equal training rates."""

    BETAS, EPS = (0.9, 0.999), 1e-8  # Adam's, for the weights' own steps

    def __init__(self, terms: list[str], last_layer: nn.Parameter, alpha: float = 1.5,
                 lr: float = 0.025) -> None:
        super().__init__(terms)
        self.last_layer = [last_layer]  # a list: not registered (it belongs to the network)
        self.alpha, self.lr = alpha, lr
        self.register_buffer("w", torch.ones(len(terms)))
        self.register_buffer("initial", torch.zeros(len(terms)))  # L_i(0), set at the first step
        self.register_buffer("moments", torch.zeros(2, len(terms)))  # Adam's m and v
        self.register_buffer("steps", torch.zeros(()))

    def _adam(self, grad: Tensor) -> Tensor:
        """Adam's step for the weights (same update as torch.optim.Adam, no weight decay)."""
        (b1, b2), m, v = self.BETAS, self.moments[0], self.moments[1]
        self.steps += 1
        m.mul_(b1).add_(grad, alpha=1 - b1)
        v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat, v_hat = m / (1 - b1**self.steps), v / (1 - b2**self.steps)
        return self.lr * m_hat / (v_hat.sqrt() + self.EPS)

    def weights(self, epoch: int) -> dict[str, float]:
        return dict(zip(self.terms, self.w.tolist()))

    def backward(self, losses: dict[str, Tensor], pred: Tensor, epoch: int,
                 scale: float = 1.0) -> Tensor:
        layer = self.last_layer[0]
        values = torch.stack([losses[t].detach().float() for t in self.terms])  # (T,)
        if not bool(self.initial.any()):
            self.initial.copy_(values)
        # each term's gradient at the output (through the VGG once), then its norm at W
        out_grads = [torch.autograd.grad(losses[t] * scale, pred, retain_graph=True)[0]
                     for t in self.terms]
        norms = torch.stack([torch.autograd.grad(pred, layer, g, retain_graph=True)[0].float().norm()
                             for g in out_grads]) / scale  # ||∇_W L_i||, (T,)
        grad_norms = self.w * norms  # G_i
        ratio = values / self.initial.clamp(min=1e-12)
        target = grad_norms.mean() * (ratio / ratio.mean()) ** self.alpha  # held constant
        # d/dw_i Σ_j |G_j - target_j| with G_i = w_i·norm_i and the target constant
        grad = torch.sign(grad_norms - target) * norms
        w = (self.w - self._adam(grad.to(self.w.device))).clamp(min=1e-3)
        self.w.copy_(w * len(self.terms) / w.sum())
        pred.backward(sum(wi * g for wi, g in zip(self.w.tolist(), out_grads)))
        return sum(wi * losses[t].detach() for wi, t in zip(self.w.tolist(), self.terms))


class SoftAdapt(Weighting):
    """Loss-weighted SoftAdapt, updated once per epoch from the terms' epoch means."""

    def __init__(self, terms: list[str], beta: float = 0.1) -> None:
        super().__init__(terms)
        self.beta = beta
        self.register_buffer("w", torch.ones(len(terms)))
        self.register_buffer("previous", torch.full((len(terms),), float("nan")))

    def weights(self, epoch: int) -> dict[str, float]:
        return dict(zip(self.terms, self.w.tolist()))

    def end_epoch(self, mean_losses: dict[str, float]) -> None:
        means = torch.tensor([mean_losses[t] for t in self.terms], dtype=torch.float32)
        if not bool(torch.isnan(self.previous).any()):
            slopes = means - self.previous
            alpha = means * torch.exp(self.beta * (slopes - slopes.max()))
            self.w.copy_(len(self.terms) * alpha / alpha.sum())
        self.previous.copy_(means)


def build_weighting(loss: LossConfig, model: nn.Module) -> Weighting:
    """The weighting `loss.weighting` names, over the terms the loss config switches on."""
    manual = Manual(loss)
    if loss.weighting == "manual":
        return manual
    if loss.weighting == "uncertainty":
        return Uncertainty(manual.terms)
    if loss.weighting == "gradnorm":
        return GradNorm(manual.terms, last_layer(model), loss.gradnorm_alpha, loss.weight_lr)
    return SoftAdapt(manual.terms, loss.softadapt_beta)


def last_layer(model: nn.Module) -> nn.Parameter:
    """The weight of the network's last layer (GradNorm's W): the last parameter with two or
    more dimensions in registration order, i.e. the output layer."""
    return [p for p in model.parameters() if p.dim() >= 2][-1]
