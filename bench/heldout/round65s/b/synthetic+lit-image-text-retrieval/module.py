import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from encoders import ImageTower, TextTower


class RetrievalModule(pl.LightningModule):
    def __init__(self, vocab_size, backbone="resnet50", embed_dim=256, lr=2e-4, temperature=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.image_tower = ImageTower(backbone, embed_dim)
        self.text_tower = TextTower(vocab_size, embed_dim)
        self.temperature = temperature

    def encode(self, images, tokens):
        img = F.normalize(self.image_tower(images), dim=-1)
        txt = F.normalize(self.text_tower(tokens), dim=-1)
        return img, txt

    def training_step(self, batch, batch_idx):
        images, tokens = batch
        img, txt = self.encode(images, tokens)
        logits = img @ txt.t() / self.temperature
        labels = torch.arange(logits.size(0), device=self.device)
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
        self.log("train/itc", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        images, tokens = batch
        img, txt = self.encode(images, tokens)
        recall1 = ((img @ txt.t()).argmax(dim=1) == torch.arange(img.size(0), device=self.device))
        self.log("val/r@1", recall1.float().mean())

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=self.hparams.lr, weight_decay=0.05)
