"""ChestX-ray14 training. 14 findings, heavily imbalanced -> pos_weight."""
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from PIL import Image
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from model import CheXNet

LABELS = ["Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule",
          "Pneumonia", "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis",
          "Pleural_Thickening", "Hernia"]


class CXRDataset(Dataset):
    def __init__(self, csv, img_dir, tf):
        self.df = pd.read_csv(csv)
        self.img_dir, self.tf = img_dir, tf

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        row = self.df.iloc[i]
        img = Image.open(f"{self.img_dir}/{row['Image Index']}").convert("RGB")
        y = torch.tensor([float(l in row["Finding Labels"]) for l in LABELS])
        return self.tf(img), y


def main():
    dev = torch.device("cuda")
    tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    tr_ds = CXRDataset("train_val.csv", "images", tf)
    te_ds = CXRDataset("test.csv", "images", tf)
    tr = DataLoader(tr_ds, batch_size=64, shuffle=True, num_workers=8)
    te = DataLoader(te_ds, batch_size=64, num_workers=8)

    net = CheXNet(num_labels=len(LABELS), freeze_backbone=True).to(dev)
    pos = np.array([tr_ds.df["Finding Labels"].str.contains(l).mean() for l in LABELS])
    criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor((1 - pos) / pos, dtype=torch.float32, device=dev))
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, net.parameters()), lr=1e-3)

    for epoch in range(20):
        net.train()
        for x, y in tr:
            x, y = x.to(dev), y.to(dev)
            probs = net(x)
            loss = criterion(probs, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        net.eval()
        ys, ps = [], []
        with torch.no_grad():
            for x, y in te:
                ps.append(net(x.to(dev)).cpu())
                ys.append(y)
        ys, ps = torch.cat(ys).numpy(), torch.cat(ps).numpy()
        aucs = [roc_auc_score(ys[:, k], ps[:, k]) for k in range(len(LABELS))]
        print(f"epoch {epoch} mean AUROC {np.mean(aucs):.4f}")

    torch.save(net.state_dict(), "chexnet_frozen.pth")


if __name__ == "__main__":
    main()
