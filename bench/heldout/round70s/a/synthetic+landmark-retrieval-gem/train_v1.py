"""First version of the retrieval training (kept for the report's ablation table)."""
import torch
from torch.utils.data import DataLoader

from dataset import LandmarkDataset
from losses import ArcFace
from net import RetrievalNet

device = "cuda"
loader = DataLoader(LandmarkDataset("data/gldv2_clean.csv"), batch_size=64, shuffle=True, num_workers=8)
model = RetrievalNet(depth=50, dim=512, freeze_body=False).to(device)
for p in model.body.parameters():
    p.requires_grad = False
model.body.eval()  # keep BN statistics from ImageNet

head = ArcFace(512, loader.dataset.num_classes).to(device)
optimizer = torch.optim.Adam(list(model.whiten.parameters()) + list(head.parameters()), lr=1e-3)

for epoch in range(8):
    model.train()
    total = 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        loss = head(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(epoch, total / len(loader))
torch.save(model.state_dict(), "retrieval_v1.pt")
