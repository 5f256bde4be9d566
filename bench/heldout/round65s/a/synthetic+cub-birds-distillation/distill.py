"""Logit distillation, teacher and student bundled in one module."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from data import get_loaders
from nets import make_student, make_teacher


class DistillWrapper(nn.Module):
    def __init__(self, student, teacher, T=4.0, alpha=0.7):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad = False
        self.T = T
        self.alpha = alpha

    def forward(self, x, y):
        s_logits = self.student(x)
        with torch.no_grad():
            t_logits = self.teacher(x)
        kd = F.kl_div(
            F.log_softmax(s_logits / self.T, dim=1),
            F.softmax(t_logits / self.T, dim=1),
            reduction="batchmean",
        ) * self.T ** 2
        ce = F.cross_entropy(s_logits, y)
        return self.alpha * kd + (1 - self.alpha) * ce, s_logits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher-ckpt", required=True)
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args()
    device = "cuda"
    train_loader, val_loader = get_loaders("data/CUB_200_2011", batch_size=64)
    wrapper = DistillWrapper(make_student(), make_teacher(ckpt=args.teacher_ckpt)).to(device)
    opt = torch.optim.SGD(wrapper.student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    for epoch in range(args.epochs):
        wrapper.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            loss, _ = wrapper(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        wrapper.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in val_loader:
                pred = wrapper.student(x.to(device)).argmax(1)
                correct += (pred.cpu() == y).sum().item()
                total += y.numel()
        print(f"epoch {epoch}: val acc {correct / total:.4f}")


if __name__ == "__main__":
    main()
