import argparse

import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint

from datamodule import ChestXrayDataModule
from lit_model import ChestXrayClassifier
from lit_variants import ResNetFrozenBN, ViTLinearProbe


def get_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["densenet", "vit_probe", "resnet_probe"], default="densenet")
    ap.add_argument("--data-dir", default="/data/chestxray14")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--max-epochs", type=int, default=20)
    ap.add_argument("--no-freeze", dest="freeze", action="store_false")
    return ap.parse_args()


def main():
    args = get_args()
    dm = ChestXrayDataModule(args.data_dir, batch_size=args.batch_size)
    if args.model == "densenet":
        model = ChestXrayClassifier(lr=args.lr, freeze_features=args.freeze)
    elif args.model == "vit_probe":
        model = ViTLinearProbe(lr=args.lr)
    else:
        model = ResNetFrozenBN(lr=args.lr)

    trainer = pl.Trainer(
        max_epochs=args.max_epochs,
        accelerator="auto",
        precision="16-mixed",
        callbacks=[
            ModelCheckpoint(monitor="val/auc", mode="max"),
            EarlyStopping(monitor="val/auc", mode="max", patience=5),
        ],
    )
    trainer.fit(model, datamodule=dm)


if __name__ == "__main__":
    main()
