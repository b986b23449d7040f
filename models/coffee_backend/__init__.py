from . import common
from . import webhook
from . import credentials
from . import pour
from . import watchdog
from . import fleet
from . import fleet_fields
