import argparse

import torch
import torchvision
import torchvision.transforms as T

from engine import evaluate, train_one_epoch
from models import Distiller, get_model, load_teacher


def parse_args():
    p = argparse.ArgumentParser("vanilla KD on CIFAR-100")
    p.add_argument("--teacher", default="resnet50")
    p.add_argument("--teacher-ckpt", default="checkpoints/resnet50_cifar100.pth")
    p.add_argument("--student", default="resnet18")
    p.add_argument("--epochs", type=int, default=240)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--T", type=float, default=4.0)
    p.add_argument("--data", default="./data")
    return p.parse_args()


def main():
    args = parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    norm = T.Normalize((0.507, 0.487, 0.441), (0.267, 0.256, 0.276))
    train_set = torchvision.datasets.CIFAR100(
        args.data, train=True, download=True,
        transform=T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), norm]))
    val_set = torchvision.datasets.CIFAR100(
        args.data, train=False, download=True, transform=T.Compose([T.ToTensor(), norm]))
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True, num_workers=4)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=256, num_workers=4)

    student = get_model(args.student)
    teacher = load_teacher(args.teacher, args.teacher_ckpt)
    model = Distiller(student, teacher, temperature=args.T).to(device)

    optimizer = torch.optim.SGD(model.learnable_parameters(), lr=args.lr,
                                momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [150, 180, 210], 0.1)
    best = 0.0
    for epoch in range(args.epochs):
        train_one_epoch(model, train_loader, optimizer, device, epoch)
        scheduler.step()
        acc = evaluate(model, val_loader, device)
        if acc > best:
            best = acc
            torch.save(model.student.state_dict(), "student_best.pth")
        print(f"epoch {epoch}: top1 {acc:.2f} (best {best:.2f})")


if __name__ == "__main__":
    main()
