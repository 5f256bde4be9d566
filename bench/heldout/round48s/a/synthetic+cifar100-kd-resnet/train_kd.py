import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from networks import build_student, build_teacher


def kd_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.9):
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1),
                    F.softmax(teacher_logits / T, dim=1),
                    reduction="batchmean") * (T * T)
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1.0 - alpha) * hard


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--teacher-ckpt", default="runs/teacher_r50/best.pth")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--temperature", type=float, default=4.0)
    args = parser.parse_args()
    device = "cuda"

    tf = transforms.Compose([transforms.RandomCrop(32, padding=4),
                             transforms.RandomHorizontalFlip(),
                             transforms.ToTensor()])
    loader = DataLoader(datasets.CIFAR100("data", train=True, transform=tf, download=True),
                        batch_size=128, shuffle=True, num_workers=4)

    teacher = build_teacher(args.teacher_ckpt).to(device)
    student = build_student().to(device)
    optimizer = torch.optim.SGD(student.parameters(), lr=args.lr, momentum=0.9,
                                weight_decay=5e-4, nesterov=True)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [100, 150], 0.1)

    for epoch in range(args.epochs):
        student.train()
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            with torch.no_grad():
                t_logits = teacher(images)
            s_logits = student(images)
            loss = kd_loss(s_logits, t_logits, labels, T=args.temperature)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        print(f"epoch {epoch} loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
