import torch
import torch.nn as nn
seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
class Wrap(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = seq
    def forward(self, x):
        return seq[0](x)
model = Wrap()
inputs = (torch.randn(2, 3, 8, 8),)
