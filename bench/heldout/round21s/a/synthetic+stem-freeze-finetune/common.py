import torch
import torch.nn as nn
from torchvision import datasets, transforms


def stanford_dogs_loaders(root, bs=48):
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(), norm])
    te = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm])
    train_ds = datasets.ImageFolder(f"{root}/train", tr)
    test_ds = datasets.ImageFolder(f"{root}/test", te)
    return (torch.utils.data.DataLoader(train_ds, bs, shuffle=True, num_workers=4, pin_memory=True),
            torch.utils.data.DataLoader(test_ds, bs, num_workers=4))


def freeze_layers(model, names):
    """requires_grad=False for every child module listed in ``names``"""
    for name in names:
        for p in getattr(model, name).parameters():
            p.requires_grad = False


def freeze_bn(model):
    """put every BatchNorm in eval mode so running_mean/var stay fixed"""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()


@torch.no_grad()
def accuracy(model, loader, device):
    model.eval()
    hit = n = 0
    for x, y in loader:
        hit += (model(x.to(device)).argmax(1).cpu() == y).sum().item()
        n += y.numel()
    return hit / n
