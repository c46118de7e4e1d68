import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import BatchNorm2d
class BatchNorm2d(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(c, 1, 1))
    def forward(self, x):
        return x * self.scale
model = nn.Sequential(nn.Conv2d(3, 4, 3), BatchNorm2d(4))
inputs = (torch.randn(2, 3, 8, 8),)
