import torch
import torch.nn as nn
import torch.nn.functional as F


class Distiller(nn.Module):
    """Hinton-style KD. Holds the student and a fixed teacher so that a single
    `.to(device)` / `.train()` handles both."""

    def __init__(self, student, teacher, temperature=4.0, alpha=0.9):
        super().__init__()
        self.student = student
        self.teacher = teacher
        for p in self.teacher.parameters():
            p.requires_grad = False
        self.T = temperature
        self.alpha = alpha
        self.kl = nn.KLDivLoss(reduction="batchmean")
        self.ce = nn.CrossEntropyLoss()

    def forward(self, images, labels):
        logits_s = self.student(images)
        with torch.no_grad():
            logits_t = self.teacher(images)
        soft_t = F.softmax(logits_t / self.T, dim=1)
        log_soft_s = F.log_softmax(logits_s / self.T, dim=1)
        loss_kd = self.kl(log_soft_s, soft_t) * (self.T ** 2)
        loss_ce = self.ce(logits_s, labels)
        loss = self.alpha * loss_kd + (1.0 - self.alpha) * loss_ce
        return loss, logits_s

    def student_parameters(self):
        return self.student.parameters()
