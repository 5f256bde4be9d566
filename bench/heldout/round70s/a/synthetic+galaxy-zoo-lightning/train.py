import argparse

import pytorch_lightning as pl
from pytorch_lightning.loggers import CSVLogger

from data import GalaxyDataModule
from modules import GalaxyRegressor, GalaxyRegressorBNFixed

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", choices=["v0", "v1"], default="v1")
    ap.add_argument("--max_epochs", type=int, default=20)
    args = ap.parse_args()
    dm = GalaxyDataModule("data/galaxy-zoo", batch_size=64)
    if args.version == "v0":
        model = GalaxyRegressor(lr=1e-3)
    else:
        model = GalaxyRegressorBNFixed(lr=1e-3)
    trainer = pl.Trainer(max_epochs=args.max_epochs, accelerator="gpu", devices=1,
                         logger=CSVLogger("logs", name=f"galaxy_{args.version}"))
    trainer.fit(model, datamodule=dm)
