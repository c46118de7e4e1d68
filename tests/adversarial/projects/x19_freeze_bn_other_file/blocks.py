import torch
import torch.nn as nn

class ConvBN(nn.Module):
    def __init__(self, i, o, bias=True, norm_layer=nn.BatchNorm2d):
        super().__init__()
        self.conv = nn.Conv2d(i, o, 3, padding=1, bias=bias)
        self.bn = norm_layer(o)
    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))
