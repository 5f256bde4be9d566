import torch
import torch.nn as nn
import torchvision


class Encoder(nn.Module):
    """Spatial CNN features for soft attention (14x14 grid)."""

    def __init__(self, encoded_image_size=14):
        super().__init__()
        cnn = torchvision.models.resnet50(weights="IMAGENET1K_V1")
        self.cnn = nn.Sequential(*list(cnn.children())[:-2])
        self.pool = nn.AdaptiveAvgPool2d((encoded_image_size, encoded_image_size))

    def forward(self, images):
        with torch.no_grad():
            fmap = self.cnn(images)
        fmap = self.pool(fmap)
        return fmap.permute(0, 2, 3, 1)


class Attention(nn.Module):
    def __init__(self, enc_dim, dec_dim, att_dim):
        super().__init__()
        self.enc_att = nn.Linear(enc_dim, att_dim)
        self.dec_att = nn.Linear(dec_dim, att_dim)
        self.full_att = nn.Linear(att_dim, 1)

    def forward(self, enc_out, dec_hidden):
        a = self.full_att(torch.tanh(self.enc_att(enc_out) + self.dec_att(dec_hidden).unsqueeze(1)))
        alpha = torch.softmax(a.squeeze(2), dim=1)
        return (enc_out * alpha.unsqueeze(2)).sum(1), alpha


class AttnDecoder(nn.Module):
    def __init__(self, vocab_size, embed_dim=256, dec_dim=512, enc_dim=2048, att_dim=256):
        super().__init__()
        self.attention = Attention(enc_dim, dec_dim, att_dim)
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.cell = nn.LSTMCell(embed_dim + enc_dim, dec_dim)
        self.init_h = nn.Linear(enc_dim, dec_dim)
        self.init_c = nn.Linear(enc_dim, dec_dim)
        self.fc = nn.Linear(dec_dim, vocab_size)

    def forward(self, enc_out, captions):
        b = enc_out.size(0)
        enc_out = enc_out.reshape(b, -1, enc_out.size(-1))
        mean = enc_out.mean(1)
        h, c = self.init_h(mean), self.init_c(mean)
        emb = self.embedding(captions)
        logits = []
        for t in range(captions.size(1) - 1):
            ctx, _ = self.attention(enc_out, h)
            h, c = self.cell(torch.cat([emb[:, t], ctx], 1), (h, c))
            logits.append(self.fc(h))
        return torch.stack(logits, 1)
