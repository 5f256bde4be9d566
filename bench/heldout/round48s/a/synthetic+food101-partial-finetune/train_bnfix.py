import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

from utils import freeze_until, set_bn_eval


def main(root="data", epochs=12):
    tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()])
    dl = DataLoader(datasets.Food101(root, "train", tf, download=True), batch_size=64, shuffle=True)
    net = models.resnet50(weights="DEFAULT")
    net.fc = nn.Linear(net.fc.in_features, 101)
    freeze_until(net, "layer3")
    net = net.cuda()
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    for epoch in range(epochs):
        net.train()
        set_bn_eval(net)
        for x, y in dl:
            loss = nn.functional.cross_entropy(net(x.cuda()), y.cuda())
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(epoch, loss.item())


if __name__ == "__main__":
    main()
