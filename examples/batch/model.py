"""A stand-in for a model on one GPU, served with dynamic batching (owt.batch).

The "model" takes a list of texts and scores them; one call costs 40 ms however many texts
it gets (one forward pass), and calls are serialised by a lock, as on one GPU. Without
batching, 32 concurrent clients queue for the lock one text at a time; with it, their
texts share forward passes. Send it as code:

    ./examples/batch/batch.sh http://127.0.0.1:9876 32
"""

import threading
import time

import owt

_gpu = threading.Lock()  # one device: one forward pass at a time


def forward(texts):
    """One forward pass over a batch: 40 ms, GIL released while it "computes"."""
    with _gpu:
        time.sleep(0.040)
        return [len(t) / 10.0 for t in texts]


@owt.batch(max_size=32, max_wait_ms=10)
def score(texts):
    return forward(texts)


def run(text: str = "", batched: bool = True, stats: bool = False):
    if stats:
        return score.stats()
    value = score(text) if batched else forward([text])[0]
    return {"text": text, "score": value}
