import torch
import torch.nn as nn
from blocks import conv_bn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = conv_bn(3, 8)
    def forward(self, x):
        return self.b(x) + self.b[0](x)
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
