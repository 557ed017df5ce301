"""The messenger backend's shared code: one package per bounded context plus the plumbing they share.

Shipped to Lambda as the `messenger` layer; installed editable in development.
"""
