import argparse

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ModelCheckpoint

from datamodule import PairedImagesDataModule
from lit_module import Pix2PixFM

CFG = {"data_root": "datasets/facades", "batch_size": 16, "max_epochs": 200, "lr": 2e-4}


def parse_overrides():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", default=CFG["data_root"])
    ap.add_argument("--max-epochs", type=int, default=CFG["max_epochs"])
    ap.add_argument("--lambda-fm", type=float, default=10.0)
    return ap.parse_args()


if __name__ == "__main__":
    args = parse_overrides()
    dm = PairedImagesDataModule(args.data_root, batch_size=CFG["batch_size"])
    model = Pix2PixFM(lr=CFG["lr"], lambda_fm=args.lambda_fm)
    ckpt = ModelCheckpoint(dirpath="checkpoints", every_n_epochs=10, save_top_k=-1)
    trainer = pl.Trainer(max_epochs=args.max_epochs, accelerator="gpu", devices=1,
                         callbacks=[ckpt], check_val_every_n_epoch=10)
    trainer.fit(model, datamodule=dm)
