"""../shared/peer/peer.py with its ConvNet under torch.compile (PyTorch ≥ 2), for the side-by-side
tables: the same units, the same arguments. A measuring stick only: loco never depends on Python.

The network's forward and embed are compiled (inductor, the default mode); the rest of each
unit (sampling, DSA, the losses, the optimiser) stays eager. Units whose backward needs a graph of
its own (dc_step's gradient matching: create_graph through the compiled forward) are reported by
PyTorch as unsupported or fall back to eager; the script says which in its JSON ("compiled").
  PEER=../shared/peer/peer.py python bench/peer_compiled.py bench --units dm_iter --reps 5
"""
import importlib.util
import os
import sys

import torch

path = os.environ.get("PEER", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "peer", "peer.py"))
spec = importlib.util.spec_from_file_location("peer", path)
peer = importlib.util.module_from_spec(spec)
sys.modules["peer"] = peer
spec.loader.exec_module(peer)

peer.ConvNet.forward = torch.compile(peer.ConvNet.forward)
peer.ConvNet.embed = torch.compile(peer.ConvNet.embed)

# Every JSON line says it was compiled: wrap print for the bench's emit.
_print = print


def print_marked(*a, **k):
    if a and isinstance(a[0], str) and a[0].startswith("{"):
        a = (a[0][:-1] + ', "compiled": "inductor"}',) + a[1:]
    _print(*a, **k)


peer.print = print_marked
peer.main()
