"""Oxford Flowers-102 with Inception-v3 as a fixed feature extractor."""
import time

import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import datasets, transforms

from model_zoo import initialize_model

model_name = "inception"
num_classes = 102
batch_size = 32
num_epochs = 20
feature_extract = True
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def train_model(model, dataloaders, criterion, optimizer, num_epochs=25, is_inception=False):
    start = time.time()
    for epoch in range(num_epochs):
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
            else:
                model.eval()
            corrects = 0
            for inputs, labels in dataloaders[phase]:
                inputs, labels = inputs.to(device), labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    if is_inception and phase == "train":
                        outputs, aux_outputs = model(inputs)
                        loss = criterion(outputs, labels) + 0.4 * criterion(aux_outputs, labels)
                    else:
                        outputs = model(inputs)
                        loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                corrects += (outputs.argmax(1) == labels).sum().item()
            print(f"{epoch} {phase} acc {corrects / len(dataloaders[phase].dataset):.4f}")
    print(f"done in {time.time() - start:.0f}s")
    return model


if __name__ == "__main__":
    model_ft, input_size = initialize_model(model_name, num_classes, feature_extract, use_pretrained=True)
    tfs = {
        "train": transforms.Compose([transforms.RandomResizedCrop(input_size), transforms.RandomHorizontalFlip(),
                                     transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]),
        "val": transforms.Compose([transforms.Resize(input_size), transforms.CenterCrop(input_size),
                                   transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]),
    }
    splits = {"train": "train", "val": "val"}
    dataloaders = {k: torch.utils.data.DataLoader(datasets.Flowers102("data", split=v, transform=tfs[k], download=True),
                                                  batch_size=batch_size, shuffle=(k == "train"), num_workers=4)
                   for k, v in splits.items()}
    model_ft = model_ft.to(device)
    params_to_update = [p for p in model_ft.parameters() if p.requires_grad]
    optimizer_ft = optim.SGD(params_to_update, lr=0.001, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    model_ft = train_model(model_ft, dataloaders, criterion, optimizer_ft, num_epochs=num_epochs,
                           is_inception=(model_name == "inception"))
