"""The messenger backend's shared code: a package per bounded context, plus shared plumbing.

Shipped to Lambda as the `messenger` layer; installed editable in development.
"""
