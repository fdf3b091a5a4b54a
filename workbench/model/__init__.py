"""Models as layer lists: the catalog, shape inference, the torch builder and the code view.

Deliberately empty: ``catalog``, ``shapes`` and ``codegen`` must import without torch, so this
package may not pull in ``build`` (which does).
"""
