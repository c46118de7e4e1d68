import torch
import torch.nn as nn
import torch.nn.functional as F
model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.GroupNorm(1, 4), nn.Conv2d(4, 4, 3), nn.GroupNorm(4, 4))
inputs = (torch.randn(2, 3, 8, 8),)
