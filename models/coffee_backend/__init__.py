from . import common
from . import webhook
from . import pour
from . import watchdog
