"""Semi-supervised CIFAR-10 with 4000 labels: mean teacher + consistency loss."""
import itertools

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import models

from ema import EMATeacher
from data_utils import labeled_unlabeled_split

EPOCHS = 300
CONS_WEIGHT = 8.0


def consistency_weight(epoch, rampup=80):
    t = min(1.0, epoch / rampup)
    return CONS_WEIGHT * float(torch.exp(torch.tensor(-5.0 * (1 - t) ** 2)))


def main():
    device = "cuda"
    labeled, unlabeled, test = labeled_unlabeled_split("./data", n_labeled=4000)
    lab_loader = DataLoader(labeled, batch_size=64, shuffle=True, drop_last=True, num_workers=4)
    unl_loader = DataLoader(unlabeled, batch_size=192, shuffle=True, drop_last=True, num_workers=4)
    test_loader = DataLoader(test, batch_size=512, num_workers=4)

    student = models.resnet18(num_classes=10).to(device)
    teacher = EMATeacher(student, decay=0.999)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)

    step = 0
    for epoch in range(EPOCHS):
        student.train()
        teacher.model.train()
        for (xl, yl), ((xu1, xu2), _) in zip(lab_loader, itertools.cycle(unl_loader)):
            xl, yl, xu1, xu2 = xl.to(device), yl.to(device), xu1.to(device), xu2.to(device)
            sup = F.cross_entropy(student(xl), yl)
            with torch.no_grad():
                t_prob = F.softmax(teacher(xu2), dim=1)
            s_prob = F.softmax(student(xu1), dim=1)
            cons = F.mse_loss(s_prob, t_prob)
            loss = sup + consistency_weight(epoch) * cons
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            teacher.update(student, step)
            step += 1

        teacher.model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in test_loader:
                correct += (teacher(x.to(device)).argmax(1).cpu() == y).sum().item()
        print(f"epoch {epoch} teacher acc {correct / len(test_loader.dataset):.4f}")


if __name__ == "__main__":
    main()
