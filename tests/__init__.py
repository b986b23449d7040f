from . import test_backend
from . import test_import_beverages
from . import test_import_brews
from . import test_import_csv
from . import test_import_consumers
from . import test_partner_mappers
from . import test_webhooks
from . import test_brew_mappers
