# Included by every layer's and function's Makefile (run by `sam build`, BuildMethod: makefile).
# Lambda cannot write bytecode to its read-only /opt and /var/task, so a package shipped without
# `.pyc` compiles every module on every cold start (1.0-1.9 s instead of 0.26-0.49 s per function).
# COMPILE_BYTECODE compiles a built tree with the interpreter of the template's runtime (not the
# build machine's python3), as unchecked-hash pycs: the runtime loads them without comparing
# source mtimes (which zipping and layer extraction do not preserve) and never rewrites them.
#
# SAM runs these Makefiles in a scratch copy of the folder but passes the source Makefile's path,
# so the repository is found from MAKEFILE_LIST. No runtime interpreter = the build fails.
REPO_ROOT := $(realpath $(dir $(lastword $(MAKEFILE_LIST)))/..)
# The runtime of template.yaml (Globals.Function.Runtime, e.g. python3.12) -> 3.12.
PY_VERSION ?= $(shell sed -n 's/^ *Runtime: *python\([0-9][0-9.]*\) *$$/\1/p' "$(REPO_ROOT)/template.yaml" | sort -u)
# The first candidate that really is that version: python3.12 on PATH, then pyenv's, then system.
RUNTIME_PYTHON ?= $(firstword $(foreach c,python$(PY_VERSION) \
	$(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(PY_VERSION).*/bin/python$(PY_VERSION)) \
	/usr/bin/python$(PY_VERSION) /usr/local/bin/python$(PY_VERSION),\
	$(shell "$(c)" -c 'import sys; print(sys.version_info[:2] == tuple(map(int, "$(PY_VERSION)".split("."))))' 2>/dev/null | grep -qx True && echo "$(c)")))

# $(call COMPILE_BYTECODE,<built dir>,<its path at run time>): e.g. python -> /opt/python.
define COMPILE_BYTECODE
	@if [ -z "$(RUNTIME_PYTHON)" ]; then \
	  echo "error: no python$(PY_VERSION) interpreter (the template's runtime) to compile bytecode with;" \
	    "install it or pass RUNTIME_PYTHON=/path/to/python$(PY_VERSION)" >&2; exit 1; fi
	"$(RUNTIME_PYTHON)" -m compileall -q -j 0 --invalidation-mode unchecked-hash \
	  -s "$(1)" -p "$(2)" "$(1)"
endef

# `make -s -f layers/bytecode.mk runtime-python`: the interpreter the build compiles with.
.PHONY: runtime-python
runtime-python:
	@test -n "$(RUNTIME_PYTHON)" && echo "$(RUNTIME_PYTHON)"
