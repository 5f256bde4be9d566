import torch
import torch.nn as nn
import torch.nn.functional as F


class DistillKL(nn.Module):
    """Hinton KD loss: KL(student || teacher) on temperature-softened distributions."""

    def __init__(self, T=4.0):
        super().__init__()
        self.T = T
        self.kl = nn.KLDivLoss(reduction="batchmean")

    def forward(self, student_logits, teacher_logits):
        log_p_s = F.log_softmax(student_logits / self.T, dim=1)
        p_t = F.softmax(teacher_logits / self.T, dim=1)
        return self.kl(log_p_s, p_t) * (self.T ** 2)


def load_teacher(arch_fn, ckpt_path, num_classes=100):
    teacher = arch_fn(num_classes=num_classes)
    state = torch.load(ckpt_path, map_location="cpu")
    teacher.load_state_dict(state.get("model", state))
    for p in teacher.parameters():
        p.requires_grad = False
    return teacher
