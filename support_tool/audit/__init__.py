"""The audit trail: the store every action is recorded in before a request leaves, its seals,
verification and export. ("History" in the user's words; *audit* in the code, so it is not
confused with the provider's round history that clear-history removes.)
"""
