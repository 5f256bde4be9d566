"""Stage 1: train only the head on frozen ImageNet features."""
import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint

from datamodule import HamDataModule
from lit_model import LesionClassifier

if __name__ == "__main__":
    pl.seed_everything(7)
    dm = HamDataModule("data/HAM10000_metadata.csv", "data/images", batch_size=64)
    model = LesionClassifier(num_classes=7, lr=1e-3, freeze_backbone=True)
    trainer = pl.Trainer(
        max_epochs=25,
        accelerator="auto",
        callbacks=[ModelCheckpoint(monitor="val_acc", mode="max"), EarlyStopping(monitor="val_loss", patience=5)],
        precision="16-mixed",
    )
    trainer.fit(model, datamodule=dm)
    best = trainer.checkpoint_callback.best_model_path
    print(f"best checkpoint: {best}")
    trainer.validate(model, datamodule=dm, ckpt_path="best")
