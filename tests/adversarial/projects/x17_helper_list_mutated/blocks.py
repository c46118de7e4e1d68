import torch
import torch.nn as nn
def conv_bn(i, o, bias=True):
    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=bias), nn.BatchNorm2d(o))
