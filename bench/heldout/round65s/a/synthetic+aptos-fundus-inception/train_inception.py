import torch

from data import aptos_loaders
from trainer import FundusTrainer, inception_head_only

if __name__ == "__main__":
    loaders = aptos_loaders("../input/aptos2019-blindness-detection", size=299, batch_size=32)
    model = inception_head_only(num_classes=5)
    trainer = FundusTrainer(model, loaders, lr=1e-3)
    trainer.fit(epochs=10)
    torch.save(trainer.model.state_dict(), "inception_aptos_head.pt")

    # quick hold-out check on the validation split
    trainer.model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loaders["valid"]:
            pred = trainer.model(x.to(trainer.device)).argmax(1).cpu()
            correct += (pred == y).sum().item()
            total += y.numel()
    print(f"valid acc {correct / max(total, 1):.4f}")
