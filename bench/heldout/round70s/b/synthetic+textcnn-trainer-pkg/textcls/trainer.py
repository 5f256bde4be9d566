import logging

import torch
import torch.nn.functional as F
from torch.nn.utils import clip_grad_norm_

log = logging.getLogger(__name__)


class Trainer:
    def __init__(self, model, optimizer, train_iter, valid_iter, device, max_grad_norm=3.0):
        self.model = model
        self.optimizer = optimizer
        self.train_iter = train_iter
        self.valid_iter = valid_iter
        self.device = device
        self.max_grad_norm = max_grad_norm
        self.step = 0

    def train_epoch(self):
        self.model.train()
        for tokens, labels in self.train_iter:
            tokens, labels = tokens.to(self.device), labels.to(self.device)
            probs = self.model(tokens)
            loss = F.cross_entropy(probs, labels)
            self.optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
            self.optimizer.step()
            self.step += 1
            if self.step % 100 == 0:
                log.info("step %d loss %.4f", self.step, loss.item())

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        tot_loss, correct, n = 0.0, 0, 0
        for tokens, labels in self.valid_iter:
            tokens, labels = tokens.to(self.device), labels.to(self.device)
            probs = self.model(tokens)
            tot_loss += F.nll_loss(torch.log(probs + 1e-9), labels, reduction="sum").item()
            correct += (probs.argmax(-1) == labels).sum().item()
            n += labels.size(0)
        return tot_loss / n, correct / n

    def fit(self, epochs):
        best = 0.0
        for ep in range(epochs):
            self.train_epoch()
            val_loss, val_acc = self.evaluate()
            log.info("epoch %d val_loss %.4f val_acc %.4f", ep, val_loss, val_acc)
            if val_acc > best:
                best = val_acc
                torch.save(self.model.state_dict(), "textcnn_best.pt")
        return best
