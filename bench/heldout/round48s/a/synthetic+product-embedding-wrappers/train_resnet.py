import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from triplets import TripletFolder
from wrappers import EvalTrunkEmbedder


def main(root="data/products", epochs=30, margin=0.2):
    loader = DataLoader(TripletFolder(root), batch_size=64, shuffle=True, num_workers=8)
    embedder = EvalTrunkEmbedder(out_dim=256).cuda()
    optimizer = torch.optim.AdamW(embedder.adapter.parameters(), lr=5e-4)
    triplet = nn.TripletMarginLoss(margin=margin)
    for epoch in range(epochs):
        embedder.train()
        for anchor, pos, neg in loader:
            loss = triplet(embedder(anchor.cuda()), embedder(pos.cuda()), embedder(neg.cuda()))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch} triplet {loss.item():.4f}")
    torch.save(embedder.adapter.state_dict(), "adapter_resnet.pth")


if __name__ == "__main__":
    main()
