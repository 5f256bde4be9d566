"""Smaller baseline for the Raspberry Pi demo: SqueezeNet 1.0 feature extractor."""
import torch
import torch.nn as nn
import torch.optim as optim
from torchvision import datasets, transforms

from model_zoo import initialize_model
from train_inception import device, train_model

if __name__ == "__main__":
    model, size = initialize_model("squeezenet", 102, feature_extract=True)
    tf = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    dataloaders = {k: torch.utils.data.DataLoader(datasets.Flowers102("data", split=k, transform=tf, download=True),
                                                  batch_size=64, shuffle=(k == "train"))
                   for k in ["train", "val"]}
    model = model.to(device)
    optimizer = optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    train_model(model, dataloaders, nn.CrossEntropyLoss(), optimizer, num_epochs=15)
    torch.save(model.state_dict(), "squeezenet_flowers102.pth")
    example = torch.randn(1, 3, size, size, device=device)
    torch.onnx.export(model.eval(), example, "squeezenet_flowers102.onnx", opset_version=13)
