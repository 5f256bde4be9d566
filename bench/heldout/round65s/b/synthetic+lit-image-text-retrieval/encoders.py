import torch
import torch.nn as nn
import torchvision


def frozen(module):
    module.requires_grad_(False)
    return module


class ImageTower(nn.Module):
    """Pretrained CNN trunk + a trainable projection into the joint space."""

    def __init__(self, backbone="resnet50", embed_dim=256):
        super().__init__()
        if backbone == "resnet50":
            trunk = torchvision.models.resnet50(weights="IMAGENET1K_V2")
            width = trunk.fc.in_features
            trunk.fc = nn.Identity()
        elif backbone == "efficientnet_b0":
            trunk = torchvision.models.efficientnet_b0(weights="IMAGENET1K_V1")
            width = trunk.classifier[1].in_features
            trunk.classifier = nn.Identity()
        else:
            raise ValueError(backbone)
        self.trunk = frozen(trunk)
        self.proj = nn.Sequential(nn.Linear(width, 1024), nn.GELU(), nn.Linear(1024, embed_dim))

    def forward(self, images):
        return self.proj(self.trunk(images))


class TextTower(nn.Module):
    """GloVe-initialised bag of GRUs; the word table is kept fixed."""

    def __init__(self, vocab_size, embed_dim=256, word_dim=300, glove=None):
        super().__init__()
        self.words = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        if glove is not None:
            self.words.weight.data.copy_(glove)
        self.words = frozen(self.words)
        self.gru = nn.GRU(word_dim, embed_dim, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * embed_dim, embed_dim)

    def forward(self, tokens):
        h, _ = self.gru(self.words(tokens))
        return self.out(h.mean(dim=1))
