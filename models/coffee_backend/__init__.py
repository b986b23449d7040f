from . import common
from . import webhook
