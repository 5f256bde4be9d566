import argparse

import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as transforms

from net import MiniInception


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--aux-weight", type=float, default=0.3)
    return p.parse_args()


def main():
    args = get_args()
    tf = transforms.Compose([transforms.RandomCrop(32, 4), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    train_set = torchvision.datasets.CIFAR100("./data", train=True, download=True, transform=tf)
    test_set = torchvision.datasets.CIFAR100("./data", train=False, download=True, transform=transforms.ToTensor())
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=128, shuffle=True, num_workers=4)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=256, num_workers=4)

    net = MiniInception(num_classes=100).cuda()
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60, 80], gamma=0.2)

    for epoch in range(args.epochs):
        net.train()
        for inputs, targets in train_loader:
            inputs, targets = inputs.cuda(), targets.cuda()
            logits, aux_logits = net(inputs)
            main_loss = criterion(logits, targets)
            aux_loss = criterion(aux_logits, targets)
            loss = main_loss + args.aux_weight * aux_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()

        net.eval()
        correct = 0
        with torch.no_grad():
            for inputs, targets in test_loader:
                probs = net(inputs.cuda())
                correct += probs.argmax(1).eq(targets.cuda()).sum().item()
        print(f"epoch {epoch} loss {loss.item():.3f} acc {correct / len(test_set):.4f}")


if __name__ == "__main__":
    main()
