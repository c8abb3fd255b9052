"""Cost of float64 inference in the torch embedders (one thread).

Embedders train in float32 and infer on a float64 copy of the network, so that a row's
embedding does not depend on the rows embedded with it. This prints, on mfeat with 50%
of modality slots missing, the time of ``transform`` against a float32 forward of the
same trained network (median ratio of 5 interleaved runs, with the largest difference
between the two), and the float64 transform of all 2,000 rows against one training
epoch.

Run: ``.venv/bin/python benchmarks/bench_inference_precision.py``
"""
import numpy as np
import torch
from common import load_masked, median_time

from skmm.embed import COrALEmbedder, OVAIBEmbedder


def float32_forward(est, X):
    """The trained float32 network on ``X`` (what transform did before)."""
    module = est.module_.eval()
    with torch.inference_mode():
        data = est._to_tensors(X, "cpu")
        return est.encode(module, data.tensors, data.observed).double().numpy()


def main():
    torch.set_num_threads(1)
    X = load_masked("mfeat", 0.5).X_missing
    for cls in (OVAIBEmbedder, COrALEmbedder):
        est = cls(max_epochs=3, random_state=0).fit(X)
        ratios = []
        for _ in range(5):  # interleaved
            new, _ = median_time(lambda: est.transform(X))
            old, _ = median_time(lambda: float32_forward(est, X))
            ratios.append(new / old)
        seconds, out = median_time(lambda: est.transform(X))
        per_epoch = seconds / np.median([h["dur"] for h in est.history_])
        diff = np.abs(out - float32_forward(est, X)).max()
        print(f"{cls.__name__}: float64 / float32 transform time {np.median(ratios):.2f}x "
              f"(largest difference {diff:.1e}); float64 transform of {X.n_samples} rows "
              f"= {per_epoch:.2f} training epochs")


if __name__ == "__main__":
    main()
