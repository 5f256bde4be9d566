import torch
import torch.nn as nn
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms

from fit import fit
from net import freeze_features, mobilenet_classifier, param_summary, trainable_parameters

SETTINGS = dict(data_dir="PlantVillage", img_size=224, batch=32, epochs=25, lr=1e-3)


def make_loaders(cfg):
    tf = transforms.Compose([
        transforms.Resize((cfg["img_size"], cfg["img_size"])),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    full = datasets.ImageFolder(cfg["data_dir"], tf)
    n_val = len(full) // 5
    train, val = random_split(full, [len(full) - n_val, n_val])
    return {"train": DataLoader(train, cfg["batch"], shuffle=True, num_workers=4),
            "val": DataLoader(val, cfg["batch"], num_workers=4)}, len(full.classes)


if __name__ == "__main__":
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    loaders, n_classes = make_loaders(SETTINGS)
    model = freeze_features(mobilenet_classifier(n_classes)).to(device)
    print(param_summary(model))
    optimizer = torch.optim.Adam(trainable_parameters(model), lr=SETTINGS["lr"])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
    fit(model, loaders, nn.CrossEntropyLoss(), optimizer, SETTINGS["epochs"], device, scheduler)
