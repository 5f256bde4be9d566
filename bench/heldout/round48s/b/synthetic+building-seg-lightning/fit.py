import glob
import os

import numpy as np
import pytorch_lightning as pl
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from lightning_module import BuildingSegmenter

CONFIG = {"data_dir": "data/inria_tiles", "batch_size": 16, "max_epochs": 40, "lr": 1e-3, "freeze_encoder": True}


class TileDataset(Dataset):
    def __init__(self, root):
        self.images = sorted(glob.glob(os.path.join(root, "images", "*.png")))
        self.masks = [p.replace("images", "masks") for p in self.images]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = np.asarray(Image.open(self.images[i]).convert("RGB"), dtype=np.float32) / 255.0
        mask = (np.asarray(Image.open(self.masks[i]), dtype=np.float32) > 127).astype(np.float32)
        return torch.from_numpy(img).permute(2, 0, 1), torch.from_numpy(mask)[None]


def main(cfg):
    train_ds = TileDataset(os.path.join(cfg["data_dir"], "train"))
    val_ds = TileDataset(os.path.join(cfg["data_dir"], "val"))
    train_dl = DataLoader(train_ds, cfg["batch_size"], shuffle=True, num_workers=8)
    val_dl = DataLoader(val_ds, cfg["batch_size"], num_workers=8)
    module = BuildingSegmenter(lr=cfg["lr"], freeze_encoder=cfg["freeze_encoder"])
    trainer = pl.Trainer(max_epochs=cfg["max_epochs"], precision="16-mixed", log_every_n_steps=20)
    trainer.fit(module, train_dl, val_dl)


if __name__ == "__main__":
    main(CONFIG)
