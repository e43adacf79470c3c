"""The use cases, shared by the window and the command line: one close, a batch, terminal lists,
and the runtime that wires profiles, secrets, audit log and transport together.
"""
