import argparse

import torch
import torchvision.models as models

from distillers.kd import KD

TEACHERS = {
    "resnet34": lambda: models.resnet34(weights="IMAGENET1K_V1"),
    "densenet121": lambda: models.densenet121(weights="IMAGENET1K_V1"),
}
STUDENTS = {
    "mobilenet_v2": lambda: models.mobilenet_v2(num_classes=1000),
    "resnet18": lambda: models.resnet18(num_classes=1000),
}


def train_epoch(distiller, loader, optimizer, device):
    distiller.train()
    for image, target in loader:
        image, target = image.to(device), target.to(device)
        _, losses = distiller(image, target)
        loss = sum(losses.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--teacher", default="densenet121", choices=list(TEACHERS))
    parser.add_argument("--student", default="mobilenet_v2", choices=list(STUDENTS))
    parser.add_argument("--epochs", type=int, default=100)
    cfg = parser.parse_args()
    device = torch.device("cuda")

    teacher = TEACHERS[cfg.teacher]()
    student = STUDENTS[cfg.student]()
    distiller = KD(student, teacher, temperature=1.0).to(device)
    optimizer = torch.optim.SGD(distiller.get_learnable_parameters(), lr=0.2, momentum=0.9,
                                weight_decay=4e-5, nesterov=True)
    from data import build_imagenet_loader  # noqa: E402  (project-local helper)
    loader = build_imagenet_loader("train", batch_size=256)
    for _ in range(cfg.epochs):
        train_epoch(distiller, loader, optimizer, device)


if __name__ == "__main__":
    main()
