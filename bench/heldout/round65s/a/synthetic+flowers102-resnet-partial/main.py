import torch
import torch.nn as nn
from torchvision import datasets, transforms

from model import build_resnet, param_groups
from utils import train_model

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

data_transforms = {
    "train": transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ]),
    "val": transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ]),
}

if __name__ == "__main__":
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    image_datasets = {
        split: datasets.Flowers102("data", split=split, download=True, transform=data_transforms[split])
        for split in ["train", "val"]
    }
    dataloaders = {
        split: torch.utils.data.DataLoader(image_datasets[split], batch_size=32, shuffle=split == "train", num_workers=2)
        for split in ["train", "val"]
    }

    model_ft = build_resnet(num_classes=102).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer_ft = torch.optim.SGD(param_groups(model_ft, 0.01), momentum=0.9)
    exp_lr_scheduler = torch.optim.lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)
    model_ft = train_model(model_ft, dataloaders, criterion, optimizer_ft, exp_lr_scheduler, device, num_epochs=25)
    torch.save(model_ft.state_dict(), "flowers_resnet50.pth")
