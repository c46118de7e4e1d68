import torch
import torch.nn as nn
import torch.nn.functional as F
model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ChannelShuffle(2), nn.BatchNorm2d(4))
inputs = (torch.randn(2, 3, 8, 8),)
