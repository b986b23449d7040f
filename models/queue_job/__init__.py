from . import common
from . import requeue
