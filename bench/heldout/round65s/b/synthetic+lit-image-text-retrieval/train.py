import argparse

import pytorch_lightning as pl

from data import CocoCaptionsDataModule
from module import RetrievalModule


def cli():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--precision", default="16-mixed")
    return parser.parse_args()


if __name__ == "__main__":
    args = cli()
    dm = CocoCaptionsDataModule("data/coco", batch_size=args.batch_size)
    model = RetrievalModule(dm.vocab_size, backbone=args.backbone)
    trainer = pl.Trainer(max_epochs=args.max_epochs, precision=args.precision, devices=1)
    trainer.fit(model, datamodule=dm)
