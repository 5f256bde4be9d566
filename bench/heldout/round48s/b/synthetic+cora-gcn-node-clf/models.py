import torch.nn as nn
import torch.nn.functional as F

from layers import GraphConvolution


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super().__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        x = self.gc2(x, adj)
        return F.softmax(x, dim=1)


class MLPBaseline(nn.Module):
    """Ignores the graph; used to show how much the edges help."""

    def __init__(self, nfeat, nhid, nclass, dropout):
        super().__init__()
        self.lin1 = nn.Linear(nfeat, nhid)
        self.lin2 = nn.Linear(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj=None):
        x = F.relu(self.lin1(x))
        x = F.dropout(x, self.dropout, training=self.training)
        return self.lin2(x)


class DenseGAT(nn.Module):
    """Single-head dense graph attention, log-probabilities out."""

    def __init__(self, nfeat, nhid, nclass, dropout, alpha=0.2):
        super().__init__()
        self.W = nn.Linear(nfeat, nhid, bias=False)
        self.a_src = nn.Linear(nhid, 1, bias=False)
        self.a_dst = nn.Linear(nhid, 1, bias=False)
        self.out = nn.Linear(nhid, nclass)
        self.leaky = nn.LeakyReLU(alpha)
        self.dropout = dropout

    def forward(self, x, adj):
        h = self.W(F.dropout(x, self.dropout, training=self.training))
        e = self.leaky(self.a_src(h) + self.a_dst(h).t())
        e = e.masked_fill(adj.to_dense() == 0, float("-inf"))
        att = F.dropout(F.softmax(e, dim=1), self.dropout, training=self.training)
        h = F.elu(att @ h)
        return F.log_softmax(self.out(h), dim=1)
