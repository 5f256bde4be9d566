import random
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from model import ContrastiveLoss, SiameseNet

tf = transforms.Compose([
    transforms.Grayscale(num_output_channels=3),
    transforms.Resize((155, 220)),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


class SignaturePairs(Dataset):
    def __init__(self, root, n_pairs=20000):
        self.genuine = {}
        self.forged = {}
        for p in Path(root).glob("*/*.png"):
            writer = p.parent.name
            bucket = self.forged if p.stem.startswith("forg") else self.genuine
            bucket.setdefault(writer, []).append(p)
        self.writers = sorted(self.genuine)
        self.n_pairs = n_pairs

    def __len__(self):
        return self.n_pairs

    def __getitem__(self, i):
        w = random.choice(self.writers)
        a = random.choice(self.genuine[w])
        if i % 2 == 0:
            b, same = random.choice(self.genuine[w]), 1.0
        else:
            b, same = random.choice(self.forged.get(w, self.genuine[random.choice(self.writers)])), 0.0
        return tf(Image.open(a)), tf(Image.open(b)), torch.tensor(same)


device = "cuda" if torch.cuda.is_available() else "cpu"
loader = DataLoader(SignaturePairs("signatures/train"), batch_size=32, shuffle=True, num_workers=4)

model = SiameseNet(emb_dim=128).to(device)
# backbone is used as a fixed feature extractor: only the head goes to the optimiser
optimizer = torch.optim.Adam(model.head.parameters(), lr=5e-4)
criterion = ContrastiveLoss(margin=1.0)

for epoch in range(40):
    model.train()
    total = 0.0
    for a, b, same in loader:
        a, b, same = a.to(device), b.to(device), same.to(device)
        ea, eb = model(a, b)
        loss = criterion(ea, eb, same)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch:02d} contrastive loss {total / len(loader):.4f}")
    torch.save(model.state_dict(), "siamese_mobilenet.pth")
