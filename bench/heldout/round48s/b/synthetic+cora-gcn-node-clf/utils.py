import numpy as np
import scipy.sparse as sp
import torch


def encode_onehot(labels):
    classes = sorted(set(labels))
    mapping = {c: np.identity(len(classes))[i] for i, c in enumerate(classes)}
    return np.array([mapping[c] for c in labels], dtype=np.int32)


def normalize(mx):
    rowsum = np.array(mx.sum(1))
    r_inv = np.power(rowsum, -1.0).flatten()
    r_inv[np.isinf(r_inv)] = 0.0
    return sp.diags(r_inv).dot(mx)


def sparse_to_torch(mx):
    mx = mx.tocoo().astype(np.float32)
    idx = torch.from_numpy(np.vstack((mx.row, mx.col)).astype(np.int64))
    return torch.sparse_coo_tensor(idx, torch.from_numpy(mx.data), torch.Size(mx.shape))


def load_data(path="data/cora/", dataset="cora"):
    raw = np.genfromtxt(f"{path}{dataset}.content", dtype=np.dtype(str))
    features = sp.csr_matrix(raw[:, 1:-1], dtype=np.float32)
    labels = encode_onehot(raw[:, -1])
    idx = {j: i for i, j in enumerate(np.array(raw[:, 0], dtype=np.int32))}
    edges_raw = np.genfromtxt(f"{path}{dataset}.cites", dtype=np.int32)
    edges = np.array(list(map(idx.get, edges_raw.flatten())), dtype=np.int32).reshape(edges_raw.shape)
    adj = sp.coo_matrix((np.ones(edges.shape[0]), (edges[:, 0], edges[:, 1])), shape=(labels.shape[0],) * 2)
    adj = adj + adj.T.multiply(adj.T > adj) - adj.multiply(adj.T > adj)
    adj = normalize(adj + sp.eye(adj.shape[0]))
    features = torch.FloatTensor(np.array(normalize(features).todense()))
    labels = torch.LongTensor(np.where(labels)[1])
    return (sparse_to_torch(adj), features, labels,
            torch.arange(140), torch.arange(200, 500), torch.arange(500, 1500))


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    return preds.eq(labels).double().sum().item() / len(labels)
