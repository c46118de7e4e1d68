import blocks
import torch
def fwd(self, x):
    return self.conv(x)
blocks.ConvBN.forward = fwd
