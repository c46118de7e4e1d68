import torch
import torch.nn as nn
import torch.nn.functional as F
class Residual(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m
    def forward(self, x):
        return x + self.m(x)
model = nn.Sequential(nn.Conv2d(3, 4, 3), Residual(nn.BatchNorm2d(4)))
inputs = (torch.randn(2, 3, 8, 8),)
