# Copyright 2026 Coffee Connector Authors
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The addon's wheel, as OCA builds theirs (setuptools-odoo).

setuptools-odoo takes the name, version and dependencies from the
manifest; MANIFEST.in leaves the development tooling out of the package
data. The tests that drive that tooling are Python modules, which
MANIFEST.in cannot leave out: build_py does, below.
"""
import setuptools
from setuptools.command.build_py import build_py

TESTS = 'odoo.addons.connector_coffee.tests'
# tests that run bin/, dev/ or browser/ scripts, absent from the wheel
TOOLING_TESTS = {
    'test_bench_fleet_quick', 'test_bench_quick', 'test_browser',
    'test_drill_quick', 'test_install', 'test_lint', 'test_odoo_runner',
    'test_readme', 'test_wheel',
}


class BuildPyWithoutTooling(build_py):

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [(pkg, module, path) for pkg, module, path in modules
                if not (pkg == TESTS and module in TOOLING_TESTS)]


setuptools.setup(
    setup_requires=['setuptools-odoo'],
    odoo_addon=True,
    cmdclass={'build_py': BuildPyWithoutTooling},
)
