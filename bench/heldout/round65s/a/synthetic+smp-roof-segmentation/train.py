import argparse

import yaml
from torch.utils.data import DataLoader

from data import RoofDataset
from models import build_model
from trainer import Trainer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="config.yaml")
    args = parser.parse_args()
    with open(args.config) as f:
        cfg = yaml.safe_load(f)

    size = cfg["data"]["image_size"]
    train_ds = RoofDataset(cfg["data"]["root"], split="train", size=size)
    val_ds = RoofDataset(cfg["data"]["root"], split="val", size=size)
    bs = cfg["train"]["batch_size"]
    train_loader = DataLoader(train_ds, batch_size=bs, shuffle=True, num_workers=4)
    val_loader = DataLoader(val_ds, batch_size=bs, num_workers=4)

    model = build_model(cfg)
    trainer = Trainer(model, train_loader, val_loader, cfg)
    trainer.fit()


if __name__ == "__main__":
    main()
