"""Where datasets come from: one module per family, each returning plain numpy arrays.

Sources know nothing of torch tensors, devices or batching, so the registry can describe a
dataset and the app can preview it before torch has loaded. torchvision_sets is the exception:
it imports torchvision inside its functions, never at module level.
"""
