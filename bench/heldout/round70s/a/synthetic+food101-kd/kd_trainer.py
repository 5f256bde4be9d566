import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class KDLoss(nn.Module):
    """Hinton distillation: KL between softened distributions + hard-label CE."""

    def __init__(self, T=4.0, alpha=0.7):
        super().__init__()
        self.T = T
        self.alpha = alpha

    def forward(self, student_logits, teacher_logits, targets):
        soft = F.kl_div(F.log_softmax(student_logits / self.T, dim=1),
                        F.softmax(teacher_logits / self.T, dim=1),
                        reduction="batchmean") * (self.T ** 2)
        hard = F.cross_entropy(student_logits, targets)
        return self.alpha * soft + (1.0 - self.alpha) * hard


class DistillTrainer:
    def __init__(self, student, teacher, optimizer, device, T=4.0, alpha=0.7):
        self.student = student.to(device)
        self.teacher = teacher.to(device)
        for p in self.teacher.parameters():
            p.requires_grad = False
        self.teacher.eval()
        self.optimizer = optimizer
        self.criterion = KDLoss(T, alpha)
        self.device = device

    def train_epoch(self, loader):
        self.student.train()
        t0, running = time.time(), 0.0
        for x, y in loader:
            x, y = x.to(self.device), y.to(self.device)
            with torch.no_grad():
                t_logits = self.teacher(x)
            s_logits = self.student(x)
            loss = self.criterion(s_logits, t_logits, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            running += loss.item()
        print(f"epoch took {time.time() - t0:.1f}s")
        return running / len(loader)

    @torch.no_grad()
    def evaluate(self, loader):
        self.student.eval()
        hit = n = 0
        for x, y in loader:
            pred = self.student(x.to(self.device)).argmax(1).cpu()
            hit += (pred == y).sum().item()
            n += y.numel()
        return hit / n
