import torch
import torch.nn as nn
import torchvision.models as models
from torch.nn.utils.rnn import pack_padded_sequence


class EncoderCNN(nn.Module):
    def __init__(self, embed_size):
        super().__init__()
        resnet = models.resnet101(weights=models.ResNet101_Weights.DEFAULT)
        for param in resnet.parameters():
            param.requires_grad_(False)
        layers = list(resnet.children())[:-1]
        self.resnet = nn.Sequential(*layers)
        self.embed = nn.Linear(resnet.fc.in_features, embed_size)
        self.bn = nn.BatchNorm1d(embed_size, momentum=0.01)

    def forward(self, images):
        feats = self.resnet(images).flatten(1)
        return self.bn(self.embed(feats))


class DecoderRNN(nn.Module):
    def __init__(self, embed_size, hidden_size, vocab_size, num_layers=1, max_len=20):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, num_layers, batch_first=True)
        self.linear = nn.Linear(hidden_size, vocab_size)
        self.max_len = max_len

    def forward(self, features, captions, lengths):
        emb = self.embed(captions)
        emb = torch.cat((features.unsqueeze(1), emb), 1)
        packed = pack_padded_sequence(emb, lengths, batch_first=True)
        hiddens, _ = self.lstm(packed)
        return self.linear(hiddens[0])

    def sample(self, features, states=None):
        ids = []
        inputs = features.unsqueeze(1)
        for _ in range(self.max_len):
            h, states = self.lstm(inputs, states)
            out = self.linear(h.squeeze(1))
            pred = out.argmax(1)
            ids.append(pred)
            inputs = self.embed(pred).unsqueeze(1)
        return torch.stack(ids, 1)
