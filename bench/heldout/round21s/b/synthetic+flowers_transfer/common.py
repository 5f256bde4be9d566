import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def flowers_loaders(root="data", bs=32):
    train_tf = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(0.2, 0.2, 0.2),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    test_tf = transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    tr = datasets.Flowers102(root, split="train", transform=train_tf, download=True)
    va = datasets.Flowers102(root, split="val", transform=test_tf, download=True)
    te = datasets.Flowers102(root, split="test", transform=test_tf, download=True)
    return (DataLoader(tr, batch_size=bs, shuffle=True, num_workers=4),
            DataLoader(va, batch_size=bs * 2, num_workers=4),
            DataLoader(te, batch_size=bs * 2, num_workers=4))


@torch.no_grad()
def accuracy(model, loader, device):
    model.eval()
    hit = n = 0
    for x, y in loader:
        hit += (model(x.to(device)).argmax(1).cpu() == y).sum().item()
        n += len(y)
    return hit / n
