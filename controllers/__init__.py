from . import main
from . import runjob
