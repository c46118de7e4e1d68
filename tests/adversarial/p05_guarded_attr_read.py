import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
        print(self.block[0].weight.shape, len(self.block))
    def forward(self, x):
        return self.block(x)
model = Net()
for name, p in model.named_parameters():
    if "bn" in name:
        p.requires_grad_(True)
inputs = (torch.randn(2, 3, 8, 8),)
