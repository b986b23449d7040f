"""Entry point used by bin/emulator.

Loads this directory as the package ``coffee_emulator`` without putting the
repository root (an Odoo addon, with its own top-level names) or this
directory on sys.path, then runs the server.
"""
import importlib.util
import os
import sys


def _load():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path
                   if os.path.abspath(p or os.curdir) != here]
    spec = importlib.util.spec_from_file_location(
        'coffee_emulator', os.path.join(here, '__init__.py'),
        submodule_search_locations=[here])
    package = importlib.util.module_from_spec(spec)
    sys.modules['coffee_emulator'] = package
    spec.loader.exec_module(package)
    return importlib.import_module('coffee_emulator.server')


if __name__ == '__main__':
    sys.exit(_load().main())
