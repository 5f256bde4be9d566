"""More cases of GL206 (gl206_missing_zero_grad.py keeps a representative set): run by the tests
with the module's own, see rules/cases/__init__.py."""

from __future__ import annotations

from gradlint.registry import Invalid, Valid

VALID = [
    # a helper that owns backward and step but not the iteration (timm's loss
    # scalers): clearing is its caller's job, and the caller is not in this file
    Valid(
        """
class NativeScaler:
    def __call__(self, loss, optimizer):
        self._scaler.scale(loss).backward()
        self._scaler.step(optimizer)
        self._scaler.update()
"""
    ),
    Valid(  # a helper of another module that says it clears the gradients
        """
from utils import reset_grads
for x, y in loader:
    reset_grads(optimizer)
    loss_fn(model(x), y).backward()
    optimizer.step()
"""
    ),
    Valid(  # one model, two optimisers over parts of it: clearing the model clears both
        """
enc_opt = torch.optim.Adam(model.encoder.parameters())
dec_opt = torch.optim.Adam(model.decoder.parameters())
for x in loader:
    model.zero_grad()
    loss_fn(model(x), x).backward()
    enc_opt.step()
    dec_opt.step()
"""
    ),
    Valid(  # WGAN: the critic trains in an inner loop, the generator is cleared after it
        """
optimizerD = torch.optim.Adam(netD.parameters())
optimizerG = torch.optim.Adam(netG.parameters())
for data in loader:
    for _ in range(n_critic):
        netD.zero_grad()
        critic_loss(netD, netG, data).backward()
        optimizerD.step()
    optimizerG.zero_grad()
    (-netD(netG(noise)).mean()).backward()
    optimizerG.step()
"""
    ),
    Valid(  # optimisers passed in: each cleared by name
        """
def train(gen, critic, loader, opt_g, opt_c):
    for real in loader:
        opt_c.zero_grad()
        critic_loss(critic, gen, real).backward()
        opt_c.step()
        opt_g.zero_grad()
        (-critic(gen(noise)).mean()).backward()
        opt_g.step()
"""
    ),
    Valid(  # optimisers passed in, over parts of one model: clearing the model may clear both
        """
def train(model, loader, enc_opt, dec_opt):
    for x in loader:
        model.zero_grad()
        loss_fn(model(x), x).backward()
        enc_opt.step()
        dec_opt.step()
"""
    ),
    Valid(  # MXNet Gluon (d2l): gradients are overwritten, not accumulated; not PyTorch
        """
from mxnet import autograd, gluon
for batch in loader:
    with autograd.record():
        loss = model.training_step(batch)
    loss.backward()
    optim.step(1)
"""
    ),
    Valid(  # distributed autograd: each context holds its own gradients, none in .grad
        """
import torch.distributed.autograd as dist_autograd
from torch.distributed.optim import DistributedOptimizer
opt = DistributedOptimizer(torch.optim.SGD, model.parameter_rrefs(), lr=0.05)
for inputs, targets in loader:
    with dist_autograd.context() as context_id:
        loss = criterion(model(inputs), targets)
        dist_autograd.backward(context_id, [loss])
        opt.step(context_id)
"""
    ),
    Valid(  # a clearing function of another module, given the parameters, inside a helper
        """
from .fp16 import zero_grad
class Trainer:
    def forward_backward(self, batch):
        zero_grad(self.params)
        self.model(batch).mean().backward()

    def run(self):
        for batch in self.loader:
            self.forward_backward(batch)
            self.opt.step()
"""
    ),
    Valid(  # a clear bound with functools.partial
        """
import functools
clear = functools.partial(optimizer.zero_grad, set_to_none=True)
for batch in loader:
    clear()
    loss = model(batch).mean()
    loss.backward()
    optimizer.step()
"""
    ),
]

INVALID = [
    Invalid(
        """
class LitModel(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        loss = self.model(batch).loss
        self.manual_backward(loss)
        opt.step()
""",
        line=7,
    ),
    Invalid(  # WGAN: the critic's inner loop clears netD only; the generator's gradients pile up
        """
optimizerD = torch.optim.Adam(netD.parameters())
optimizerG = torch.optim.Adam(netG.parameters())
for data in loader:
    for _ in range(n_critic):
        netD.zero_grad()
        critic_loss(netD, netG, data).backward()
        optimizerD.step()
    (-netD(netG(noise)).mean()).backward()
    optimizerG.step()
""",
        line=10,
    ),
    Invalid(  # optimisers passed in: opt_g is never cleared
        """
def train(gen, critic, loader, opt_g, opt_c):
    for real in loader:
        opt_c.zero_grad()
        critic_loss(critic, gen, real).backward()
        opt_c.step()
        (-critic(gen(noise)).mean()).backward()
        opt_g.step()
""",
        line=8,
    ),
    Invalid(  # step(closure=None) is handed no closure: clear in the loop
        """
for x, y in loader:
    loss_fn(model(x), y).backward()
    optimizer.step(closure=None)
""",
        line=2,
        fixed="""
for x, y in loader:
    loss_fn(model(x), y).backward()
    optimizer.step(closure=None)
    optimizer.zero_grad()
""",
    ),
    Invalid(  # LBFGS: a clear outside the closure runs once per step(), not once per evaluation
        """
optimizer = torch.optim.LBFGS(model.parameters())
for epoch in range(50):
    optimizer.zero_grad()
    def closure():
        return loss_fn(model(X), Y).backward()
    optimizer.step(closure)
""",
        line=5,
        fixed="""
optimizer = torch.optim.LBFGS(model.parameters())
for epoch in range(50):
    optimizer.zero_grad()
    def closure():
        optimizer.zero_grad()
        return loss_fn(model(X), Y).backward()
    optimizer.step(closure)
""",
    ),
]
