import copy

import torch


class EMATeacher:
    """Exponential-moving-average copy of the student (Mean Teacher, Tarvainen & Valpola)."""

    def __init__(self, student, decay=0.999):
        self.model = copy.deepcopy(student)
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, student, step):
        d = min(self.decay, (step + 1) / (step + 10))
        for t_p, s_p in zip(self.model.parameters(), student.parameters()):
            t_p.mul_(d).add_(s_p.detach(), alpha=1 - d)
        for t_b, s_b in zip(self.model.buffers(), student.buffers()):
            t_b.copy_(s_b)

    def __call__(self, x):
        return self.model(x)
