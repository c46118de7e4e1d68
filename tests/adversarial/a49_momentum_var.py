import torch
import torch.nn as nn
M = 0.0
model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, momentum=M))
inputs = (torch.randn(2, 3, 8, 8),)
