# Coffee machine emulator (Coffee 1900 / Coffee 2900), standard library only.
#
# This package is part of the connector_coffee repository but it is NOT part
# of the Odoo addon: nothing here imports Odoo, and the addon never imports
# the server modules.  Run it with bin/emulator; drive it from tests with
# emulator/harness.py.
