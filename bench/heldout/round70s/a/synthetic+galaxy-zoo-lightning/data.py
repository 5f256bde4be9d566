import pandas as pd
import pytorch_lightning as pl
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, random_split
from torchvision import transforms


class GalaxyDataset(Dataset):
    def __init__(self, root):
        self.root = root
        self.sol = pd.read_csv(f"{root}/training_solutions_rev1.csv")
        self.tf = transforms.Compose([transforms.CenterCrop(256), transforms.Resize(128),
                                      transforms.RandomRotation(180), transforms.ToTensor()])

    def __len__(self):
        return len(self.sol)

    def __getitem__(self, i):
        row = self.sol.iloc[i]
        img = Image.open(f"{self.root}/images_training_rev1/{int(row.GalaxyID)}.jpg").convert("RGB")
        return self.tf(img), torch.tensor(row.values[1:].astype("float32"))


class GalaxyDataModule(pl.LightningDataModule):
    def __init__(self, root, batch_size=64):
        super().__init__()
        self.root, self.batch_size = root, batch_size

    def setup(self, stage=None):
        full = GalaxyDataset(self.root)
        n_val = len(full) // 10
        self.train_ds, self.val_ds = random_split(full, [len(full) - n_val, n_val],
                                                  generator=torch.Generator().manual_seed(0))

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.batch_size, shuffle=True, num_workers=6)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.batch_size, num_workers=6)
