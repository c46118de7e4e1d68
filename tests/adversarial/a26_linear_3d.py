import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 5)
        self.bn = nn.BatchNorm1d(5)
    def forward(self, x):
        return self.bn(self.fc(x))
model = Net()
inputs = (torch.randn(4, 5, 5),)
