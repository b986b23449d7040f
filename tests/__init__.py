# The tests that run inside Odoo's registry: Odoo's own runner
# (odoo --test-enable, at -i and at -u; bin/test --odoo-runner) runs the
# modules imported here, and pytest-odoo runs them too.
#
# pytest only, not imported here:
# - they need no registry: test_protocol_1900, test_protocol_2900,
#   test_protocol_csvlog, test_protocol_signature, test_mapper_conversions
#   (plain pytest functions), test_readme, test_lint, test_odoo_runner,
#   test_harness_template;
# - they start Odoo processes (or whole stacks) of their own: test_install,
#   test_wheel, test_lifecycle, test_drill_quick, test_bench_quick,
#   test_bench_fleet_quick,
#   test_browser.
from . import test_backend
from . import test_import_beverages
from . import test_connection_errors
from . import test_import_brews
from . import test_import_csv
from . import test_import_consumers
from . import test_partner_mappers
from . import test_checkpoints
from . import test_import_locking
from . import test_webhooks
from . import test_brew_mappers
from . import test_pour_coffee
from . import test_watchdog
from . import test_export_beverages
from . import test_export_consumers
from . import test_stuck_jobs
from . import test_security
from . import test_security_secrets
from . import test_security_rights
from . import test_security_csv
from . import test_views
from . import test_fleet_ui
from . import test_webhook_limits
from . import test_integrity_errors
from . import test_reachability
from . import test_import_chain
