"""More cases of GL201 (gl201_rnn_without_clipping.py keeps a representative set): run by the tests
with the module's own, see rules/cases/__init__.py."""

from __future__ import annotations

from gradlint.registry import Invalid, Valid

VALID = [
    Valid(  # a non-recurrent module beside a clipped recurrent one: each trains itself
        """
import torch
import lightning as L
from torch import nn

class Tagger(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(32, 64)
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        opt.zero_grad()
        self.manual_backward(self.loss(batch))
        self.clip_gradients(opt, gradient_clip_val=0.5)
        opt.step()

class Classifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(64, 10)
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        opt.zero_grad()
        self.manual_backward(self.loss(batch))
        opt.step()
"""
    ),
]

INVALID = [
    Invalid(  # a wrapper handed its (recurrent) model trains that model
        """
import torch
import lightning as L
from torch import nn

encoder = nn.GRU(16, 32)

class Wrapper(L.LightningModule):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        opt.zero_grad()
        self.manual_backward(self.model(batch).sum())
        opt.step()
""",
        line=18,
    ),
]
