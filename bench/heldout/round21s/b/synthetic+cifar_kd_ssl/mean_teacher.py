# Mean Teacher (Tarvainen & Valpola 2017) on CIFAR-10 with 4k labels
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models

from ssl_data import labeled_unlabeled_loaders


def make_net(num_classes=10):
    net = models.resnet18(weights=None, num_classes=num_classes)
    net.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    net.maxpool = nn.Identity()
    return net


@torch.no_grad()
def update_ema(teacher, student, alpha=0.999):
    for t, s in zip(teacher.parameters(), student.parameters()):
        t.mul_(alpha).add_(s, alpha=1 - alpha)
    for tb, sb in zip(teacher.buffers(), student.buffers()):
        tb.copy_(sb)


def main(epochs=200, cons_weight=8.0):
    dev = "cuda"
    lab_dl, unl_dl = labeled_unlabeled_loaders(n_labels=4000)
    student = make_net().to(dev)
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad_(False)

    opt = torch.optim.SGD(student.parameters(), lr=0.03, momentum=0.9, nesterov=True, weight_decay=5e-4)
    for epoch in range(epochs):
        student.train()
        teacher.train()
        for (xl, yl), (xu1, xu2) in zip(lab_dl, unl_dl):
            xl, yl, xu1, xu2 = xl.to(dev), yl.to(dev), xu1.to(dev), xu2.to(dev)
            sup = F.cross_entropy(student(xl), yl)
            with torch.no_grad():
                t_prob = F.softmax(teacher(xu2), dim=1)
            s_prob = F.softmax(student(xu1), dim=1)
            cons = F.mse_loss(s_prob, t_prob)
            loss = sup + cons_weight * min(1.0, epoch / 80) * cons
            opt.zero_grad()
            loss.backward()
            opt.step()
            update_ema(teacher, student)
        print(f"epoch {epoch} sup {sup.item():.3f} cons {cons.item():.4f}")
    torch.save(teacher.state_dict(), "mean_teacher_cifar10.pth")


if __name__ == "__main__":
    main()
