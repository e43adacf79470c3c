"""What is set up on a desk: profiles, terminal groups, secret keys in the OS keyring, where
files live, atomic writes and logging.
"""
