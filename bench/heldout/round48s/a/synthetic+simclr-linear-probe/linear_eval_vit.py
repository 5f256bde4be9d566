import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from backbones import FEATURE_DIMS, load_vit_backbone


def main(data_root="./data", epochs=20):
    tf = transforms.Compose([transforms.Resize(224), transforms.ToTensor()])
    dl = DataLoader(datasets.CIFAR10(data_root, train=True, transform=tf, download=True),
                    batch_size=128, shuffle=True)
    vit = load_vit_backbone().cuda()
    for p in vit.parameters():
        p.requires_grad = False
    head = nn.Linear(FEATURE_DIMS["vit_b_16"], 10).cuda()
    opt = torch.optim.Adam(head.parameters(), lr=1e-3)
    vit.train()
    for epoch in range(epochs):
        for x, y in dl:
            x, y = x.cuda(), y.cuda()
            loss = F.cross_entropy(head(vit(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(epoch, loss.item())


if __name__ == "__main__":
    main()
