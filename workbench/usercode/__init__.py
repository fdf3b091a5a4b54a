"""The user's own code: a model class (``model.code = "nets.py:Net"``) or a dataset class
(``data.options.code = "mydata.py:MyDataset"``) from a Python file of theirs.

``reference``: what ``FILE.py:CLASS`` names, checked without running anything. ``importing``:
the class imported in the process that trains (never in the app's), and any error of the
user's code as one line naming their file and line. ``probing``: running the user's code once in
a child process with a time limit (shapes, parameter counts, a data set's facts), so that code
that crashes, hangs, prints or calls ``sys.exit`` cannot touch the caller. ``copies``: the
copy of every code file a run imported, with its SHA-256, and the trust rule for running it
again. Nothing here imports torch: the user's file does.
"""
