import argparse
import itertools

import torch
import torch.nn.functional as F
import torchvision

from data import labeled_and_unlabeled_loaders
from ema import EMATeacher


def sigmoid_rampup(step, length):
    if length == 0:
        return 1.0
    phase = 1.0 - min(step, length) / length
    return float(torch.exp(torch.tensor(-5.0 * phase * phase)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--consistency", type=float, default=10.0)
    ap.add_argument("--rampup", type=int, default=5000)
    args = ap.parse_args()

    lab_loader, unl_loader = labeled_and_unlabeled_loaders("data", n_labeled=4000)
    student = torchvision.models.resnet18(num_classes=10).cuda()
    teacher = EMATeacher(student, decay=0.999)
    optimizer = torch.optim.SGD(student.parameters(), lr=0.03, momentum=0.9, nesterov=True, weight_decay=5e-4)

    lab_iter, unl_iter = itertools.cycle(lab_loader), itertools.cycle(unl_loader)
    student.train()
    teacher.model.train()
    for step in range(args.steps):
        (x_l, y_l), (x_u1, x_u2) = next(lab_iter), next(unl_iter)
        x_l, y_l, x_u1, x_u2 = x_l.cuda(), y_l.cuda(), x_u1.cuda(), x_u2.cuda()
        logits_l = student(x_l)
        logits_u = student(x_u1)
        with torch.no_grad():
            teacher_logits = teacher(x_u2)
        sup_loss = F.cross_entropy(logits_l, y_l)
        cons_loss = F.mse_loss(F.softmax(logits_u, dim=1), F.softmax(teacher_logits, dim=1))
        loss = sup_loss + args.consistency * sigmoid_rampup(step, args.rampup) * cons_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        teacher.update(student, step)
        if step % 500 == 0:
            print(f"step {step}: sup {sup_loss.item():.3f} cons {cons_loss.item():.4f}")


if __name__ == "__main__":
    main()
