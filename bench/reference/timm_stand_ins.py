"""Stand-ins for the three timm helpers MobileSAM's tiny_vit_sam.py imports (DropPath, to_2tuple, trunc_normal_, and
register_model), because Debian 12 does not package timm. Equal to timm's at inference: DropPath is the identity with
drop_path_rate 0. Used by segment_anything_timings.py and tools/fixtures/mobile_sam_predictor_case.py."""
import sys
import types

from torch import nn


def install():
    layers = types.ModuleType("timm.models.layers")

    class DropPath(nn.Module):
        def __init__(self, drop_prob=None):
            super().__init__()

        def forward(self, x):
            return x

    layers.DropPath = DropPath
    layers.to_2tuple = lambda x: tuple(x) if isinstance(x, (tuple, list)) else (x, x)
    layers.trunc_normal_ = nn.init.trunc_normal_
    registry = types.ModuleType("timm.models.registry")
    registry.register_model = lambda fn: fn
    sys.modules.update({"timm": types.ModuleType("timm"), "timm.models": types.ModuleType("timm.models"),
                        "timm.models.layers": layers, "timm.models.registry": registry})
