import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        prune.l1_unstructured(self.conv, "bias", amount=0.5)
    def forward(self, x):
        return self.bn(self.conv(x))
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
