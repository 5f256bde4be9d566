# DINO-like self-distillation with a ResNet-50 (teacher = EMA of student)
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class Head(nn.Module):
    def __init__(self, in_dim=2048, out_dim=4096):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, 2048), nn.GELU(), nn.Linear(2048, 256))
        self.last = nn.utils.weight_norm(nn.Linear(256, out_dim, bias=False))

    def forward(self, x):
        return self.last(F.normalize(self.mlp(x), dim=-1))


def make_net():
    bb = torchvision.models.resnet50()
    bb.fc = nn.Identity()
    return nn.Sequential(bb, Head())


def dino_loss(s_out, t_out, center, ts=0.1, tt=0.04):
    t = F.softmax((t_out - center) / tt, dim=-1)
    return torch.sum(-t * F.log_softmax(s_out / ts, dim=-1), dim=-1).mean()


def main(loader, epochs=100, momentum=0.996):
    student, teacher = make_net().cuda(), make_net().cuda()
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters():
        p.requires_grad = False
    center = torch.zeros(1, 4096, device="cuda")
    opt = torch.optim.AdamW(student.parameters(), lr=5e-4, weight_decay=0.04)
    for ep in range(epochs):
        student.train()
        teacher.train()
        for (v1, v2), _ in loader:
            v1, v2 = v1.cuda(), v2.cuda()
            with torch.no_grad():
                t1, t2 = teacher(v1), teacher(v2)
            s1, s2 = student(v1), student(v2)
            loss = 0.5 * (dino_loss(s1, t2, center) + dino_loss(s2, t1, center))
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for ps, pt in zip(student.parameters(), teacher.parameters()):
                    pt.mul_(momentum).add_((1 - momentum) * ps.detach())
                center = 0.9 * center + 0.1 * torch.cat([t1, t2]).mean(0, keepdim=True)
        print(ep, loss.item())
