import argparse

import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T

from distill import DistillKL, load_teacher


def build_arch(name):
    return {
        "resnet50": torchvision.models.resnet50,
        "resnet18": torchvision.models.resnet18,
        "mobilenet_v2": torchvision.models.mobilenet_v2,
    }[name]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", default="resnet50")
    ap.add_argument("--teacher-ckpt", default="save/teacher_resnet50_cifar100.pth")
    ap.add_argument("--student", default="resnet18")
    ap.add_argument("--epochs", type=int, default=240)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--T", type=float, default=4.0)
    args = ap.parse_args()

    tf = T.Compose([T.RandomCrop(32, 4), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize((0.507, 0.487, 0.441), (0.267, 0.256, 0.276))])
    ds = torchvision.datasets.CIFAR100("data", train=True, download=True, transform=tf)
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=8)

    teacher = load_teacher(build_arch(args.teacher), args.teacher_ckpt).cuda()
    student = build_arch(args.student)(num_classes=100).cuda()
    kd_loss = DistillKL(args.T)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [150, 180, 210], 0.1)

    for epoch in range(args.epochs):
        student.train()
        for images, labels in loader:
            images, labels = images.cuda(), labels.cuda()
            with torch.no_grad():
                t_logits = teacher(images)
            s_logits = student(images)
            loss_ce = F.cross_entropy(s_logits, labels)
            loss_kd = kd_loss(s_logits, t_logits)
            loss = (1 - args.alpha) * loss_ce + args.alpha * loss_kd
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        print(f"epoch {epoch}: ce {loss_ce.item():.3f} kd {loss_kd.item():.3f}")
        torch.save(student.state_dict(), f"save/student_{args.student}.pth")


if __name__ == "__main__":
    main()
