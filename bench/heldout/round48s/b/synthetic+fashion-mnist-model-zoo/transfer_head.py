"""Re-use a trained VGGSmall feature extractor for a 5-way subset task; only the classifier is trained."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

from models.zoo import MODEL_ZOO

SUBSET = [0, 2, 4, 6, 8]


def main(ckpt="vgg_small_fmnist.pth", epochs=5):
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.286,), (0.353,))])
    ds = datasets.FashionMNIST("data", train=True, download=True, transform=tf)
    idx = [i for i, y in enumerate(ds.targets.tolist()) if y in SUBSET]
    loader = DataLoader(Subset(ds, idx), batch_size=128, shuffle=True)
    remap = {c: i for i, c in enumerate(SUBSET)}

    model = MODEL_ZOO["vgg_small"](num_classes=10)
    model.load_state_dict(torch.load(ckpt, map_location="cpu"))
    model.classifier[-1] = nn.Linear(256, len(SUBSET))
    model.features.requires_grad_(False)
    optimizer = torch.optim.Adam(model.classifier.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()

    for epoch in range(epochs):
        model.train()
        model.features.eval()
        for x, y in loader:
            y = torch.tensor([remap[int(t)] for t in y])
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
