import argparse

import torch
import torchvision
import torchvision.transforms as T

from distiller import Distiller
from engine import evaluate, train_one_epoch
from models import get_model


def get_args():
    p = argparse.ArgumentParser("CIFAR-100 knowledge distillation")
    p.add_argument("--teacher", default="resnet50")
    p.add_argument("--teacher-ckpt", default="checkpoints/resnet50_cifar100.pth")
    p.add_argument("--student", default="mobilenet_small")
    p.add_argument("--epochs", type=int, default=240)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--T", type=float, default=4.0)
    p.add_argument("--alpha", type=float, default=0.9)
    return p.parse_args()


def main():
    args = get_args()
    device = torch.device("cuda")
    tf = T.Compose([T.RandomCrop(32, 4), T.RandomHorizontalFlip(), T.ToTensor()])
    train_set = torchvision.datasets.CIFAR100("data", train=True, download=True, transform=tf)
    test_set = torchvision.datasets.CIFAR100("data", train=False, transform=T.ToTensor())
    train_loader = torch.utils.data.DataLoader(train_set, 64, shuffle=True, num_workers=8)
    test_loader = torch.utils.data.DataLoader(test_set, 256, num_workers=8)

    teacher = get_model(args.teacher, num_classes=100)
    teacher.load_state_dict(torch.load(args.teacher_ckpt, map_location="cpu"))
    student = get_model(args.student, num_classes=100)
    print("teacher acc", evaluate(teacher.to(device), test_loader, device))

    distiller = Distiller(student, teacher, temperature=args.T, alpha=args.alpha).to(device)
    optimizer = torch.optim.SGD(distiller.student_parameters(), lr=args.lr,
                                momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(optimizer, [150, 180, 210], 0.1)
    for epoch in range(args.epochs):
        tr_loss, tr_acc = train_one_epoch(distiller, train_loader, optimizer, device, epoch)
        sched.step()
        acc = evaluate(distiller.student, test_loader, device)
        print(f"epoch {epoch}: train loss {tr_loss:.3f} acc {tr_acc:.3f} | test {acc:.4f}")


if __name__ == "__main__":
    main()
