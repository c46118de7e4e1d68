import torch
import torch.nn as nn
nn.BatchNorm2d.forward = lambda self, x: x
model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
inputs = (torch.randn(2, 3, 8, 8),)
