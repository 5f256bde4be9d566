import copy
import time

import torch


def train_model(model, dataloaders, criterion, optimizer, scheduler, device, num_epochs=25):
    since = time.time()
    best_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        print(f"Epoch {epoch}/{num_epochs - 1}")
        for phase in ["train", "val"]:
            model.train() if phase == "train" else model.eval()
            running_loss, running_corrects = 0.0, 0
            for inputs, labels in dataloaders[phase]:
                inputs, labels = inputs.to(device), labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += (outputs.argmax(1) == labels).sum().item()
            if phase == "train":
                scheduler.step()
            n = len(dataloaders[phase].dataset)
            acc = running_corrects / n
            print(f"{phase} Loss: {running_loss / n:.4f} Acc: {acc:.4f}")
            if phase == "val" and acc > best_acc:
                best_acc = acc
                best_wts = copy.deepcopy(model.state_dict())
    print(f"Training complete in {(time.time() - since) / 60:.1f}m, best val Acc {best_acc:.4f}")
    model.load_state_dict(best_wts)
    return model


def get_loaders(root, batch_size=32):
    from torchvision import datasets, transforms
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tfs = {
        "train": transforms.Compose([transforms.Resize((224, 224)), transforms.RandomRotation(10),
                                     transforms.ToTensor(), norm]),
        "val": transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(), norm]),
    }
    return {p: torch.utils.data.DataLoader(datasets.ImageFolder(f"{root}/{p}", tfs[p]), batch_size=batch_size,
                                           shuffle=(p == "train"), num_workers=4) for p in ["train", "val"]}
