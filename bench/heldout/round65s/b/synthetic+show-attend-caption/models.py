import torch
import torch.nn as nn
import torchvision


class Encoder(nn.Module):
    """CNN encoder: ImageNet ResNet-101 without its pooling and classification layers."""

    def __init__(self, encoded_image_size=14):
        super().__init__()
        resnet = torchvision.models.resnet101(weights="IMAGENET1K_V1")
        self.resnet = nn.Sequential(*list(resnet.children())[:-2])
        self.adaptive_pool = nn.AdaptiveAvgPool2d((encoded_image_size, encoded_image_size))
        self.fine_tune()

    def forward(self, images):
        out = self.adaptive_pool(self.resnet(images))
        return out.permute(0, 2, 3, 1)

    def fine_tune(self, fine_tune=True):
        """Freeze everything, then (optionally) re-enable convolutional blocks 2 through 4."""
        for p in self.resnet.parameters():
            p.requires_grad = False
        for c in list(self.resnet.children())[5:]:
            for p in c.parameters():
                p.requires_grad = fine_tune


class Attention(nn.Module):
    def __init__(self, encoder_dim, decoder_dim, attention_dim):
        super().__init__()
        self.encoder_att = nn.Linear(encoder_dim, attention_dim)
        self.decoder_att = nn.Linear(decoder_dim, attention_dim)
        self.full_att = nn.Linear(attention_dim, 1)

    def forward(self, encoder_out, decoder_hidden):
        att = self.full_att(torch.relu(self.encoder_att(encoder_out)
                                       + self.decoder_att(decoder_hidden).unsqueeze(1))).squeeze(2)
        alpha = torch.softmax(att, dim=1)
        return (encoder_out * alpha.unsqueeze(2)).sum(dim=1), alpha


class DecoderWithAttention(nn.Module):
    def __init__(self, vocab_size, embed_dim=512, decoder_dim=512, attention_dim=512, encoder_dim=2048):
        super().__init__()
        self.attention = Attention(encoder_dim, decoder_dim, attention_dim)
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.decode_step = nn.LSTMCell(embed_dim + encoder_dim, decoder_dim)
        self.init_h = nn.Linear(encoder_dim, decoder_dim)
        self.init_c = nn.Linear(encoder_dim, decoder_dim)
        self.fc = nn.Linear(decoder_dim, vocab_size)
        self.dropout = nn.Dropout(0.5)

    def forward(self, encoder_out, captions, lengths):
        b = encoder_out.size(0)
        encoder_out = encoder_out.view(b, -1, encoder_out.size(-1))
        mean = encoder_out.mean(dim=1)
        h, c = self.init_h(mean), self.init_c(mean)
        emb = self.embedding(captions)
        steps = max(lengths) - 1
        preds = encoder_out.new_zeros(b, steps, self.fc.out_features)
        for t in range(steps):
            ctx, _ = self.attention(encoder_out, h)
            h, c = self.decode_step(torch.cat([emb[:, t], ctx], dim=1), (h, c))
            preds[:, t] = self.fc(self.dropout(h))
        return preds
