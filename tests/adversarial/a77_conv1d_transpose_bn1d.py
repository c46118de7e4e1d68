import torch
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(5, 5, 1)
        self.bn = nn.BatchNorm1d(5)
    def forward(self, x):
        y = self.conv(x).transpose(1, 2)
        return self.bn(y)
model = Net()
inputs = (torch.randn(3, 5, 5),)
