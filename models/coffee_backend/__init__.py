from . import common
from . import webhook
from . import credentials
from . import pour
from . import watchdog
from . import reachability
from . import fleet
