"""GraSP (Wang et al. 2020, "Picking winning tickets before training by preserving gradient flow"), as a
zero-cost proxy (Abdelfattah et al. 2021).

score = sum over Conv2d/Linear weights W of -W * (H g), g = dL/dW of the cross-entropy of one minibatch, H
its Hessian (H g by double backward). zero-cost-nas negates GraSP's pruning score, so higher = better.
Network mode: train, float32. With a split batch, g is the whole-batch gradient (zero-cost-nas keeps only
the last chunk's, a bug).
"""

from harness.proxies import Passes, Proxy, layer_sum


def grasp(passes: Passes) -> float:
    return layer_sum(-m.weight.detach() * hg for m, hg in zip(passes.layers, passes["hessian_grad"]))


PROXY = Proxy("grasp", grasp, needs={"grad", "hessian_grad"})
