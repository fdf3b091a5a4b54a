"""Datasets: the registry (torch-free), their sources, and fast tensor batching.

Import what you need from the submodules: ``workbench.data.registry`` is safe before torch has
loaded (the app paints with it); ``workbench.data.loading`` brings in torch.
"""
