"""kNN and logistic-regression probes on the cached features."""
import argparse
import os

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import normalize


def load(feat_dir, prefix, split):
    X = np.load(os.path.join(feat_dir, f"{prefix}_{split}_X.npy"))
    y = np.load(os.path.join(feat_dir, f"{prefix}_{split}_y.npy"))
    return normalize(X), y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", default="./features")
    ap.add_argument("--k", type=int, default=20)
    args = ap.parse_args()
    for prefix in ["resnet50", "vit"]:
        Xtr, ytr = load(args.features, prefix, "trainval")
        Xte, yte = load(args.features, prefix, "test")
        knn = KNeighborsClassifier(n_neighbors=args.k, metric="cosine").fit(Xtr, ytr)
        lr = LogisticRegression(max_iter=2000, C=0.5).fit(Xtr, ytr)
        print(f"{prefix}: knn={knn.score(Xte, yte):.4f} logreg={lr.score(Xte, yte):.4f}")


if __name__ == "__main__":
    main()
