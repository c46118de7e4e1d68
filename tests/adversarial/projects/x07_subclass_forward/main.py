import torch
import torch.nn as nn
from blocks import ConvBN
class Mine(ConvBN):
    def forward(self, x):
        return self.bn(self.conv(x)) + self.conv(x)
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = Mine(3, 8)
    def forward(self, x):
        return self.b(x)
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
