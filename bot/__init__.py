"""The task bot. Entry points and wiring at this root (``cli``, ``__main__``, ``app``,
``server``, ``settings``, ``logs``, ``demo``, ``command_route``); below them, each layer using
only those under it: the features (``sync``, ``home``), the ``flows``, the adapters (``slack``
above ``oracle``), the pure ``domain``; ``journal`` and ``standins`` are infrastructure."""
