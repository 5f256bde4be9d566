import copy

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from networks import build_student


@torch.no_grad()
def update_ema(ema_model, model, decay=0.999):
    for ema_p, p in zip(ema_model.parameters(), model.parameters()):
        ema_p.mul_(decay).add_(p.detach(), alpha=1 - decay)
    for ema_b, b in zip(ema_model.buffers(), model.buffers()):
        ema_b.copy_(b)


def main(epochs=100, cons_weight=10.0):
    tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.ToTensor()])
    loader = DataLoader(datasets.CIFAR100("data", train=True, transform=tf, download=True),
                        batch_size=128, shuffle=True)
    student = build_student().cuda()
    ema_teacher = copy.deepcopy(student)
    for p in ema_teacher.parameters():
        p.requires_grad_(False)
    opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(epochs):
        student.train()
        ema_teacher.train()
        for x, y in loader:
            x, y = x.cuda(), y.cuda()
            s_out = student(x)
            with torch.no_grad():
                t_out = ema_teacher(x + 0.05 * torch.randn_like(x))
            loss = F.cross_entropy(s_out, y) + cons_weight * F.mse_loss(
                s_out.softmax(1), t_out.softmax(1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            update_ema(ema_teacher, student)


if __name__ == "__main__":
    main()
