"""The messenger backend's shared code: a package per bounded context, plus shared plumbing.

Shipped to Lambda as the `messenger` layer; installed editable in development. In a Lambda
execution environment, importing it holds the garbage collector until the function's init
ends (messenger.platform.collector, decision 64).
"""

from messenger.platform.collector import hold as _hold

_hold()
