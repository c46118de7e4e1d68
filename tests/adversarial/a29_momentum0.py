import torch
import torch.nn as nn
model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, momentum=0.0))
inputs = (torch.randn(2, 3, 8, 8),)
