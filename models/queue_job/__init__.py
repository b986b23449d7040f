from . import common
from . import requeue
from . import machine_jobs
from . import pour
