"""Everything that speaks the provider's Close Session API: the contract, field validation,
signing, the signed request, the one transport, answers and outcomes. Imports nothing of ours
above it (checked by the import contract in pyproject.toml).
"""
