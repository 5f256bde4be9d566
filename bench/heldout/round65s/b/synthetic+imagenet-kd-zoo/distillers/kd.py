import torch
import torch.nn.functional as F

from .base import BaseDistiller


def kd_loss(logits_student, logits_teacher, temperature):
    log_p = F.log_softmax(logits_student / temperature, dim=1)
    q = F.softmax(logits_teacher / temperature, dim=1)
    return F.kl_div(log_p, q, reduction="batchmean") * temperature ** 2


class KD(BaseDistiller):
    def __init__(self, student, teacher, temperature=1.0, ce_weight=0.5, kd_weight=0.5):
        super().__init__(student, teacher)
        self.temperature = temperature
        self.ce_weight = ce_weight
        self.kd_weight = kd_weight

    def forward_train(self, image, target):
        logits_student = self.student(image)
        with torch.no_grad():
            logits_teacher = self.teacher(image)
        loss_ce = self.ce_weight * F.cross_entropy(logits_student, target)
        loss_kd = self.kd_weight * kd_loss(logits_student, logits_teacher, self.temperature)
        return logits_student, {"loss_ce": loss_ce, "loss_kd": loss_kd}
