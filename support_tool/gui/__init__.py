"""The desktop window: a thin Qt layer over the core in ``support_tool``.

Rules kept throughout: network, keyring and disk work run on worker threads (``jobs``);
results come back through queued signals; widgets are touched only on the GUI thread.
"""
