import torch
import torch.nn.functional as F
from accelerate import Accelerator


def train(model, train_loader, epochs, lr, loss_fn="ce", grad_accum=2):
    accelerator = Accelerator(gradient_accumulation_steps=grad_accum, mixed_precision="fp16")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    for epoch in range(epochs):
        model.train()
        for step, (images, labels) in enumerate(train_loader):
            with accelerator.accumulate(model):
                out = model(images)
                if loss_fn == "nll":
                    loss = F.nll_loss(out, labels)
                else:
                    loss = F.cross_entropy(out, labels)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
            if step % 200 == 0:
                accelerator.print(f"epoch {epoch} step {step} loss {loss.item():.4f}")
    return accelerator.unwrap_model(model)
