"""Lightning manual optimisation with accumulation over two batches, clearing every call."""
import lightning.pytorch as pl
import torch


class LitRegressor(pl.LightningModule):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        x, y = batch
        opt.zero_grad()  # expect: GL207
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.manual_backward(loss / 2)
        if (batch_idx + 1) % 2 == 0:
            opt.step()
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
