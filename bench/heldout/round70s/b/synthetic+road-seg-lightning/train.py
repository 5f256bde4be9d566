import argparse

import pytorch_lightning as pl
from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint
from torch.utils.data import DataLoader

from data import DeepGlobeRoads
from lit_module import RoadSegModule


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/data/deepglobe-road")
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--no-freeze", action="store_true")
    args = ap.parse_args()

    train_dl = DataLoader(DeepGlobeRoads(args.root, "train"), batch_size=args.batch_size,
                          shuffle=True, num_workers=6, pin_memory=True)
    val_dl = DataLoader(DeepGlobeRoads(args.root, "valid"), batch_size=args.batch_size, num_workers=6)

    module = RoadSegModule(lr=3e-4, freeze_stages=not args.no_freeze)
    trainer = pl.Trainer(
        max_epochs=args.epochs, accelerator="gpu", devices=1, precision="16-mixed",
        callbacks=[ModelCheckpoint(monitor="val/dice", mode="max"), LearningRateMonitor()],
    )
    trainer.fit(module, train_dl, val_dl)


if __name__ == "__main__":
    main()
