"""Stage 2: short warm-up with the backbone frozen, then unfreeze it (Lightning BaseFinetuning)."""
import pytorch_lightning as pl
from pytorch_lightning.callbacks import BaseFinetuning

from datamodule import HamDataModule
from lit_model import LesionClassifier


class WarmupThenUnfreeze(BaseFinetuning):
    def __init__(self, unfreeze_at_epoch=2):
        super().__init__()
        self._unfreeze_at_epoch = unfreeze_at_epoch

    def freeze_before_training(self, pl_module):
        self.freeze(pl_module.backbone)

    def finetune_function(self, pl_module, current_epoch, optimizer):
        if current_epoch == self._unfreeze_at_epoch:
            self.unfreeze_and_add_param_group(
                modules=pl_module.backbone,
                optimizer=optimizer,
                lr=1e-4,
                initial_denom_lr=10,
            )


if __name__ == "__main__":
    dm = HamDataModule("data/HAM10000_metadata.csv", "data/images", batch_size=48)
    model = LesionClassifier(num_classes=7, lr=3e-4, freeze_backbone=False)
    trainer = pl.Trainer(max_epochs=20, accelerator="auto", callbacks=[WarmupThenUnfreeze(unfreeze_at_epoch=2)])
    trainer.fit(model, datamodule=dm)
