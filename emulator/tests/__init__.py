# Conformance suite of the emulator: plain pytest + requests over HTTP.
#
# Under pytest-odoo (bin/test) the session fixture of the plugin calls
# odoo.tests.common.get_db_name(), which only works once something has
# imported odoo.tests; when these tests run alone nothing else does, so it is
# imported here when Odoo is there.  The tests themselves never use Odoo, and
# outside an Odoo environment this does nothing.
try:
    import odoo.tests.common  # noqa: F401
except ImportError:
    pass
