import torch
import torch.nn as nn
block = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
block.insert(1, nn.ReLU())
model = block
inputs = (torch.randn(2, 3, 8, 8),)
