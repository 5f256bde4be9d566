from lightning.pytorch.callbacks import BaseFinetuning


class BackboneFreezeUnfreeze(BaseFinetuning):
    """Keep the backbone frozen (BatchNorm layers stay trainable) until an epoch."""

    def __init__(self, unfreeze_at_epoch=10):
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
            )


def count_frozen(module):
    return sum(1 for p in module.parameters() if not p.requires_grad)
