"""Compare BN-free classic backbones as frozen feature extractors."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from models import create_model

ARCHS_TO_TRY = ["alexnet", "vgg11"]


def run(arch, data="data/hymenoptera_data", epochs=10):
    tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()])
    dl = DataLoader(datasets.ImageFolder(f"{data}/train", tf), batch_size=8, shuffle=True)
    model = create_model(arch, num_classes=2, feature_extract=True).cuda()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for x, y in dl:
            loss = crit(model(x.cuda()), y.cuda())
            opt.zero_grad()
            loss.backward()
            opt.step()
    return loss.item()


if __name__ == "__main__":
    for name in ARCHS_TO_TRY:
        print(name, run(name))
