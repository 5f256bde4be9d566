import torch
import torch.nn as nn
import torch.nn.functional as F


class Distiller(nn.Module):
    """Bundles a student with a pre-trained teacher and computes the KD objective."""

    def __init__(self, student, teacher, temperature=4.0, alpha=0.9):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.T = temperature
        self.alpha = alpha
        for p in self.teacher.parameters():
            p.requires_grad = False

    def learnable_parameters(self):
        return [p for p in self.student.parameters() if p.requires_grad]

    def forward(self, images, targets=None):
        logits_s = self.student(images)
        if targets is None:
            return logits_s
        with torch.no_grad():
            logits_t = self.teacher(images)
        ce = F.cross_entropy(logits_s, targets)
        kl = F.kl_div(
            F.log_softmax(logits_s / self.T, dim=1),
            F.softmax(logits_t / self.T, dim=1),
            reduction="batchmean",
        ) * self.T ** 2
        return logits_s, (1.0 - self.alpha) * ce + self.alpha * kl
