"""Same distillation with teacher and student kept as separate models."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from data import get_loaders
from nets import make_student, make_teacher


def kd_loss(s_logits, t_logits, y, T=4.0, alpha=0.7):
    soft = F.kl_div(F.log_softmax(s_logits / T, 1), F.softmax(t_logits / T, 1), reduction="batchmean")
    return alpha * soft * T * T + (1 - alpha) * F.cross_entropy(s_logits, y)


def run(teacher_ckpt, epochs=60, device="cuda"):
    train_loader, _ = get_loaders("data/CUB_200_2011", batch_size=64)
    teacher = make_teacher(ckpt=teacher_ckpt).to(device)
    teacher.requires_grad_(False)
    teacher.eval()
    student = make_student().to(device)
    opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(epochs):
        student.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            with torch.no_grad():
                t_logits = teacher(x)
            loss = kd_loss(student(x), t_logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    torch.save(student.state_dict(), "student_kd.pt")
