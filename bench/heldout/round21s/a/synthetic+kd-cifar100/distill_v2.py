# KD v2: WideResNet-50 teacher, teacher explicitly in eval mode
import torch
from torchvision.models import wide_resnet50_2

from students import SmallCNN, cifar100, kd_loss


def load_teacher(path, device):
    t = wide_resnet50_2(num_classes=100)
    t.load_state_dict(torch.load(path, map_location="cpu"))
    for p in t.parameters():
        p.requires_grad = False
    t.eval()
    return t.to(device)


def main():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    teacher = load_teacher("checkpoints/wrn50_cifar100.pth", device)
    student = SmallCNN().to(device)
    opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    loader = cifar100()
    for epoch in range(120):
        student.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            with torch.no_grad():
                t_out = teacher(x)
            loss = kd_loss(student(x), t_out, y, T=3.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(epoch, loss.item())


if __name__ == "__main__":
    main()
