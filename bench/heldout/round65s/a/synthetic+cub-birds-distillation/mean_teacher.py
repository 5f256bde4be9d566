"""Semi-supervised mean teacher: the teacher is an EMA of the student."""
import copy

import torch
import torch.nn.functional as F

from data import get_loaders
from nets import make_student


@torch.no_grad()
def update_ema(teacher, student, decay=0.999):
    for t_p, s_p in zip(teacher.parameters(), student.parameters()):
        t_p.mul_(decay).add_(s_p.detach(), alpha=1 - decay)
    for t_b, s_b in zip(teacher.buffers(), student.buffers()):
        t_b.copy_(s_b)


def train(epochs=100, device="cuda", cons_weight=10.0):
    labeled, unlabeled = get_loaders("data/CUB_200_2011", batch_size=32, semi=True)
    student = make_student().to(device)
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(student.parameters(), lr=3e-4)
    for epoch in range(epochs):
        student.train()
        teacher.train()
        for (x_l, y_l), (x_u, _) in zip(labeled, unlabeled):
            x_l, y_l, x_u = x_l.to(device), y_l.to(device), x_u.to(device)
            sup = F.cross_entropy(student(x_l), y_l)
            with torch.no_grad():
                t_prob = F.softmax(teacher(x_u), dim=1)
            cons = F.mse_loss(F.softmax(student(x_u), dim=1), t_prob)
            loss = sup + cons_weight * cons
            opt.zero_grad()
            loss.backward()
            opt.step()
            update_ema(teacher, student)
    return teacher
